import KakehashiShared

/// One pull page (`ChangeLogStore.pull`): reads the page's rows and the device's bookkeeping,
/// lets `PullPlanner` decide what the device may receive, must purge and must be back-filled
/// with, reads the back-fill, and writes the levels it hands out.
///
/// The back-fill is the records the device gains access to, up to the request's cursor (what
/// comes after arrives in the stream). A client that asked for states (`PullRequest.states`)
/// receives each as its current merged state, as it may see it now (`PullPlanner.visibleState`,
/// as a bootstrap), with a history cursor scoped to it (`PullPage.gained`) for the history the
/// state stands for; an older client receives the history itself, as changes.
///
/// Rounds: the device, the log head and the page's rows; the states and recorded levels of the
/// page's cases; when the viewer's own directory record changed, every case in chunks (states,
/// then their recorded levels); the back-fill: histories, or states (the gained records' and
/// the ids of the gained cases' events, then those events').
struct PullOperation: LogOperation {
    let viewer: AccessPolicy.Viewer
    let cursor: PullCursor
    let allowFullReconcile: Bool
    /// Whether the client takes gained records as states (`PullRequest.states`).
    let asksStates: Bool
    /// Whether the page goes out as JSON (`PullRequest.json`).
    let json: Bool
    let limit: Int

    private let planner: PullPlanner
    private var bookkeeping: PullBookkeeping
    private var phase = Phase.page
    private var rows: [LogRow] = []
    private var hasMore = false
    private var pageCases = Set<String>()
    private var plan = PullPlanner.Reconciliation()
    private var fullReconcile = false
    /// The chunk of a full reconciliation whose recorded levels are being read.
    private var chunk: [String: AccessPolicy.CaseFacts] = [:]
    /// The last case id of the last chunk read, and whether more may follow it.
    private var chunkEnd: (after: String, more: Bool) = ("", false)
    /// The back-fill histories being read, each with whether only a stub's fields go out.
    private var backfill: [(read: LogReads.HistoryRead, stubOnly: Bool)] = []
    /// The gained records' states read so far (cases, then events).
    private var gainedStates: [RecordRef: RecordState] = [:]
    /// The events of the cases gained with full access, by case.
    private var gainedEvents: [String: [String]] = [:]

    private enum Phase {
        case page, pageCases, chunk, chunkLevels, loggedCases, histories, gainedRecords, gainedEvents
    }

    init(
        device: DeviceID, viewer: AccessPolicy.Viewer, cursor: PullCursor, acknowledged: PullCursor?,
        allowFullReconcile: Bool, asksStates: Bool = false, json: Bool = true, limit: Int
    ) {
        self.viewer = viewer
        self.cursor = cursor
        bookkeeping = PullBookkeeping(device: device, cursor: cursor, acknowledged: acknowledged)
        self.allowFullReconcile = allowFullReconcile
        self.asksStates = asksStates
        self.json = json
        self.limit = limit
        planner = PullPlanner(viewer: viewer)
    }

    /// Whether the page hands out levels or forgets bookkeeping: exactly when `writes` is not
    /// empty. Known once the page's cases are reconciled, before the back-fill is read.
    var willWrite: Bool { bookkeeping.forget || !plan.updates.isEmpty }

    mutating func start() throws -> LogStep<PullPage> {
        var reads = bookkeeping.firstReads()
        reads.rows = LogReads.RowsRead(after: cursor.seq, limit: limit + 1, text: json)
        phase = .page
        return .read(reads)
    }

    mutating func resume(with facts: LogFacts) throws -> LogStep<PullPage> {
        switch phase {
        case .page:
            try bookkeeping.begin(with: facts)
            rows = facts.rows
            hasMore = rows.count > limit
            if hasMore { rows.removeLast() }
            pageCases = PullPlanner.cases(in: rows)
            guard pageCases.isEmpty else {
                var reads = LogReads()
                reads.caseFacts = pageCases
                reads.recordedLevels = bookkeeping.levels(of: pageCases.sorted())
                phase = .pageCases
                return .read(reads)
            }
            return try reconcilePage(facts: [:], recorded: [:])
        case .pageCases:
            return try reconcilePage(facts: facts.caseFacts, recorded: facts.recordedLevels)
        case .chunk:
            chunk = [:]
            for (id, caseFacts) in facts.caseChunk where !pageCases.contains(id) { chunk[id] = caseFacts }
            chunkEnd = (facts.caseChunk.last?.id ?? chunkEnd.after, facts.caseChunk.count == PullPlanner.reconcileChunk)
            guard chunk.isEmpty else {
                var reads = LogReads()
                reads.recordedLevels = bookkeeping.levels(of: chunk.keys.sorted())
                phase = .chunkLevels
                return .read(reads)
            }
            return nextChunk()
        case .chunkLevels:
            plan.absorb(planner.reconcile(cases: Set(chunk.keys), facts: chunk, recorded: facts.recordedLevels))
            return nextChunk()
        case .loggedCases:
            plan.backfill = plan.backfill.filter { facts.loggedCases.contains($0.key) }
            return readBackfill()
        case .histories:
            return .finish(bookkeeping.writes(handingOut: plan.updates), page(backfilled: facts.histories))
        case .gainedRecords:
            gainedStates = facts.states
            gainedEvents = facts.caseEvents
            let events = Set(gainedEvents.values.joined()).subtracting(plan.eventBackfill)
            guard events.isEmpty else {
                var reads = LogReads()
                reads.states = Set(events.map { RecordRef(entity: .event, record: $0) })
                phase = .gainedEvents
                return .read(reads)
            }
            return .finish(bookkeeping.writes(handingOut: plan.updates), gainedPage())
        case .gainedEvents:
            gainedStates.merge(facts.states) { first, _ in first }
            return .finish(bookkeeping.writes(handingOut: plan.updates), gainedPage())
        }
    }

