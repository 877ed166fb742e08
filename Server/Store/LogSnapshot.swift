import KakehashiShared

/// What exports and indicators read, taken from the store in one consistent read: the merged
/// records as of one log position, and the few facts about history they need.
public struct LogSnapshot: Sendable {
    /// The highest sequence number included: the cursor an export records for the next
    /// `--since`. Zero for an empty log.
    public let head: Int64
    /// The newest HLC in the log: the log's own "now", so reports made from the same log are the
    /// same whatever day they are made.
    public let latest: HLC?
    /// Merged states (deleted records included) of the entities asked for.
    public let states: [Entity: [RecordState]]
    /// The wall times (HLC milliseconds) of every change to each case, to tell when it was
    /// created and the fiscal years it was worked on.
    public let caseChangeTimes: [String: [Int64]]
    /// Every accepted write of a case's stage, to tell a case's stage at a fiscal year's end.
    public let stageWrites: [Change]
    /// With a `since` cursor: the records changed after it, each with its changes up to and
    /// including it (empty for a record created after it). Nil without a cursor.
    public let changedSince: [RecordRef: [Change]]?

    public init(
        head: Int64, latest: HLC?, states: [Entity: [RecordState]], caseChangeTimes: [String: [Int64]],
        stageWrites: [Change], changedSince: [RecordRef: [Change]]?
    ) {
        self.head = head
        self.latest = latest
        self.states = states
        self.caseChangeTimes = caseChangeTimes
        self.stageWrites = stageWrites
        self.changedSince = changedSince
    }

    /// The entities exports and indicators read.
    public static let reportingEntities: [Entity] = [.program, .advisor, .organization, .case, .event, .seed, .need]

    /// The snapshot as it was at the `since` cursor, rebuilt from the changes each changed record
    /// had by then (unchanged records are the same at both positions). Nil without a cursor.
    ///
    /// Only what exports' rows read is rebuilt; `stageWrites` and `latest` are left as they are now.
    public var atSince: LogSnapshot? {
        guard let changedSince else { return nil }
        var before: [RecordRef: RecordState] = [:]
        var caseChangeTimes = caseChangeTimes
        for (ref, changes) in changedSince {
            guard let state = Self.state(of: ref, upToSince: changes) else {
                caseChangeTimes[ref.record] = nil
                continue
            }
            before[ref] = state
            if ref.entity == .case { caseChangeTimes[ref.record] = changes.map(\.hlc.millis) }
        }
        var states: [Entity: [RecordState]] = [:]
        for (entity, list) in self.states {
            states[entity] = list.compactMap { state in
                let ref = RecordRef(entity: entity, record: state.id)
                guard changedSince[ref] != nil else { return state }
                return before[ref]
            }
        }
        return LogSnapshot(
            head: head, latest: latest, states: states, caseChangeTimes: caseChangeTimes,
            stageWrites: stageWrites, changedSince: nil)
    }

    /// A record changed after the `since` cursor as it was at the cursor, rebuilt from the changes
    /// it had by then: nil when it had none (it was created after the cursor).
    static func state(of ref: RecordRef, upToSince changes: [Change]) -> RecordState? {
        guard !changes.isEmpty else { return nil }
        var state = RecordState(entity: ref.entity, id: ref.record)
        for change in changes { state.apply(change) }
        return state
    }

    /// The error both stores throw for a `--since` cursor beyond the log's head.
    static func cursorAhead(_ since: Int64, head: Int64) -> KakehashiError {
        .invalid(
            "since",
            "cursor \(since) is ahead of this log (its head is \(head)); use the cursor.to of an earlier export's manifest.json"
        )
    }
}
