import GRDB
import KakehashiShared

/// The push queue in the `changes` table: own changes still to be sent (`ChangeStatus.pending`,
/// oldest first), and the server's verdicts on those sent. `SyncEngine` decides what happens to
/// a change; this is where the decision is stored, in the caller's transaction.
enum PushQueue {
    /// How many changes wait to be pushed.
    static func count(in db: Database) throws -> Int {
        try Int.fetchOne(db, sql: countSQL) ?? 0
    }

    /// The pending changes in the order they were written: the oldest `limit` of them, or all.
    static func oldest(_ limit: Int? = nil, in db: Database) throws -> [Change] {
        // Own changes only: ordered by their key, they are ordered by their counter.
        try ChangeRows.fetch(db, sql: oldestSQL, arguments: [limit ?? -1]).map { $0.change }
    }

    /// The oldest `limit` pending changes written after `change` (a batch still in flight ends
    /// with it).
    static func oldest(_ limit: Int, after change: Change, in db: Database) throws -> [Change] {
        guard change.id.counter < 1 << ChangeRows.counterBits else { return [] }
        return try ChangeRows.fetch(
            db, sql: oldestAfterSQL, arguments: [change.id.device.rawValue, change.id.counter, limit]
        ).map { $0.change }
    }

    /// The queue's statements, each reading only the pending changes' index (`ChangeStatus.condition`).
    static let countSQL = "SELECT COUNT(*) FROM changes WHERE \(ChangeStatus.pending.condition)"
    static let oldestSQL = "SELECT * FROM changes WHERE \(ChangeStatus.pending.condition) ORDER BY id LIMIT ?"
    static let oldestAfterSQL =
        "SELECT * FROM changes WHERE \(ChangeStatus.pending.condition) AND id > \(key) ORDER BY id LIMIT ?"

    /// A change's row key (`ChangeRows.key(of:)`) computed in the statement, from the change's
    /// device and counter as two arguments.
    private static let key = "(SELECT code FROM change_names WHERE name = ?) << \(ChangeRows.counterBits) | ?"

    /// Sets a change's status and, when given, the server's code and reason. The change's row key
    /// (`ChangeRows.key(of:)`) is computed in the statement, one per change of a push's answer.
    private static func mark(
        _ change: Change, _ status: ChangeStatus, code: String? = nil, reason: String? = nil, in db: Database
    ) throws {
        // A counter this large was never stored (`ChangeRows.key(of:)` refuses it).
        guard change.id.counter < 1 << ChangeRows.counterBits else { return }
        let id: [any DatabaseValueConvertible] = [change.id.device.rawValue, change.id.counter]
        if let code {
            try db.run(
                "UPDATE changes SET status = ?, reject_code = ?, reject_reason = ? WHERE id = \(key)",
                StatementArguments([status.rawValue, code, reason ?? ""] + id))
        } else {
            try db.run("UPDATE changes SET status = ? WHERE id = \(key)", StatementArguments([status.rawValue] + id))
        }
    }

    /// The server holds the change: it accepted it now, or had it already.
    static func markSynced(_ change: Change, in db: Database) throws {
        try mark(change, .synced, in: db)
    }

    /// The server refused the change, with `code` and `reason` (`kakehashi status` lists them).
    static func markRejected(_ change: Change, code: String, reason: String, in db: Database) throws {
        try mark(change, .rejected, code: code, reason: reason, in: db)
    }

    /// The server refused the change for a clock far ahead; the caller writes it again with the
    /// corrected clock, and the new change replaces it.
    static func markRestamped(_ change: Change, in db: Database) throws {
        try mark(
            change, .restamped, code: PushResult.RejectionCode.clockSkew.rawValue,
            reason: "written again with the corrected clock", in: db)
    }

    /// Puts every own change the server acknowledged back into the queue: a recovery from a
    /// restored server sends them again.
    /// - Returns: how many went back.
    static func requeueSynced(in db: Database) throws -> Int {
        try db.execute(
            sql: "UPDATE changes SET status = ? WHERE local = 1 AND status = ?",
            arguments: [ChangeStatus.pending.rawValue, ChangeStatus.synced.rawValue])
        return db.changesCount
    }

    /// The newest timestamp of a change held that the server did not refuse (neither rejected
    /// nor re-stamped): how far the device clock may go back after a `clock-skew` refusal.
    static func newestKeptTimestamp(in db: Database) throws -> HLC? {
        // The rows of the newest milliseconds and counter; their devices decide between them.
        try ChangeRows.fetch(
            db,
            sql: """
                SELECT * FROM changes
                WHERE status NOT IN (?1, ?2) AND (hlc_millis, hlc_counter) = (
                    SELECT hlc_millis, hlc_counter FROM changes WHERE status NOT IN (?1, ?2)
                    ORDER BY hlc_millis DESC, hlc_counter DESC LIMIT 1)
                """,
            arguments: [ChangeStatus.rejected.rawValue, ChangeStatus.restamped.rawValue]
        )
        .map { $0.change.hlc }.max()
    }

    /// The changes of `record` the server refused (rejected or re-stamped): its state is rebuilt
    /// without them.
    static func refused(of record: String, in db: Database) throws -> Set<ChangeID> {
        let names = try ChangeRows.Names.load(db)
        let keys = try Int64.fetchAll(
            db, sql: "SELECT id FROM changes WHERE record = ? AND status IN (?, ?)",
            arguments: [ChangeRows.recordKey(record), ChangeStatus.rejected.rawValue, ChangeStatus.restamped.rawValue])
        return Set(try keys.map { try ChangeRows.id(ofKey: $0, names: names) })
    }
}