    /// Reconciles the page's cases, then (when the viewer's directory record changed) every case.
    private mutating func reconcilePage(
        facts: [String: AccessPolicy.CaseFacts], recorded: [String: AccessPolicy.Access]
    ) throws -> LogStep<PullPage> {
        plan = planner.reconcile(page: rows, facts: facts, recorded: recorded)
        fullReconcile = planner.needsFullReconcile(rows, cursor: cursor)
        guard fullReconcile else { return checkBackfill() }
        guard allowFullReconcile else { throw Self.reconcileThrottled }
        chunkEnd = ("", true)
        return nextChunk()
    }

    /// Reads the next chunk of a full reconciliation, or goes on to the back-fill after the last.
    private mutating func nextChunk() -> LogStep<PullPage> {
        guard chunkEnd.more else { return checkBackfill() }
        var reads = LogReads()
        reads.caseChunk = LogReads.ChunkRead(after: chunkEnd.after, limit: PullPlanner.reconcileChunk)
        phase = .chunk
        return .read(reads)
    }

    /// Keeps in the back-fill only what has history up to the request's cursor: a case first
    /// logged after it (new since the device's last pull, or every case of a pull from the
    /// start) arrives whole in the stream, filtered by the level recorded now. Without this, a
    /// pull from the start handed out every case and event it met as a gained state on top of
    /// its changes, each with a history cursor to download later.
    private mutating func checkBackfill() -> LogStep<PullPage> {
        guard cursor.seq > 0 else {
            plan.backfill = [:]
            plan.eventBackfill = []
            return readBackfill()
        }
        guard !plan.backfill.isEmpty else { return readBackfill() }
        var reads = LogReads()
        reads.loggedCases = LogReads.LoggedCasesRead(cases: plan.backfill.keys.sorted(), upTo: cursor.seq)
        phase = .loggedCases
        return .read(reads)
    }

    /// Reads the history of every case and event the device is back-filled with, up to the
    /// request's cursor (what comes after arrives in the stream, filtered by the current level).
    private mutating func readBackfill() -> LogStep<PullPage> {
        if asksStates, !plan.backfill.isEmpty || !plan.eventBackfill.isEmpty { return readGained() }
        backfill = plan.backfill.sorted(by: { $0.key < $1.key }).map { caseID, level in
            level == .full
                ? (LogReads.HistoryRead(scope: .caseWithEvents(caseID), upTo: cursor.seq), false)
                : (
                    LogReads.HistoryRead(scope: .record(RecordRef(entity: .case, record: caseID)), upTo: cursor.seq),
                    true
                )
        }
        backfill += plan.eventBackfill.map {
            (LogReads.HistoryRead(scope: .record(RecordRef(entity: .event, record: $0)), upTo: cursor.seq), false)
        }
        guard backfill.isEmpty else {
            var reads = LogReads()
            reads.histories = backfill.map(\.read)
            phase = .histories
            return .read(reads)
        }
        return .finish(bookkeeping.writes(handingOut: plan.updates), page(backfilled: []))
    }

    /// Reads the current states of the records gained (`plan.backfill`, `plan.eventBackfill`),
    /// and which events are logged under the cases gained with full access.
    private mutating func readGained() -> LogStep<PullPage> {
        var reads = LogReads()
        reads.states = Set(
            plan.backfill.keys.map { RecordRef(entity: .case, record: $0) }
                + plan.eventBackfill.map { RecordRef(entity: .event, record: $0) })
        reads.eventCases = plan.backfill.filter { $0.value == .full }.keys.sorted()
        phase = .gainedRecords
        return .read(reads)
    }

