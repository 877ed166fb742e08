import KakehashiShared

/// One bootstrap page (`ChangeLogStore.pull` asked for states from cursor `0`, or with a
/// bootstrap cursor): the merged states of the next records, each as the device may see it now
/// (`PullPlanner.visibleState`), instead of every change ever made to them.
///
/// A bootstrap walks the records entity by entity (`PullPlanner.bootstrapOrder`), in id order,
/// filling each page with up to `limit` records. It remembers the log's head when it began; its
/// last page hands the device a cursor in the change stream at that head, so every change made
/// meanwhile arrives as a change too (merging a change a state already holds changes nothing).
/// The levels it hands out for cases are recorded like a pull's (`PullBookkeeping`), so the
/// stream after the bootstrap purges and back-fills exactly as it would after a replay.
///
/// Rounds: the device, the head and the first entity's states; for cases, the levels recorded
/// for them; for events, what decides access to their cases and the levels recorded for those
/// (and the states of the cases that fell to a stub since the case pages); then the next entity
/// while the page has room.
struct BootstrapOperation: LogOperation {
    let viewer: AccessPolicy.Viewer
    let cursor: PullCursor
    let limit: Int

    private let planner: PullPlanner
    private var bookkeeping: PullBookkeeping
    private var phase = Phase.states
    private var begun = false
    private var head: Int64 = 0
    private var position: PullCursor.BootstrapPosition
    /// The entity's states just read, before they are judged: as stored, most sent as they are.
    private var read: [StoredState] = []
    /// When the states just read are events: the case each is in.
    private var eventCases: [String: String] = [:]
    private var entityHasMore = false
    /// How many records this page has read, visible or not.
    private var counted = 0
    private var sent: [SentState] = []
    private var plan = PullPlanner.Reconciliation()
    /// Cases of the events just read whose access fell to a stub since the case pages, and the
    /// access the events go out by, while the cases' states are read for their stubs.
    private var stubbed: [String] = []
    private var eventAccess: [String: AccessPolicy.Access] = [:]

    private enum Phase { case states, caseLevels, eventCases, stubbedCases }

    init(
        device: DeviceID, viewer: AccessPolicy.Viewer, cursor: PullCursor, acknowledged: PullCursor?, limit: Int
    ) {
        self.viewer = viewer
        self.cursor = cursor
        self.limit = limit
        planner = PullPlanner(viewer: viewer)
        bookkeeping = PullBookkeeping(device: device, cursor: cursor, acknowledged: acknowledged)
        position = cursor.bootstrap ?? PullCursor.BootstrapPosition(entity: PullPlanner.bootstrapOrder[0], after: "")
    }

    /// A page that reaches the cases hands out their levels, which a fresh device has none of:
    /// it goes straight to a write transaction rather than being computed twice.
    var triesReadOnlyFirst: Bool { Self.triesReadOnlyFirst(cursor: cursor) }

    /// `triesReadOnlyFirst` of the operation for `cursor`, known before it is made: whether the
    /// page starts in the events.
    static func triesReadOnlyFirst(cursor: PullCursor) -> Bool {
        (cursor.bootstrap?.entity ?? PullPlanner.bootstrapOrder[0]) == .event
    }

    mutating func start() throws -> LogStep<PullPage> {
        var reads = bookkeeping.firstReads()
        reads.statesPage = statesRead()
        return .read(reads)
    }

    mutating func resume(with facts: LogFacts) throws -> LogStep<PullPage> {
        switch phase {
        case .states:
            if !begun {
                try bookkeeping.begin(with: facts)
                begun = true
                head = cursor.bootstrap == nil ? facts.head : cursor.seq
            }
            read = facts.statesPage
            entityHasMore = read.count > limit - counted
            if entityHasMore { read.removeLast() }
            counted += read.count
            eventCases = [:]
            if position.entity == .event {
                for event in read {
                    if let caseID = try event.value("case").stringValue { eventCases[event.id] = caseID }
                }
            }
            switch position.entity {
            case .case where !read.isEmpty:
                var reads = LogReads()
                reads.recordedLevels = bookkeeping.levels(of: read.map(\.id))
                phase = .caseLevels
                return .read(reads)
            case .event where !read.isEmpty:
                let cases = Set(eventCases.values)
                var reads = LogReads()
                reads.caseFacts = cases
                reads.recordedLevels = bookkeeping.levels(of: cases.sorted())
                phase = .eventCases
                return .read(reads)
            default:
                return try next(access: [:])
            }
        case .caseLevels:
            let cases = Dictionary(
                try read.map { ($0.id, try $0.caseFacts()) }, uniquingKeysWith: { first, _ in first })
            let judged = planner.reconcile(cases: Set(cases.keys), facts: cases, recorded: facts.recordedLevels)
            plan.absorb(judged)
            return try next(access: judged.current)
        case .eventCases:
            let access = settleEventCases(facts)
            guard !stubbed.isEmpty else { return try next(access: access) }
            eventAccess = access
            var reads = LogReads()
            reads.states = Set(stubbed.map { RecordRef(entity: .case, record: $0) })
            phase = .stubbedCases
            return .read(reads)
        case .stubbedCases:
            for caseID in stubbed.sorted() {
                guard let state = facts.states[RecordRef(entity: .case, record: caseID)],
                    let stub = PullPlanner.visibleState(state, access: .stub)
                else { continue }
                sent.append(SentState(stub))
            }
            stubbed = []
            return try next(access: eventAccess)
        }
    }

