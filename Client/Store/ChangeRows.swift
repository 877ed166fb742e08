import Foundation
import GRDB
import KakehashiSQLite
import KakehashiShared

/// Reading and writing `Change` values as rows of the `changes` table.
///
/// A row holds no identifier text it can do without (migration `v8-compact`): the change id is the
/// row's integer key (`key(of:)`), the timestamp is two integers and a device, device ids and
/// authors are numbers into `change_names`, where each is written once, and a record id that is a
/// UUID is its 16 bytes (`recordKey`).
enum ChangeRows {
    /// The bits of a row key that hold the change id's counter; the bits above hold its device.
    static let counterBits = 43

    static func valueJSON(_ value: FieldValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .integer(let number): String(number)
        case .string(let text): JSONText.quote(text)
        }
    }

    /// A value as `valueJSON` wrote it. Text it did not write is a damaged store, not a null:
    /// reading on would show, push or merge a value nobody typed.
    /// - Throws: `KakehashiError` (`.internalFailure`) for text that is no value.
    static func value(fromJSON text: String) throws(KakehashiError) -> FieldValue {
        switch text {
        case "null": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        default:
            if let number = Int64(text) { return .integer(number) }
            if text.hasPrefix("\""), let string = try? JSONDecoder().decode(String.self, from: Data(text.utf8)) {
                return .string(string)
            }
            throw KakehashiError(.internalFailure, "damaged value in the local store: \(text.prefix(40))")
        }
    }

    /// A record id as `changes.record` holds it: a UUID in the lower-case text form
    /// `RecordID.uuidV7` writes (every record a laptop creates) as its 16 bytes, any other id as
    /// text. Every query of `changes` by record binds this value.
    static func recordKey(_ record: String) -> DatabaseValue {
        guard record.utf8.count == 36, let uuid = UUID(uuidString: record), uuid.uuidString.lowercased() == record
        else { return record.databaseValue }
        return withUnsafeBytes(of: uuid.uuid) { Data($0) }.databaseValue
    }

    static func record(fromKey value: DatabaseValue) throws -> String {
        switch value.storage {
        case .string(let text): return text
        case .blob(let data) where data.count == 16:
            let bytes = [UInt8](data)
            let uuid = UUID(
                uuid: (
                    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                    bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
                ))
            return uuid.uuidString.lowercased()
        default: throw KakehashiError(.internalFailure, "damaged change row: a record id in the local store")
        }
    }

    /// The device ids and authors of the stored changes (`change_names`), each under a number.
    struct Names {
        private var codes: [String: Int64] = [:]
        private var names: [Int64: String] = [:]

        /// Every name the store holds: one per device and advisor whose changes it has seen.
        static func load(_ db: Database) throws -> Names {
            var loaded = Names()
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT code, name FROM change_names")) {
                loaded.remember(row["name"], row["code"])
            }
            return loaded
        }

        private mutating func remember(_ name: String, _ code: Int64) {
            codes[name] = code
            names[code] = name
        }

        /// The number of `name`, added to the store when it is new.
        mutating func code(_ name: String, in db: Database) throws -> Int64 {
            if let code = codes[name] { return code }
            try db.run("INSERT INTO change_names (name) VALUES (?)", [name])
            remember(name, db.lastInsertedRowID)
            return db.lastInsertedRowID
        }

        func name(_ code: Int64) throws -> String {
            guard let name = names[code] else {
                throw KakehashiError(.internalFailure, "damaged change row: unknown name \(code) in the local store")
            }
            return name
        }
    }

    /// The row key of a change id: its device's number above its counter. Device counters count
    /// one a change, so 2^43 of them is more than a device writes.
    static func key(of id: ChangeID, names: inout Names, in db: Database) throws -> Int64 {
        try key(device: try names.code(id.device.rawValue, in: db), counter: id.counter, id: id)
    }

    private static func key(device: Int64, counter: Int64, id: ChangeID) throws -> Int64 {
        guard counter < 1 << counterBits, device < 1 << (63 - counterBits) else {
            throw KakehashiError(.internalFailure, "change id \(id) is out of the local store's range")
        }
        return device << counterBits | counter
    }

    static func id(ofKey key: Int64, names: Names) throws -> ChangeID {
        guard let device = DeviceID(try names.name(key >> counterBits)) else {
            throw KakehashiError(.internalFailure, "damaged change row \(key) in the local store")
        }
        return ChangeID(device: device, counter: key & (1 << counterBits - 1))
    }

    /// `prev` in a row: per timestamp its milliseconds (8 bytes), counter (4) and device number
    /// (4), big-endian; empty for a change that replaced nothing.
    static func prevBytes(_ prev: [HLC], names: inout Names, in db: Database) throws -> Data {
        var bytes = Data(capacity: prev.count * 16)
        for hlc in prev {
            let device = try names.code(hlc.device.rawValue, in: db)
            withUnsafeBytes(of: UInt64(bitPattern: hlc.millis).bigEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: hlc.counter.bigEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: device).bigEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    static func prev(fromBytes data: Data, names: Names) throws -> [HLC] {
        let bytes = [UInt8](data)
        guard bytes.count % 16 == 0 else {
            throw KakehashiError(
                .internalFailure, "damaged change row: prev of \(bytes.count) bytes in the local store")
        }
        func number(_ start: Int, _ count: Int) -> UInt64 {
            bytes[start..<(start + count)].reduce(0) { $0 << 8 | UInt64($1) }
        }
        return try stride(from: 0, to: bytes.count, by: 16).map { start in
            try hlc(
                millis: Int64(bitPattern: number(start, 8)), counter: UInt32(number(start + 8, 4)),
                device: Int64(number(start + 12, 4)), names: names)
        }
    }

    private static func hlc(millis: Int64, counter: UInt32, device: Int64, names: Names) throws -> HLC {
        guard let device = DeviceID(try names.name(device)) else {
            throw KakehashiError(.internalFailure, "damaged change row: a timestamp's device in the local store")
        }
        return HLC(millis: millis, counter: counter, device: device)
    }

    /// Inserts a change unless its id is already there.
    /// - Returns: whether the change was new.
    /// - Parameters:
    ///   - local: the change was made on this laptop (also when it comes back in a pull).
    ///   - pending: it still has to be pushed; by default, when it is local.
    ///   - names: the store's names (`Names.load`), kept across the changes of a batch.
    static func insert(
        _ change: Change, local: Bool, pending: Bool? = nil, names: inout Names, in db: Database
    ) throws -> Bool {
        try write(
            change, local: local, status: ((pending ?? local) ? ChangeStatus.pending : .synced).rawValue,
            names: &names, in: db)
    }

    /// Writes a change's row into `table` (`changes`, or `recovery_kept` of the same columns) unless
    /// its id is there already.
    /// - Returns: whether the row was new.
    static func write(
        _ change: Change, local: Bool, status: String, rejectCode: String? = nil, rejectReason: String? = nil,
        names: inout Names, into table: String = "changes", in db: Database
    ) throws -> Bool {
        var writer = try Writer(into: table, names: names, in: db)
        let new = try writer.write(
            change, local: local, status: status, rejectCode: rejectCode, rejectReason: rejectReason, in: db)
        names = writer.names
        return new
    }

    /// Writes the rows of a batch of changes (a pulled page) with one statement, its values bound
    /// one by one (`BoundStatement`); what `write` does for one change.
    struct Writer {
        private let table: String
        /// The store's names, with those the batch added.
        private(set) var names: Names
        /// The last record's key: a record's changes come one after the other.
        private var lastRecord: (id: String, key: DatabaseValue)?
        /// The statements that write 1, or more, rows at once, by their row count.
        private var statements: [Int: BoundStatement] = [:]

        /// The most rows one statement writes: 15 values a row, under SQLite's oldest limit of
        /// 999 values a statement.
        static let rowsPerStatement = 64

        init(into table: String = "changes", names: Names, in db: Database) throws {
            self.table = table
            self.names = names
        }

        /// - Returns: whether the row was new.
        mutating func write(
            _ change: Change, local: Bool, status: String, rejectCode: String? = nil, rejectReason: String? = nil,
            in db: Database
        ) throws -> Bool {
            let row = try prepare(change, in: db)
            var statement = try self.statement(rows: 1, in: db)
            statement.begin()
            bind(
                change, row, local: local, status: status, rejectCode: rejectCode, rejectReason: rejectReason,
                to: &statement)
            return try !statement.fetchInt64s().isEmpty
        }

        /// Writes the rows of a batch of changes, up to `rowsPerStatement` with each statement.
        /// - Parameter local: whether a change was made on this laptop.
        /// - Returns: for each change, whether its row was new: its id was neither stored nor
        ///   earlier in the batch.
        mutating func write(
            _ changes: [Change], local: (Change) -> Bool, status: String, in db: Database
        ) throws -> [Bool] {
            var new: [Bool] = []
            new.reserveCapacity(changes.count)
            var seen = Set<Int64>(minimumCapacity: changes.count)
            var rows: [Prepared] = []
            for start in stride(from: changes.startIndex, to: changes.endIndex, by: Self.rowsPerStatement) {
                let chunk = start..<min(changes.endIndex, start + Self.rowsPerStatement)
                rows.removeAll(keepingCapacity: true)
                for position in chunk { rows.append(try prepare(changes[position], in: db)) }
                var statement = try self.statement(rows: chunk.count, in: db)
                statement.begin()
                for (row, position) in zip(rows, chunk) {
                    bind(changes[position], row, local: local(changes[position]), status: status, to: &statement)
                }
                // The ids of the rows inserted (an id already stored, or twice in the statement,
                // is ignored the second time).
                let inserted = try Set(statement.fetchInt64s())
                for row in rows { new.append(inserted.contains(row.key) && seen.insert(row.key).inserted) }
            }
            return new
        }

        /// A change's values that come from the store's names, looked up (or added) before the
        /// change's statement is bound.
        private struct Prepared {
            let key: Int64
            let device: Int64
            let prev: Data
            let author: Int64
            let record: DatabaseValue
        }

        private mutating func prepare(_ change: Change, in db: Database) throws -> Prepared {
            // A new name is inserted, by a statement of its own.
            let key = try ChangeRows.key(of: change.id, names: &names, in: db)
            let device = try names.code(change.hlc.device.rawValue, in: db)
            let prev = try prevBytes(change.prev, names: &names, in: db)
            let author = try names.code(change.author, in: db)
            let record: DatabaseValue
            if let lastRecord, lastRecord.id == change.record {
                record = lastRecord.key
            } else {
                record = recordKey(change.record)
                lastRecord = (change.record, record)
            }
            return Prepared(key: key, device: device, prev: prev, author: author, record: record)
        }

        private func bind(
            _ change: Change, _ row: Prepared, local: Bool, status: String, rejectCode: String? = nil,
            rejectReason: String? = nil, to statement: inout BoundStatement
        ) {
            statement.bind(row.key)
            statement.bind(change.entity.rawValue)
            statement.bind(row.record)
            statement.bind(change.field)
            statement.bind(change.op.rawValue)
            statement.bind(valueJSON(change.value))
            statement.bind(change.hlc.millis)
            statement.bind(Int64(change.hlc.counter))
            statement.bind(row.device)
            statement.bind(blob: row.prev)
            statement.bind(row.author)
            statement.bind(local)
            statement.bind(status)
            statement.bind(rejectCode)
            statement.bind(rejectReason)
        }

        /// The statement that writes `rows` rows and returns the ids of those it inserted.
        private mutating func statement(rows: Int, in db: Database) throws -> BoundStatement {
            if let statement = statements[rows] { return statement }
            let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows)
            let statement = try BoundStatement(
                db,
                sql: """
                    INSERT OR IGNORE INTO \(table) (
                        id, entity, record, field, op, value, hlc_millis, hlc_counter, hlc_device, prev, author, local,
                        status, reject_code, reject_reason
                    )
                    VALUES \(values.joined(separator: ", "))
                    RETURNING id
                    """)
            statements[rows] = statement
            return statement
        }
    }

    static func change(from row: Row, names: Names) throws -> Change {
        let entityText: String = row["entity"]
        let opText: String = row["op"]
        let id = try Self.id(ofKey: row["id"], names: names)
        guard let entity = Entity(rawValue: entityText), let op = Change.Operation(rawValue: opText) else {
            throw KakehashiError(.internalFailure, "damaged change row \(id) in the local store")
        }
        return Change(
            id: id, entity: entity, record: try record(fromKey: row["record"]), field: row["field"], op: op,
            value: try value(fromJSON: row["value"]),
            hlc: try hlc(
                millis: row["hlc_millis"], counter: UInt32(row["hlc_counter"] as Int64), device: row["hlc_device"],
                names: names),
            prev: try prev(fromBytes: row["prev"], names: names), author: try names.name(row["author"]))
    }

    /// The changes (and their rows) a query of `changes` or `recovery_kept` returns, in its order.
    static func fetch(
        _ db: Database, sql: String, arguments: StatementArguments = StatementArguments()
    ) throws -> [(change: Change, row: Row)] {
        let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
        guard !rows.isEmpty else { return [] }
        let names = try Names.load(db)
        return try rows.map { (change: try change(from: $0, names: names), row: $0) }
    }

    /// All changes of one record and their rows, oldest first (by timestamp, then id).
    static func history(of record: String, in db: Database) throws -> [(change: Change, row: Row)] {
        try fetch(db, sql: "SELECT * FROM changes WHERE record = ?", arguments: [recordKey(record)])
            .sorted { ($0.change.hlc, $0.change.id) < ($1.change.hlc, $1.change.id) }
    }
}