    /// A page for a client that takes gained records as states: their states as the device may
    /// see them now, each gained case and moved event named with its scoped history cursor, then
    /// the page's rows the device may receive now.
    ///
    /// An event goes out with a case gained with full access when its state says it is in that
    /// case (the log files every change of an event under the case it is in now); a moved event
    /// goes out when the case it is in now is fully readable (`PullPlanner.reconcile(page:…)`).
    private func gainedPage() -> PullPage {
        var states: [RecordState] = []
        var gained: [GainedRecord] = []
        var events: [RecordState] = []
        for (caseID, level) in plan.backfill.sorted(by: { $0.key < $1.key }) {
            let ref = RecordRef(entity: .case, record: caseID)
            guard let state = gainedStates[ref], let visible = PullPlanner.visibleState(state, access: level)
            else { continue }
            states.append(visible)
            gained.append(GainedRecord(record: ref, history: HistoryCursor(after: 0, upTo: cursor.seq, scope: ref)))
            guard level == .full else { continue }
            for event in gainedEvents[caseID] ?? [] {
                guard let state = gainedStates[RecordRef(entity: .event, record: event)],
                    state.value("case").stringValue == caseID
                else { continue }
                events.append(state)
            }
        }
        for event in plan.eventBackfill.sorted() {
            let ref = RecordRef(entity: .event, record: event)
            guard let state = gainedStates[ref], let caseID = state.value("case").stringValue,
                let visible = PullPlanner.visibleState(state, access: plan.current[caseID])
            else { continue }
            events.append(visible)
            gained.append(GainedRecord(record: ref, history: HistoryCursor(after: 0, upTo: cursor.seq, scope: ref)))
        }
        var page = PullPage(
            stored: rows.filter { PullPlanner.visible($0, access: plan.current) }.map(\.change),
            purges: plan.purgedRecords,
            nextCursor: PullCursor(
                seq: rows.last?.seq ?? cursor.seq, generation: bookkeeping.nextGeneration(handingOut: plan.updates)),
            hasMore: hasMore,
            fullReconcile: fullReconcile)
        page.states = (states + events).map(SentState.init)
        page.gained = gained
        return page
    }

    /// The page: the back-fill (a stub's only with the fields a stub receives), then the page's
    /// rows the device may receive now.
    private func page(backfilled histories: [[LoggedChange]]) -> PullPage {
        var changes: [StoredChange] = []
        for ((_, stubOnly), history) in zip(backfill, histories) {
            for logged in history where !stubOnly || AccessPolicy.mayReceive(caseField: logged.field, with: .stub) {
                changes.append(logged.change)
            }
        }
        changes += rows.filter { PullPlanner.visible($0, access: plan.current) }.map(\.change)
        return PullPage(
            stored: changes, purges: plan.purgedRecords,
            nextCursor: PullCursor(
                seq: rows.last?.seq ?? cursor.seq, generation: bookkeeping.nextGeneration(handingOut: plan.updates)),
            hasMore: hasMore,
            fullReconcile: fullReconcile)
    }
}

extension PullOperation {
    /// The operation that answers a pull (`ChangeLogStore.pull`): a bootstrap page when the
    /// cursor asks for states (`PullCursor.bootstraps`), else a page of the change stream.
    static func answering(_ request: PullRequest) -> any LogOperation<PullPage> & Sendable {
        if request.cursor.bootstraps(askingStates: request.states) {
            return BootstrapOperation(
                device: request.device, viewer: request.viewer, cursor: request.cursor,
                acknowledged: request.acknowledged, limit: request.limit)
        }
        return PullOperation(
            device: request.device, viewer: request.viewer, cursor: request.cursor, acknowledged: request.acknowledged,
            allowFullReconcile: request.allowFullReconcile, asksStates: request.states, json: request.json,
            limit: request.limit)
    }

    /// `triesReadOnlyFirst` of the operation `answering` makes for `cursor`, before it is made.
    static func triesReadOnlyFirst(cursor: PullCursor, states: Bool) -> Bool {
        cursor.bootstraps(askingStates: states) ? BootstrapOperation.triesReadOnlyFirst(cursor: cursor) : true
    }

    /// The error for a page that needs a full reconciliation that `ReconcileGate` does not allow
    /// now.
    static let reconcileThrottled = KakehashiError(
        .unavailable, field: "reconcile",
        "this device had every case compared again a moment ago; pull again in a few seconds")

    /// The error for a cursor the log never issued to this device.
    static func unknownCursor(_ cursor: PullCursor) -> KakehashiError {
        .invalid(
            "after", "cursor \(cursor) was not issued to this device; pull again from \"0\" or the last nextCursor")
    }
}
