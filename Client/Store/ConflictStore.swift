import Foundation
import GRDB
import KakehashiShared

/// The `conflicts` table: each record's current conflicts, refreshed whenever its state changes,
/// with a short id people can type.
enum ConflictStore {
    static func refresh(_ state: RecordState, in db: Database) throws {
        try db.run("DELETE FROM conflicts WHERE record = ?", [state.id])
        let conflicts = state.conflicts
        guard !conflicts.isEmpty else { return }
        let encoder = JSONEncoder()
        for conflict in conflicts {
            try db.execute(
                sql: "INSERT OR REPLACE INTO conflicts (id, short_id, entity, record, body) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    conflict.id, shortID(conflict.id), conflict.entity.rawValue, conflict.record,
                    String(decoding: try encoder.encode(conflict), as: UTF8.self),
                ])
        }
    }

    /// Ten hex digits of FNV-1a: stable on every replica, short enough to type.
    static func shortID(_ id: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String((String(repeating: "0", count: max(0, 16 - hex.count)) + hex).prefix(10))
    }

    static func all(in db: Database) throws -> [Conflict] {
        let decoder = JSONDecoder()
        return try String.fetchAll(db, sql: "SELECT body FROM conflicts ORDER BY entity, record, id").map {
            try decoder.decode(Conflict.self, from: Data($0.utf8))
        }
    }

    static func find(_ id: String, in db: Database) throws -> Conflict? {
        guard
            let body = try String.fetchOne(
                db, sql: "SELECT body FROM conflicts WHERE short_id = ? OR id = ?", arguments: [id, id])
        else { return nil }
        return try JSONDecoder().decode(Conflict.self, from: Data(body.utf8))
    }
}
