import Foundation
import GRDB
import KakehashiShared
import Testing

@testable import KakehashiClient

/// The laptop keeps a change in numbers (`ChangeRows`, migration `v8-compact`); `log`, the push
/// queue and the refused store read it back. Whatever form its identifiers take, the change read
/// back must be the change written, or history and pushes would change under the user.
@Suite struct ChangeRowsTests {
    static let laptop = DeviceID("d-a9766c83ba993b5a")!
    static let server = DeviceID("server-27009cb23086b42d")!

    /// Record ids in every form a laptop meets: a UUID as `RecordID.uuidV7` writes it, a program's
    /// name, a UUID in capitals (kept as typed, not as bytes), and 36 characters that are no UUID.
    static let records = [
        "01a23bcc-9587-7846-b8b0-b08b8519bec1", "business-production", "01A23BCC-9587-7846-B8B0-B08B8519BEC1",
        "not-a-uuid-but-thirty-six-chars-long",
    ]

    static func changes() -> [Change] {
        records.enumerated().map { index, record in
            Change(
                id: ChangeID(device: index % 2 == 0 ? laptop : server, counter: Int64(index + 1) * 1_000_003),
                entity: .case, record: record, field: index == 3 ? nil : "title", op: index == 3 ? .delete : .set,
                value: index == 3 ? .bool(true) : .string("試作 \"\(index)\"\n評価"),
                hlc: HLC(millis: 1_796_299_594_328 + Int64(index), counter: UInt32(index * 7), device: laptop),
                prev: index == 0
                    ? []
                    : [
                        HLC(millis: 1_796_299_594_000, counter: 999_999, device: server),
                        HLC(millis: 1, counter: 0, device: laptop),
                    ],
                author: index == 2 ? "admin" : "01a23bcc-95e9-7618-9447-aa8dc72ea5f6")
        }
    }

    @Test func aChangeReadBackFromItsRowIsTheChangeWritten() throws {
        let queue = try DatabaseQueue()
        try StoreMigrations.migrator.migrate(queue)
        let written = Self.changes()
        try queue.write { db in
            var names = try ChangeRows.Names.load(db)
            for change in written {
                #expect(try ChangeRows.insert(change, local: false, names: &names, in: db))
            }
            // The same id again is a duplicate, not a second row.
            #expect(try !ChangeRows.insert(written[0], local: false, names: &names, in: db))
            let read = try ChangeRows.fetch(db, sql: "SELECT * FROM changes ORDER BY id").map { $0.change }
            #expect(Set(read) == Set(written) && read.count == written.count)
            for change in written {
                #expect(try ChangeRows.history(of: change.record, in: db).map { $0.change } == [change])
            }
            // Two devices and two authors, each named once.
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM change_names") == 4)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM changes WHERE typeof(record) = 'blob'") == 1)
        }
    }

    /// A pulled page's change rows go 64 to a statement (`ChangeRows.Writer`, `RETURNING id`): a
    /// change whose id the store holds, or that came earlier in the page (in the same statement or
    /// an earlier one), is a duplicate: counted, neither written nor merged a second time.
    @Test func aPageTellsItsDuplicatesAcrossStatements() throws {
        let queue = try DatabaseQueue()
        try StoreMigrations.migrator.migrate(queue)
        let record = Self.records[0]
        let writes = (1...150).map { counter in
            Change(
                id: ChangeID(device: Self.server, counter: Int64(counter)), entity: .case, record: record,
                field: "title", op: .set, value: .string("版 \(counter)"),
                hlc: HLC(millis: 1_796_299_594_328 + Int64(counter), counter: 0, device: Self.server), prev: [],
                author: "admin")
        }
        var page = writes
        // Twice in the first statement of 64 rows; then in the third, again, a change of the first.
        page.insert(writes[20], at: 30)
        page.insert(writes[40], at: 140)
        try queue.write { db in
            let stored = try ChangeApplier.apply(Array(writes[0..<10]), local: false, in: db)
            #expect(stored.applied == 10 && stored.duplicates == 0)
            let summary = try ChangeApplier.apply(page, local: false, in: db)
            #expect(summary.applied == 140 && summary.duplicates == 12)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM changes") == 150)
            var expected = RecordState(entity: .case, id: record)
            for change in writes { expected.apply(change) }
            #expect(try ChangeApplier.loadState(RecordRef(entity: .case, record: record), in: db) == expected)
            #expect(
                try String.fetchOne(db, sql: "SELECT title FROM cases WHERE id = ?", arguments: [record]) == "版 150")
            // The page again: every change a duplicate.
            let again = try ChangeApplier.apply(page, local: false, in: db)
            #expect(again.applied == 0 && again.duplicates == page.count)
        }
    }

    /// A change row whose value is not text the store wrote is refused as damage, not read as
    /// null: an empty field would be shown, pushed and merged as if someone had cleared it.
    @Test func aDamagedValueIsRefusedNotReadAsNull() throws {
        let queue = try DatabaseQueue()
        try StoreMigrations.migrator.migrate(queue)
        let written = Self.changes()
        try queue.write { db in
            var names = try ChangeRows.Names.load(db)
            for change in written { _ = try ChangeRows.insert(change, local: false, names: &names, in: db) }
            #expect(try ChangeRows.fetch(db, sql: "SELECT * FROM changes").count == written.count)
            try db.execute(sql: "UPDATE changes SET value = '{damaged' WHERE rowid = (SELECT min(rowid) FROM changes)")
            #expect {
                _ = try ChangeRows.fetch(db, sql: "SELECT * FROM changes")
            } throws: { error in
                "\(error)".contains("damaged value in the local store")
            }
        }
        for text in ["null", "true", "false", "-42", "\"株式会社\\n\"", "\"\""] {
            #expect(try ChangeRows.valueJSON(ChangeRows.value(fromJSON: text)) == text)
        }
    }

    /// A record's history comes out oldest first, by timestamp and then by change id, whatever
    /// order its changes arrived in.
    @Test func historyIsOrderedByTimestampThenID() throws {
        let queue = try DatabaseQueue()
        try StoreMigrations.migrator.migrate(queue)
        let record = Self.records[0]
        let hlcs = [
            HLC(millis: 20, counter: 0, device: Self.laptop), HLC(millis: 10, counter: 5, device: Self.server),
            HLC(millis: 10, counter: 5, device: Self.laptop), HLC(millis: 10, counter: 2, device: Self.server),
        ]
        let changes = hlcs.enumerated().map { index, hlc in
            Change(
                id: ChangeID(device: hlc.device, counter: Int64(10 - index)), entity: .case, record: record,
                field: "stage", op: .set, value: .string("stage-\(index)"), hlc: hlc, prev: [], author: "a")
        }
        let history = try queue.write { db in
            var names = try ChangeRows.Names.load(db)
            for change in changes { _ = try ChangeRows.insert(change, local: false, names: &names, in: db) }
            return try ChangeRows.history(of: record, in: db).map { $0.change.hlc }
        }
        #expect(history == hlcs.sorted())
    }
}
