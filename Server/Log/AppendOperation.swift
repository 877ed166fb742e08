import KakehashiShared

/// Appends a pushed batch (`ChangeLogStore.append`): loads the states `PushPlanner` needs, in
/// rounds that each depend on the last, lets it decide change by change, and writes the
/// accepted changes and the merged states.
///
/// Rounds: which change ids the log already holds and which records already have the batch's
/// ids; the records the batch touches or names; the cases of the events among them; the
/// referral events of the cases the viewer may only refer. A round with nothing to read is
/// skipped.
struct AppendOperation: LogOperation {
    let changes: [Change]
    let viewer: AccessPolicy.Viewer?
    let wallMillis: Int64
    /// Store nothing unless the log is empty (`ChangeLogStore.append`).
    let onlyIfEmpty: Bool
    /// What the store's log keeps of each change.
    let format: LogFormat

    private var phase = Phase.identities
    private var known = Set<ChangeID>()
    private var existing: [RecordRef] = []
    private var states: [RecordRef: RecordState] = [:]
    private var referralEvents: [String] = []

    /// The rounds of reads, in order.
    private enum Phase: CaseIterable {
        case identities, records, eventCases, referralEvents, referrals
    }

    init(
        _ changes: [Change], viewer: AccessPolicy.Viewer?, wallMillis: Int64, onlyIfEmpty: Bool, format: LogFormat
    ) {
        self.changes = changes
        self.viewer = viewer
        self.wallMillis = wallMillis
        self.onlyIfEmpty = onlyIfEmpty
        self.format = format
    }

    mutating func start() throws -> LogStep<[PushResult]> {
        phase = .identities
        return .read(reads(for: .identities))
    }

    mutating func resume(with facts: LogFacts) throws -> LogStep<[PushResult]> {
        states.merge(facts.states) { loaded, _ in loaded }
        switch phase {
        case .identities:
            if onlyIfEmpty && !facts.logIsEmpty { return .finish(LogWrites(), []) }
            known = facts.knownChanges
            existing = facts.existingRecords
        case .referralEvents:
            referralEvents = facts.referralEvents
        case .records, .eventCases, .referrals:
            break
        }
        return try advance()
    }

    /// Moves on to the next round that has something to read, or plans after the last.
    private mutating func advance() throws -> LogStep<[PushResult]> {
        let phases = Phase.allCases
        while let index = phases.firstIndex(of: phase), index + 1 < phases.count {
            phase = phases[index + 1]
            let reads = reads(for: phase)
            if !reads.states.isEmpty || !reads.referralCases.isEmpty { return .read(reads) }
        }
        let (writes, results) = try plan()
        return .finish(writes, results)
    }

    /// What one round reads, given what the earlier rounds returned.
    private func reads(for phase: Phase) -> LogReads {
        var reads = LogReads()
        switch phase {
        case .identities:
            reads.logIsEmpty = onlyIfEmpty
            reads.changeIDs = changes.map(\.id)
            reads.recordIDs = Set(changes.map(\.record)).sorted()
        case .records:
            reads.states = missing(PushPlanner.requiredRecords(changes).union(existing))
        case .eventCases:
            reads.states = missing(PushPlanner.eventCases(states))
        case .referralEvents:
            reads.referralCases = PushPlanner.referralCases(changes, states: states, viewer: viewer)
        case .referrals:
            reads.states = missing(Set(referralEvents.map { RecordRef(entity: .event, record: $0) }))
        }
        return reads
    }

    private func missing(_ refs: Set<RecordRef>) -> Set<RecordRef> { refs.filter { states[$0] == nil } }

    /// Decides the batch: the writes, and one result per change in request order.
    private func plan() throws -> (LogWrites, [PushResult]) {
        var planner = PushPlanner(
            states: states, known: known, viewer: viewer, wallMillis: wallMillis, existingIDs: existing)
        let outcome = planner.plan(changes)
        var writes = LogWrites()
        for change in outcome.accepted {
            writes.changes.append(
                LogWrites.Insert(
                    change: change, caseID: planner.caseID(of: change),
                    movedFrom: outcome.movedFrom.isEmpty ? nil : outcome.movedFrom[change.id],
                    stored: try StoreCoding.stored(change, format: format)))
        }
        // The rows this request appends carry each event's case after the request already: only
        // events logged before it (their states were loaded) have older rows to move.
        for event in outcome.movedEvents.sorted() where states[RecordRef(entity: .event, record: event)] != nil {
            writes.eventCases.append(
                LogWrites.EventCase(
                    event: event,
                    caseID: planner.states[RecordRef(entity: .event, record: event)]?.value("case").stringValue))
        }
        let written = Set(outcome.accepted.map { RecordRef(entity: $0.entity, record: $0.record) })
        for ref in written.sorted(by: { ($0.entity.rawValue, $0.record) < ($1.entity.rawValue, $1.record) }) {
            guard let state = planner.states[ref] else { continue }
            writes.states.append(LogWrites.State(ref: ref, packed: StoreCoding.pack(state, format: format)))
        }
        return (writes, outcome.results)
    }
}
