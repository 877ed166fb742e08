import Foundation
import GRDB
import KakehashiShared

/// Times for people and for `--json`, always in Japan time: `2026-04-01T10:00:00+09:00` (ISO
/// 8601 with its offset) in JSON, `2026-04-01 10:00 JST` in text.
public enum JapanTime {
    static let isoFormatter: DateFormatter = formatter("yyyy-MM-dd'T'HH:mm:ssxxx")
    static let textFormatter: DateFormatter = formatter("yyyy-MM-dd HH:mm")

    static func formatter(_ format: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Tokyo")
        formatter.dateFormat = format
        return formatter
    }

    /// `2026-04-01T10:00:00+09:00`.
    public static func iso(millis: Int64) -> String {
        isoFormatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    /// `2026-04-01 10:00 JST`.
    public static func text(millis: Int64) -> String {
        textFormatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000)) + " JST"
    }
}

/// Formatting of HLC times: ISO 8601 in Japan time with its offset.
enum HistoryFormatting {
    static func time(_ hlc: HLC) -> String { JapanTime.iso(millis: hlc.millis) }
}

/// `kakehashi log ID`: every change to a record, oldest first, with the value each replaced.
extension FieldClient {
    public struct HistoryEntry: Sendable, Encodable {
        public let change: String
        public let field: String
        public let op: String
        public let old: FieldValue
        public let new: FieldValue
        public let author: String
        public let device: String
        public let time: String
        public let hlc: String
        /// `pending` (not yet pushed), `synced`, or `rejected`.
        public let status: String
    }

    /// - Returns: also whether the history may lack older changes: after a bootstrap from states,
    ///   or once this device gained access to the record (or, for an event, its case) and received
    ///   it as a state, the history arrives over the next syncs (`SyncEngine.downloadHistory`).
    public func history(_ id: String) throws -> (entity: Entity, entries: [HistoryEntry], complete: Bool) {
        try store.read { db in
            let canonical = try RecordResolver.resolve(
                id, among: Entity.allCases, field: "id", includeDeleted: true, in: db
            ).record
            let rows = try ChangeRows.history(of: canonical, in: db)
            let complete = try !PendingHistories.isPending(canonical, in: db)
            let stateEntity = try String.fetchOne(
                db, sql: "SELECT entity FROM record_states WHERE id = ?", arguments: [canonical])
            guard let entityText = rows.first?.change.entity.rawValue ?? (complete ? nil : stateEntity) else {
                throw KakehashiError.invalid("id", "no record with id \(canonical) on this laptop")
            }
            let entity = Entity(rawValue: entityText) ?? .case
            var replay = RecordState(entity: entity, id: canonical)
            var entries: [HistoryEntry] = []
            for (change, row) in rows {
                let key = change.register
                let old = replay.winner(key)?.value ?? (change.op == .delete ? .bool(false) : .null)
                replay.apply(change)
                let field = change.op == .delete ? "(deleted)" : key.element.map { "\(key.field)[\($0)]" } ?? key.field
                entries.append(
                    HistoryEntry(
                        change: change.id.description, field: field, op: change.op.rawValue, old: old,
                        new: change.registerValue, author: change.author, device: change.hlc.device.rawValue,
                        time: HistoryFormatting.time(change.hlc), hlc: change.hlc.description, status: row["status"]))
            }
            return (entity, entries, complete)
        }
    }
}
