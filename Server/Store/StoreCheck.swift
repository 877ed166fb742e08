import KakehashiShared

/// What `kakehashi-server check` verifies of a store, and the verdict; the stores feed it their
/// rows in order and decide nothing themselves.
///
/// - the schema version is the one this release writes;
/// - the log's sequence numbers run 1, 2, 3, … without a gap or a repeat;
/// - every record's stored merged state is exactly what replaying its changes gives, and no state
///   is stored for a record without changes;
/// - the newest timestamp a store keeps beside the log (SQLite) is the newest of its changes.
public struct StoreCheck: Sendable {
    public struct Report: Sendable, Encodable {
        public var schemaVersion = 0
        public var epoch = ""
        public var changes = 0
        public var records = 0
        /// What is wrong, one sentence each (at most `maxProblems`, then a count of the rest).
        public var problems: [String] = []
        public var healthy: Bool { problems.isEmpty }
    }

    static let maxProblems = 20

    public private(set) var report = Report()
    private var expectedSeq: Int64 = 1
    private var hidden = 0

    public init(schemaVersion: Int, epoch: String) {
        report.schemaVersion = schemaVersion
        report.epoch = epoch
        if schemaVersion != StoreSchema.latest {
            problem("schema version \(schemaVersion), expected \(StoreSchema.latest)")
        }
    }

    /// The next sequence number of the log, in ascending order.
    public mutating func sequence(_ seq: Int64) {
        report.changes += 1
        if seq != expectedSeq {
            problem(
                seq > expectedSeq
                    ? "sequence numbers \(expectedSeq)–\(seq - 1) are missing from the log"
                    : "sequence number \(seq) is out of order or repeated")
        }
        expectedSeq = max(expectedSeq, seq + 1)
    }

    /// One record: its changes in log order and the merged state the store keeps for it.
    public mutating func record(_ ref: RecordRef, changes: [Change], stored: RecordState?) {
        report.records += 1
        var replayed = RecordState(entity: ref.entity, id: ref.record)
        for change in changes { _ = replayed.apply(change) }
        switch stored {
        case nil:
            problem("\(ref.entity.rawValue) \(ref.record) has \(changes.count) changes but no stored state")
        case let state? where state != replayed:
            problem("\(ref.entity.rawValue) \(ref.record): the stored state differs from its \(changes.count) changes")
        default:
            break
        }
    }

    /// Stored states of records that have no change in the log.
    public mutating func orphanStates(_ refs: [RecordRef]) {
        for ref in refs { problem("\(ref.entity.rawValue) \(ref.record) has a stored state but no changes") }
    }

    /// The log's newest timestamp as a store keeps it beside the rows (SQLite's `latest_hlc`, which
    /// exports and admin writes read), against the newest of the rows themselves.
    public mutating func newestTimestamp(kept: String?, logged: String?) {
        if kept != logged {
            problem(
                "the log's newest timestamp is kept as \(kept ?? "none"), but its newest change has \(logged ?? "none")"
            )
        }
    }

    /// A row the store could not read (an unknown entity, a body that is not a change).
    public mutating func unreadable(_ what: String) {
        problem(what)
    }

    /// The report, with a count of the problems not listed.
    public func finished() -> Report {
        var final = report
        if hidden > 0 { final.problems.append("… and \(hidden) more problems") }
        return final
    }

    private mutating func problem(_ sentence: String) {
        if report.problems.count < Self.maxProblems {
            report.problems.append(sentence)
        } else {
            hidden += 1
        }
    }
}
