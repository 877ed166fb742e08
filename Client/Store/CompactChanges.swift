import Foundation
import GRDB
import KakehashiShared

/// Local store migration `v8-compact`: change rows without identifier text, the search index
/// without a second copy of the text as written, and the entity tables without a column nothing
/// read.
///
/// Before, a change row spelled out its id (`DEVICE:COUNTER`), its timestamp
/// (`0001763700000000-000000-device`), the timestamps it replaced (a JSON array of those) and its
/// author (an advisor id), and a second B-tree indexed the id text: about 140 of a row's 200
/// bytes. Now the id is the row's integer key (`ChangeRows.key(of:)`), which SQLite keeps without
/// an index of its own, the timestamp is two integers and a device number, `prev` is 16 bytes a
/// timestamp, and each device id and author is written once, in `change_names`.
enum CompactChanges {
    static func migrate(_ db: Database) throws {
        try db.execute(
            sql: "CREATE TABLE change_names (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
        try createTable("changes_compact", in: db)
        try db.execute(sql: "CREATE TABLE recovery_kept_compact AS SELECT * FROM changes_compact WHERE 0")
        var names = try ChangeRows.Names.load(db)
        for (from, to) in [("changes", "changes_compact"), ("recovery_kept", "recovery_kept_compact")] {
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM \(from) ORDER BY rowid")
            while let row = try rows.next() {
                _ = try ChangeRows.write(
                    try legacyChange(from: row), local: row["local"], status: row["status"],
                    rejectCode: row["reject_code"], rejectReason: row["reject_reason"], names: &names, into: to, in: db)
            }
            try db.execute(sql: "DROP TABLE \(from)")
            try db.execute(sql: "ALTER TABLE \(to) RENAME TO \(from)")
        }
        try db.execute(sql: "CREATE INDEX changes_by_record ON changes (record)")
        // Partial indexes whose conditions the queries repeat exactly, so SQLite uses them.
        try db.execute(sql: "CREATE INDEX changes_pending ON changes (status) WHERE status = 'pending'")
        try db.execute(sql: "CREATE INDEX changes_rejected ON changes (status) WHERE status = 'rejected'")
        // The index again, without the text as written, which the states hold.
        try SearchFolding.migrate(db)
        // The entity tables' `updated` (the newest edit's timestamp as text), which nothing read.
        for entity in Entity.allCases
        where try db.columns(in: RecordTable.name(of: entity)).contains(where: { $0.name == "updated" }) {
            try db.execute(sql: "ALTER TABLE \(RecordTable.name(of: entity)) DROP COLUMN updated")
        }
    }

    /// The `changes` table: every change this replica holds, its own and received ones — the
    /// history `log` shows, the pending queue (`status = 'pending'`), and rejections with reasons.
    static func createTable(_ name: String, in db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE \(name) (
                    id INTEGER PRIMARY KEY,
                    entity TEXT NOT NULL,
                    record TEXT NOT NULL,
                    field TEXT,
                    op TEXT NOT NULL,
                    value TEXT NOT NULL,
                    hlc_millis INTEGER NOT NULL,
                    hlc_counter INTEGER NOT NULL,
                    hlc_device INTEGER NOT NULL,
                    prev BLOB NOT NULL,
                    author INTEGER NOT NULL,
                    local INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    reject_code TEXT,
                    reject_reason TEXT
                )
                """)
    }

    /// A change from a row of the layout before `v8-compact`: identifiers as text, `prev` a
    /// JSON array.
    static func legacyChange(from row: Row) throws -> Change {
        let idText: String = row["id"]
        let entityText: String = row["entity"]
        let opText: String = row["op"]
        let hlcText: String = row["hlc"]
        guard let id = ChangeID(idText), let entity = Entity(rawValue: entityText),
            let op = Change.Operation(rawValue: opText), let hlc = HLC(hlcText)
        else { throw KakehashiError(.internalFailure, "damaged change row \(idText) in the local store") }
        let prevText: String = row["prev"]
        return Change(
            id: id, entity: entity, record: row["record"], field: row["field"], op: op,
            value: try ChangeRows.value(fromJSON: row["value"]), hlc: hlc,
            prev: JSONText.parseArray(prevText).compactMap(HLC.init), author: row["author"])
    }
}
