import GRDB
import KakehashiShared

/// The push queue in the `changes` table: own changes still to be sent (`ChangeStatus.pending`,
/// oldest first), and the server's verdicts on those sent. `SyncEngine` decides what happens to
/// a change; this is where the decision is stored, in the caller's transaction.
enum PushQueue {
    /// How many changes wait to be pushed.
    static func count(in db: Database) throws -> Int {
        try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM changes WHERE status = ?", arguments: [ChangeStatus.pending.rawValue]) ?? 0
    }

    /// The pending changes in the order they were written: the oldest `limit` of them, or all.
    static func oldest(_ limit: Int? = nil, in db: Database) throws -> [Change] {
        let rows =
            if let limit {
                try Row.fetchAll(
                    db, sql: "SELECT * FROM changes WHERE status = ? ORDER BY rowid LIMIT ?",
                    arguments: [ChangeStatus.pending.rawValue, limit])
            } else {
                try Row.fetchAll(
                    db, sql: "SELECT * FROM changes WHERE status = ? ORDER BY rowid",
                    arguments: [ChangeStatus.pending.rawValue])
            }
        return try rows.map(ChangeRows.change(from:))
    }

    /// The server holds the change: it accepted it now, or had it already.
    static func markSynced(_ change: Change, in db: Database) throws {
        try db.execute(
            sql: "UPDATE changes SET status = ? WHERE id = ?",
            arguments: [ChangeStatus.synced.rawValue, change.id.description])
    }

    /// The server refused the change, with `code` and `reason` (`kakehashi status` lists them).
    static func markRejected(_ change: Change, code: String, reason: String, in db: Database) throws {
        try db.execute(
            sql: "UPDATE changes SET status = ?, reject_code = ?, reject_reason = ? WHERE id = ?",
            arguments: [ChangeStatus.rejected.rawValue, code, reason, change.id.description])
    }

    /// The server refused the change for a clock far ahead; the caller writes it again with the
    /// corrected clock, and the new change replaces it.
    static func markRestamped(_ change: Change, in db: Database) throws {
        try db.execute(
            sql: "UPDATE changes SET status = ?, reject_code = ?, reject_reason = ? WHERE id = ?",
            arguments: [
                ChangeStatus.restamped.rawValue, PushResult.RejectionCode.clockSkew.rawValue,
                "written again with the corrected clock", change.id.description,
            ])
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
        try String.fetchAll(
            db, sql: "SELECT hlc FROM changes WHERE status NOT IN (?, ?)",
            arguments: [ChangeStatus.rejected.rawValue, ChangeStatus.restamped.rawValue]
        )
        .compactMap(HLC.init).max()
    }

    /// The changes of `record` the server refused (rejected or re-stamped): its state is rebuilt
    /// without them.
    static func refused(of record: String, in db: Database) throws -> Set<ChangeID> {
        let ids = try String.fetchAll(
            db, sql: "SELECT id FROM changes WHERE record = ? AND status IN (?, ?)",
            arguments: [record, ChangeStatus.rejected.rawValue, ChangeStatus.restamped.rawValue])
        return Set(ids.compactMap(ChangeID.init))
    }
}
