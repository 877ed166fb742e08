import KakehashiShared

/// What exports and indicators read (`ChangeLogStore.snapshot`), as of one log position: the
/// merged states of the entities asked for, the history facts reports need and, with a `since`
/// cursor, the history each record changed after it had up to it.
struct SnapshotOperation: LogOperation {
    let entities: [Entity]
    let since: Int64?

    private var head: Int64 = 0
    private var latest: HLC?
    private var states: [Entity: [RecordState]] = [:]
    private var caseChangeTimes: [String: [Int64]] = [:]
    private var stageWrites: [Change] = []
    /// The records changed after `since` whose histories the second round reads.
    private var changed: [RecordRef] = []
    private var readingHistories = false

    init(entities: [Entity], since: Int64?) {
        self.entities = entities
        self.since = since
    }

    mutating func start() throws -> LogStep<LogSnapshot> {
        var reads = LogReads()
        reads.head = true
        reads.latest = true
        reads.entityStates = entities
        reads.caseChangeTimes = true
        reads.stageWrites = true
        reads.changedSince = since
        return .read(reads)
    }

    mutating func resume(with facts: LogFacts) throws -> LogStep<LogSnapshot> {
        guard readingHistories else { return try first(facts) }
        var byRecord: [RecordRef: [Change]] = [:]
        for (ref, history) in zip(changed, facts.histories) {
            byRecord[ref] = try history.map { try StoreCoding.change($0.change) }
        }
        return .finish(LogWrites(), snapshot(changedSince: byRecord))
    }

    /// Takes the first round's answers; reads the histories of the records changed since the
    /// cursor, if any.
    private mutating func first(_ facts: LogFacts) throws -> LogStep<LogSnapshot> {
        head = facts.head
        if let since, since > head { throw LogSnapshot.cursorAhead(since, head: head) }
        latest = facts.latest
        states = facts.entityStates
        for (record, text) in facts.caseChangeTimes {
            if let hlc = HLC(text) { caseChangeTimes[record, default: []].append(hlc.millis) }
        }
        stageWrites = try facts.stageWrites.map(StoreCoding.change)
        guard let since else { return .finish(LogWrites(), snapshot(changedSince: nil)) }
        let wanted = Set(entities)
        changed = facts.changedRecords.filter { wanted.contains($0.entity) }
        guard !changed.isEmpty else { return .finish(LogWrites(), snapshot(changedSince: [:])) }
        var reads = LogReads()
        reads.histories = changed.map { LogReads.HistoryRead(scope: .record($0), upTo: since) }
        readingHistories = true
        return .read(reads)
    }

    private func snapshot(changedSince: [RecordRef: [Change]]?) -> LogSnapshot {
        LogSnapshot(
            head: head, latest: latest, states: states, caseChangeTimes: caseChangeTimes, stageWrites: stageWrites,
            changedSince: changedSince)
    }
}
