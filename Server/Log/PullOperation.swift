import KakehashiShared

/// One pull page (`ChangeLogStore.pull`): reads the page's rows and the device's bookkeeping,
/// lets `PullPlanner` decide what the device may receive, must purge and must be back-filled
/// with, reads the back-fill, and writes the levels it hands out.
///
/// Rounds: the device, the log head and the page's rows; the states and recorded levels of the
/// page's cases; when the viewer's own directory record changed, every case in chunks (states,
/// then their recorded levels); the back-fill histories.
struct PullOperation: LogOperation {
    let device: DeviceID
    let viewer: AccessPolicy.Viewer
    let cursor: PullCursor
    /// The newest generation the client has stored (`ChangeLogStore.pull`'s `acknowledged`).
    let kept: Int64
    let allowFullReconcile: Bool
    let limit: Int

    private let planner: PullPlanner
    private var phase = Phase.page
    private var generation: Int64 = 0
    private var forget = false
    private var rows: [LogRow] = []
    private var hasMore = false
    private var pageCases = Set<String>()
    private var plan = PullPlanner.Reconciliation()
    private var fullReconcile = false
    /// The chunk of a full reconciliation whose recorded levels are being read.
    private var chunk: [String: RecordState] = [:]
    /// The last case id of the last chunk read, and whether more may follow it.
    private var chunkEnd: (after: String, more: Bool) = ("", false)
    /// The back-fill histories being read, each with whether only a stub's fields go out.
    private var backfill: [(read: LogReads.HistoryRead, stubOnly: Bool)] = []

    private enum Phase { case page, pageCases, chunk, chunkLevels, histories }

    init(
        device: DeviceID, viewer: AccessPolicy.Viewer, cursor: PullCursor, acknowledged: PullCursor?,
        allowFullReconcile: Bool, limit: Int
    ) {
        self.device = device
        self.viewer = viewer
        self.cursor = cursor
        kept = min(acknowledged?.generation ?? cursor.generation, cursor.generation)
        self.allowFullReconcile = allowFullReconcile
        self.limit = limit
        planner = PullPlanner(viewer: viewer)
    }

    mutating func start() throws -> LogStep<PullPage> {
        var reads = LogReads()
        reads.device = LogReads.DeviceRead(device: device, generation: cursor.generation)
        reads.head = true
        reads.rows = LogReads.RowsRead(after: cursor.seq, limit: limit + 1)
        phase = .page
        return .read(reads)
    }

    mutating func resume(with facts: LogFacts) throws -> LogStep<PullPage> {
        switch phase {
        case .page:
            guard let generation = facts.deviceGeneration, cursor.generation <= generation, cursor.seq <= facts.head
            else { throw Self.unknownCursor(cursor) }
            self.generation = generation
            forget = facts.newerBookkeeping
            rows = facts.rows
            hasMore = rows.count > limit
            if hasMore { rows.removeLast() }
            pageCases = PullPlanner.cases(in: rows)
            guard pageCases.isEmpty else {
                var reads = LogReads()
                reads.states = Set(pageCases.map { RecordRef(entity: .case, record: $0) })
                reads.recordedLevels = levels(of: pageCases.sorted())
                phase = .pageCases
                return .read(reads)
            }
            return try reconcilePage(states: [:], recorded: [:])
        case .pageCases:
            var states: [String: RecordState] = [:]
            for (ref, state) in facts.states where ref.entity == .case { states[ref.record] = state }
            return try reconcilePage(states: states, recorded: facts.recordedLevels)
        case .chunk:
            chunk = [:]
            for state in facts.caseChunk where !pageCases.contains(state.id) { chunk[state.id] = state }
            chunkEnd = (facts.caseChunk.last?.id ?? chunkEnd.after, facts.caseChunk.count == PullPlanner.reconcileChunk)
            guard chunk.isEmpty else {
                var reads = LogReads()
                reads.recordedLevels = levels(of: chunk.keys.sorted())
                phase = .chunkLevels
                return .read(reads)
            }
            return nextChunk()
        case .chunkLevels:
            plan.absorb(planner.reconcile(cases: Set(chunk.keys), states: chunk, recorded: facts.recordedLevels))
            return nextChunk()
        case .histories:
            return .finish(writes(), page(backfilled: facts.histories))
        }
    }

    private func levels(of cases: [String]) -> LogReads.LevelsRead {
        LogReads.LevelsRead(device: device, cases: cases, generation: cursor.generation)
    }

    /// Reconciles the page's cases, then (when the viewer's directory record changed) every case.
    private mutating func reconcilePage(
        states: [String: RecordState], recorded: [String: AccessPolicy.Access]
    ) throws -> LogStep<PullPage> {
        plan = planner.reconcile(page: rows, states: states, recorded: recorded)
        fullReconcile = planner.needsFullReconcile(rows, cursor: cursor)
        guard fullReconcile else { return readBackfill() }
        guard allowFullReconcile else { throw Self.reconcileThrottled }
        chunkEnd = ("", true)
        return nextChunk()
    }

    /// Reads the next chunk of a full reconciliation, or goes on to the back-fill after the last.
    private mutating func nextChunk() -> LogStep<PullPage> {
        guard chunkEnd.more else { return readBackfill() }
        var reads = LogReads()
        reads.caseChunk = LogReads.ChunkRead(after: chunkEnd.after, limit: PullPlanner.reconcileChunk)
        phase = .chunk
        return .read(reads)
    }

    /// Reads the history of every case and event the device is back-filled with, up to the
    /// request's cursor (what comes after arrives in the stream, filtered by the current level).
    private mutating func readBackfill() -> LogStep<PullPage> {
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
        return .finish(writes(), page(backfilled: []))
    }

    /// The page: the back-fill (a stub's only with the fields a stub receives), then the page's
    /// rows the device may receive now.
    private func page(backfilled histories: [[LoggedChange]]) -> PullPage {
        var changes: [String] = []
        for ((_, stubOnly), history) in zip(backfill, histories) {
            for change in history where !stubOnly || AccessPolicy.mayReceive(caseField: change.field, with: .stub) {
                changes.append(change.json)
            }
        }
        changes += rows.filter { PullPlanner.visible($0, access: plan.current) }.map(\.json)
        // A response that hands out nothing new keeps the cursor's generation.
        let nextGeneration = plan.updates.isEmpty ? cursor.generation : generation + 1
        return PullPage(
            changes: changes, purges: plan.purgedRecords,
            nextCursor: PullCursor(seq: rows.last?.seq ?? cursor.seq, generation: nextGeneration), hasMore: hasMore,
            fullReconcile: fullReconcile)
    }

    /// The bookkeeping: forget what responses after the cursor handed out (the client never
    /// stored them), record the levels handed out now under a new generation.
    private func writes() -> LogWrites {
        var writes = LogWrites()
        if forget { writes.forgetBookkeeping = LogReads.DeviceRead(device: device, generation: cursor.generation) }
        guard !plan.updates.isEmpty else { return writes }
        let newGeneration = generation + 1
        writes.levels = plan.updates.sorted(by: { $0.key < $1.key }).map { caseID, level in
            LogWrites.Level(device: device, caseID: caseID, generation: newGeneration, level: level, kept: kept)
        }
        writes.deviceGeneration = (device, newGeneration)
        return writes
    }
}

extension PullOperation {
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
