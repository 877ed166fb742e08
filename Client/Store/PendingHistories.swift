import GRDB
import KakehashiShared

/// The histories of records a pull handed out as merged states because this device gained
/// access to them (`PullResponse.gained`), still to download with `GET /v1/history`
/// (`SyncEngine.downloadHistory`): one row per record, with the cursor of what has not arrived.
/// A case's history is the case's and its events'. The bootstrap's history over the whole log is
/// kept apart, in `DeviceIdentity.history`.
enum PendingHistories {
    /// One pending history.
    struct Entry: Sendable, Hashable {
        let record: RecordRef
        let cursor: String
    }

    /// Records the histories a page names, in the page's transaction. A record gained again
    /// (after a purge and a new gain) takes the newer cursor.
    static func add(_ gained: [GainedHistory], in db: Database) throws {
        for record in gained {
            try db.execute(
                sql: """
                    INSERT INTO pending_histories (entity, record, cursor) VALUES (?, ?, ?)
                    ON CONFLICT (entity, record) DO UPDATE SET cursor = excluded.cursor
                    """,
                arguments: [record.entity.rawValue, record.record, record.history])
        }
    }

    /// Forgets the pending history of a purged record: the device holds nothing of it to complete
    /// (a stub it keeps comes with a history of its own).
    static func drop(_ ref: RecordRef, in db: Database) throws {
        try db.execute(
            sql: "DELETE FROM pending_histories WHERE entity = ? AND record = ?",
            arguments: [ref.entity.rawValue, ref.record])
    }

    /// The next history to download, in a stable order.
    static func next(in db: Database) throws -> Entry? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT entity, record, cursor FROM pending_histories ORDER BY entity, record LIMIT 1"),
            let entity = Entity(rawValue: row[0])
        else { return nil }
        return Entry(record: RecordRef(entity: entity, record: row[1]), cursor: row[2])
    }

    /// Moves a history on after a page: to the page's next cursor, or gone once complete.
    static func advance(_ entry: Entry, to next: String?, in db: Database) throws {
        if let next {
            try db.execute(
                sql: "UPDATE pending_histories SET cursor = ? WHERE entity = ? AND record = ? AND cursor = ?",
                arguments: [next, entry.record.entity.rawValue, entry.record.record, entry.cursor])
        } else {
            try db.execute(
                sql: "DELETE FROM pending_histories WHERE entity = ? AND record = ? AND cursor = ?",
                arguments: [entry.record.entity.rawValue, entry.record.record, entry.cursor])
        }
    }

    /// Whether the entry is still the one to move on (no purge or newer gain replaced it meanwhile).
    static func isCurrent(_ entry: Entry, in db: Database) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: "SELECT EXISTS (SELECT 1 FROM pending_histories WHERE entity = ? AND record = ? AND cursor = ?)",
            arguments: [entry.record.entity.rawValue, entry.record.record, entry.cursor]) ?? false
    }

    /// Whether any history has not arrived: the bootstrap's or a gained record's.
    static func anyPending(in db: Database) throws -> Bool {
        if try DeviceIdentity.load(db).history != nil { return true }
        return try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM pending_histories)") ?? false
    }

    /// Whether the history of one record may lack changes: the bootstrap's history has not all
    /// arrived, or the record's, or (for an event) its case's, which holds its events'.
    static func isPending(_ record: String, in db: Database) throws -> Bool {
        if try DeviceIdentity.load(db).history != nil { return true }
        return try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (SELECT 1 FROM pending_histories WHERE record = ?
                    OR (entity = 'case' AND record = (SELECT "case" FROM events WHERE id = ?)))
                """,
            arguments: [record, record]) ?? false
    }

    /// Forgets every pending history (the replica is downloaded again from the start).
    static func clear(in db: Database) throws {
        try db.execute(sql: "DELETE FROM pending_histories")
    }
}
