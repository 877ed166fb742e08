import Foundation
import GRDB
import KakehashiShared

/// Reading and writing `Change` values as rows of the `changes` table.
enum ChangeRows {
    static func valueJSON(_ value: FieldValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .integer(let number): String(number)
        case .string(let text): JSONText.quote(text)
        }
    }

    static func value(fromJSON text: String) -> FieldValue {
        switch text {
        case "null": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        default:
            if let number = Int64(text) { return .integer(number) }
            if let data = text.data(using: .utf8), let string = try? JSONDecoder().decode(String.self, from: data) {
                return .string(string)
            }
            return .null
        }
    }

    /// Inserts a change unless its id is already there.
    /// - Returns: whether the change was new.
    /// - Parameters:
    ///   - local: the change was made on this laptop (also when it comes back in a pull).
    ///   - pending: it still has to be pushed; by default, when it is local.
    static func insert(_ change: Change, local: Bool, pending: Bool? = nil, in db: Database) throws -> Bool {
        try db.run(
            """
            INSERT OR IGNORE INTO changes (id, entity, record, field, op, value, hlc, prev, author, local, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                change.id.description, change.entity.rawValue, change.record, change.field, change.op.rawValue,
                valueJSON(change.value), change.hlc.description, JSONText.array(change.prev.map(\.description)),
                change.author, local, ((pending ?? local) ? ChangeStatus.pending : .synced).rawValue,
            ])
        return db.changesCount > 0
    }

    static func change(from row: Row) throws -> Change {
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
            value: value(fromJSON: row["value"]), hlc: hlc, prev: JSONText.parseArray(prevText).compactMap(HLC.init),
            author: row["author"])
    }

    /// All changes of one record, oldest first.
    static func history(of record: String, in db: Database) throws -> [Change] {
        try Row.fetchAll(db, sql: "SELECT * FROM changes WHERE record = ? ORDER BY hlc", arguments: [record])
            .map(change(from:))
    }
}
