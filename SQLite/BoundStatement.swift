import Foundation
import GRDB
import GRDBSQLite
import KakehashiShared

/// A cached statement whose values are bound one by one through SQLite's C interface, for the
/// statements run for every change and every record: a pulled page's on the laptop, a push's
/// log rows and states on the server's SQLite store. GRDB's `StatementArguments`
/// boxes each value and binds it through a nested closure: for a change row that cost more than
/// SQLite's own work (a profile of pull-apply, 2026-12-03).
///
/// Each run binds every parameter, in order, after `begin()`, then runs with `execute()` or
/// `fetchRow(_:)`. GRDB still runs the statement (`Statement.execute()`), so its transaction
/// bookkeeping sees it like any other.
public struct BoundStatement {
    public let statement: Statement
    private var index: CInt = 0

    public init(_ db: Database, sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
    }

    /// Starts a run: resets the statement and clears its values. No values stay from the last
    /// run, nor from any other use of the cached statement.
    public mutating func begin() {
        // Marks the arguments as bound, so `execute()` runs with the values bound below instead
        // of binding again the last arguments GRDB was given.
        statement.setUncheckedArguments(StatementArguments())
        index = 0
    }

    public mutating func bind(_ value: Int64) {
        index += 1
        sqlite3_bind_int64(statement.sqliteStatement, index, value)
    }

    public mutating func bind(_ value: Bool) {
        bind(value ? 1 as Int64 : 0)
    }

    public mutating func bindNull() {
        index += 1
        sqlite3_bind_null(statement.sqliteStatement, index)
    }

    public mutating func bind(_ text: String) {
        index += 1
        guard !text.isEmpty else {
            // Not a null pointer, which SQLite binds as NULL.
            _ = sqlite3_bind_text(statement.sqliteStatement, index, "", 0, nil)
            return
        }
        var text = text
        text.withUTF8 { bytes in
            _ = bytes.withMemoryRebound(to: CChar.self) { chars in
                sqlite3_bind_text(
                    statement.sqliteStatement, index, chars.baseAddress, CInt(chars.count), Self.transient)
            }
        }
    }

    public mutating func bind(_ text: String?) {
        if let text { bind(text) } else { bindNull() }
    }

    public mutating func bind(blob bytes: [UInt8]) {
        bytes.withUnsafeBytes { bind(blob: $0) }
    }

    public mutating func bind(blob data: Data) {
        data.withUnsafeBytes { bind(blob: $0) }
    }

    private mutating func bind(blob buffer: UnsafeRawBufferPointer) {
        index += 1
        guard let base = buffer.baseAddress, !buffer.isEmpty else {
            // An empty blob, not a null pointer, which SQLite binds as NULL.
            sqlite3_bind_zeroblob(statement.sqliteStatement, index, 0)
            return
        }
        sqlite3_bind_blob(statement.sqliteStatement, index, base, CInt(buffer.count), Self.transient)
    }

    /// A value as GRDB would bind it (`DatabaseValueConvertible`).
    public mutating func bind(_ value: DatabaseValue) {
        switch value.storage {
        case .null: bindNull()
        case .int64(let number): bind(number)
        case .double(let number):
            index += 1
            sqlite3_bind_double(statement.sqliteStatement, index, number)
        case .string(let text): bind(text)
        case .blob(let data): bind(blob: data)
        }
    }

    /// A field's value as an entity column holds it (`RecordTable.columnValue`).
    public mutating func bind(_ value: FieldValue) {
        switch value {
        case .null: bindNull()
        case .string(let text): bind(text)
        case .integer(let number): bind(number)
        case .bool(let flag): bind(flag)
        }
    }

    /// Runs the statement with the values bound since `begin()`.
    public func execute() throws {
        try statement.execute()
    }

    /// Runs the statement with the values bound since `begin()`, and reads the integer of each
    /// row it returns (`RETURNING id`).
    public func fetchInt64s() throws -> [Int64] {
        try Int64.fetchAll(statement)
    }

    /// Runs the query with the values bound since `begin()`, and reads its first row, if any.
    public func fetchRow<T>(_ read: (Row) throws -> T) throws -> T? {
        let rows = try Row.fetchCursor(statement)
        guard let row = try rows.next() else { return nil }
        return try read(row)
    }

    /// SQLite copies the bytes before the bind call returns (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
}
