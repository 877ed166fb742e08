import KakehashiShared

/// What exports and indicators read, taken from the store in one consistent read: the merged
/// records as of one log position, and the few facts about history they need.
public struct LogSnapshot: Sendable {
    /// The highest sequence number included: the cursor an export records for the next
    /// `--since`. Zero for an empty log.
    public let head: Int64
    /// Merged states (deleted records included) of the entities asked for, by id.
    public let states: [Entity: [RecordState]]
    /// The earliest HLC of each record of those entities: when it was created.
    public let firstWritten: [String: HLC]
    /// The records with a change after the `since` cursor; nil when no cursor was given.
    public let changedSince: Set<String>?
    /// Every accepted write of a case's stage, to tell a case's stage at a fiscal year's end.
    public let stageWrites: [Change]

    public init(
        head: Int64, states: [Entity: [RecordState]], firstWritten: [String: HLC], changedSince: Set<String>?,
        stageWrites: [Change]
    ) {
        self.head = head
        self.states = states
        self.firstWritten = firstWritten
        self.changedSince = changedSince
        self.stageWrites = stageWrites
    }

    /// The entities exports and indicators read.
    public static let reportingEntities: [Entity] = [.program, .advisor, .organization, .case, .event, .seed, .need]

    /// The error both stores throw for a `--since` cursor beyond the log's head.
    static func cursorAhead(_ since: Int64, head: Int64) -> KakehashiError {
        .invalid(
            "since",
            "cursor \(since) is ahead of this log (its head is \(head)); use the cursor.to of an earlier export's manifest.json"
        )
    }
}