    /// The access by which the events just read go out: an event travels only when its case is
    /// fully readable both now and by the level last handed to the device. Access to a case can
    /// have moved since the case pages (the change that moved it comes after the bootstrap's
    /// head): a loss is settled here as a pull settles it (the case purged, its stub sent, the
    /// lower level recorded), or the change stream would find nothing to purge; a gain is left to
    /// the stream, which back-fills it when it reaches that change.
    private mutating func settleEventCases(_ facts: LogFacts) -> [String: AccessPolicy.Access] {
        let cases = Set(eventCases.values)
        // Levels this page handed out for its own cases are not written yet.
        let recorded = facts.recordedLevels.merging(plan.updates) { _, handedNow in handedNow }
        let judged = planner.reconcile(cases: cases, facts: facts.caseFacts, recorded: recorded)
        var access: [String: AccessPolicy.Access] = [:]
        for caseID in cases {
            let now = judged.current[caseID] ?? .none
            let handed = recorded[caseID] ?? .none
            access[caseID] = min(now, handed)
            guard now < handed else { continue }
            plan.purges.append(caseID)
            plan.updates[caseID] = now
            if now == .stub { stubbed.append(caseID) }
        }
        return access
    }

    /// The next states of the entity at `position`: as many as the page still has room for, and
    /// one more to tell whether the entity has more.
    private func statesRead() -> LogReads.StatesPageRead {
        LogReads.StatesPageRead(entity: position.entity, after: position.after, limit: limit - counted + 1)
    }

    /// Keeps what the device may see of the states just read, then reads on (the next entity
    /// while the page has room) or ends the page.
    /// - Parameter access: current access to the cases involved: the cases read, or the cases of
    ///   the events read.
    private mutating func next(access: [String: AccessPolicy.Access]) throws -> LogStep<PullPage> {
        for stored in read {
            let caseID = stored.entity == .event ? eventCases[stored.id] : stored.id
            switch PullPlanner.stateVisibility(of: stored.entity, access: caseID.flatMap { access[$0] }) {
            case .whole:
                // As stored: no state is decoded and encoded again to be sent whole.
                sent.append(SentState(entity: stored.entity, id: stored.id, coding: try stored.wireCoding()))
            case .restricted(let level):
                if let visible = PullPlanner.visibleState(try stored.state(), access: level) {
                    sent.append(SentState(visible))
                }
            case .hidden:
                break
            }
        }
        if let last = read.last { position = PullCursor.BootstrapPosition(entity: position.entity, after: last.id) }
        read = []
        var finished = false
        if !entityHasMore {
            if let index = PullPlanner.bootstrapOrder.firstIndex(of: position.entity),
                index + 1 < PullPlanner.bootstrapOrder.count
            {
                position = PullCursor.BootstrapPosition(entity: PullPlanner.bootstrapOrder[index + 1], after: "")
            } else {
                finished = true
            }
        }
        guard finished || counted >= limit else {
            var reads = LogReads()
            reads.statesPage = statesRead()
            phase = .states
            return .read(reads)
        }
        let generation = bookkeeping.nextGeneration(handingOut: plan.updates)
        var page = PullPage(
            stored: [], purges: plan.purgedRecords,
            nextCursor: PullCursor(seq: head, generation: generation, bootstrap: finished ? nil : position),
            hasMore: true)
        page.states = sent
        if cursor.bootstrap == nil {
            let history = HistoryCursor(after: 0, upTo: head)
            page.history = history.isComplete ? nil : history
        }
        return .finish(bookkeeping.writes(handingOut: plan.updates), page)
    }
}
