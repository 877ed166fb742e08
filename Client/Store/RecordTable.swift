import Foundation
import GRDB
import KakehashiSQLite
import KakehashiShared

/// The current-state table of one entity: one row per record, one column per schema field,
/// generated from `Schema` so a new field needs no hand-written migration.
///
/// Scalar fields hold their value; set fields hold a JSON array of their elements. `deleted`
/// mirrors `RecordState.isDeleted`. (Before migration v8 an `updated` column held the newest
/// edit's timestamp as text; nothing read it.)
struct RecordTable: Sendable {
    let schema: EntitySchema

    init(_ entity: Entity) { schema = entity.schema }

    /// `cases`, `events`, … (plural, so no table is named after an SQL keyword).
    var name: String { Self.name(of: schema.entity) }

    static func name(of entity: Entity) -> String {
        switch entity {
        case .advisor: "advisors"
        case .program: "programs"
        case .organization: "organizations"
        case .case: "cases"
        case .event: "events"
        case .seed: "seeds"
        case .need: "needs"
        }
    }

    static func quoted(_ identifier: String) -> String { "\"" + identifier + "\"" }

    /// Creates the table, or adds the columns of fields added to the schema since it was made.
    func create(_ db: Database) throws {
        if try !db.tableExists(name) {
            try db.execute(
                sql: """
                    CREATE TABLE \(name) (
                        id TEXT PRIMARY KEY NOT NULL,
                        deleted INTEGER NOT NULL DEFAULT 0
                    )
                    """)
        }
        let existing = Set(try db.columns(in: name).map(\.name))
        for field in schema.fields where !existing.contains(field.name) {
            try db.execute(sql: "ALTER TABLE \(name) ADD COLUMN \(Self.quoted(field.name)) \(columnType(field))")
        }
    }

    private func columnType(_ field: FieldSpec) -> String {
        switch field.kind {
        case .integer, .yen, .bool: "INTEGER"
        default: "TEXT"
        }
    }

    /// The statement that writes one row, built once per entity.
    private static let upsertSQL: [Entity: String] = Dictionary(
        uniqueKeysWithValues: Entity.allCases.map { entity in
            let columns = ["id", "deleted"] + entity.schema.fields.map { quoted($0.name) }
            let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
            return (
                entity,
                "INSERT OR REPLACE INTO \(name(of: entity)) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))"
            )
        })

    /// The statement that writes this entity's rows (`materialize(_:with:)`).
    func upsertStatement(_ db: Database) throws -> BoundStatement {
        try BoundStatement(db, sql: Self.upsertSQL[schema.entity] ?? "")
    }

    /// Writes a record's merged state into its row.
    func materialize(_ state: RecordState, in db: Database) throws {
        var statement = try upsertStatement(db)
        try materialize(state, with: &statement)
    }

    /// Writes a record's merged state into its row with this entity's `upsertStatement`.
    func materialize(_ state: RecordState, with statement: inout BoundStatement) throws {
        statement.begin()
        statement.bind(state.id)
        statement.bind(state.isDeleted)
        for field in schema.fields {
            // Set fields hold a JSON array of their elements; scalars their value (NULL unset).
            if field.isSet {
                statement.bind(JSONText.array(state.elements(field.name)))
            } else {
                statement.bind(state.value(field.name))
            }
        }
        try statement.execute()
    }

    func delete(_ id: String, in db: Database) throws {
        try db.execute(sql: "DELETE FROM \(name) WHERE id = ?", arguments: [id])
    }
}

/// Compact JSON for small arrays stored in TEXT columns.
enum JSONText {
    static func array(_ elements: [String]) -> String {
        "[" + elements.map(quote).joined(separator: ",") + "]"
    }

    static func quote(_ text: String) -> String {
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func parseArray(_ text: String?) -> [String] {
        guard let text, let data = text.data(using: .utf8),
            let array = try? JSONDecoder().decode([String].self, from: data)
        else { return [] }
        return array
    }
}
