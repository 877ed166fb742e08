import Foundation
import GRDB
import KakehashiShared

/// The laptop's "refused" store (the `refused` table): own changes the server refused, and own
/// changes a purge took away because the laptop lost access to their case, each copied in full
/// before anything is deleted. Nothing the user typed disappears silently; entries stay until the
/// user removes them (`kakehashi refused clear`).
///
/// One row per change. The changes of one record kept at the same moment form one entry, whose
/// short id (`entry`) is what people type: a note refused by the server is one entry, however
/// many fields it set.
enum RefusedStore {
    enum Cause: String, Sendable, Encodable {
        /// The server answered `rejected` (any code the client does not recover from by itself).
        case rejected
        /// A purge removed the case (or event) from this laptop: access was withdrawn.
        case withdrawn
    }

    static let withdrawnCode = "access-withdrawn"
    static let withdrawnReason = "access to the case was withdrawn"

    /// One own change to keep, with why.
    struct Kept {
        let change: Change
        /// The server's code, or `access-withdrawn`.
        let code: String
        let reason: String
        /// The server holds the change (it was synced before access was withdrawn).
        var onServer = false
    }

    /// Copies own changes into the store, one entry per record; changes already kept are skipped.
    /// Call it before the changes or their records are deleted: the record's title (or its case's
    /// title) is read from what the laptop still holds, and kept while the laptop may see it.
    /// - Returns: the number of new entries.
    @discardableResult
    static func keep(_ items: [Kept], cause: Cause, at time: Int64, in db: Database) throws -> Int {
        var order: [RecordRef] = []
        var grouped: [RecordRef: [Kept]] = [:]
        for item in items {
            let ref = RecordRef(entity: item.change.entity, record: item.change.record)
            if grouped[ref] == nil { order.append(ref) }
            grouped[ref, default: []].append(item)
        }
        var entries = 0
        for ref in order {
            let group = grouped[ref] ?? []
            guard let first = group.first else { continue }
            let entry = shortID(first.change.id)
            let (caseID, context) = try self.context(of: ref, changes: group.map(\.change), in: db)
            var inserted = false
            for item in group {
                let change = item.change
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO refused
                            (change, entry, entity, record, field, op, value, hlc, case_id, context, cause, code,
                             reason, on_server, kept_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        change.id.description, entry, change.entity.rawValue, change.record, change.field,
                        change.op.rawValue, ChangeRows.valueJSON(change.value), change.hlc.description, caseID,
                        context, cause.rawValue, item.code, item.reason, item.onServer, time,
                    ])
                inserted = inserted || db.changesCount > 0
            }
            if inserted { entries += 1 }
        }
        return entries
    }

    /// Keeps every own change of `refs` before a purge deletes them: pending and synced ones as
    /// withdrawn, refused ones (not yet kept) with the server's reason. What the user typed stays;
    /// the titles of the lost records, which others may have written, do not: no entry keeps
    /// them once the laptop has lost access (Docs/design.md §6).
    /// - Returns: the number of new entries.
    @discardableResult
    static func keepBeforePurge(_ refs: [RecordRef], at time: Int64, in db: Database) throws -> Int {
        var withdrawn: [Kept] = []
        var rejected: [Kept] = []
        for ref in refs {
            let rows = try ChangeRows.fetch(
                db,
                sql: """
                    SELECT * FROM changes
                    WHERE entity = ? AND record = ? AND local = 1 AND status != ?
                    ORDER BY id
                    """,
                arguments: [ref.entity.rawValue, ChangeRows.recordKey(ref.record), ChangeStatus.restamped.rawValue])
            let kept = Set(
                try String.fetchAll(
                    db, sql: "SELECT change FROM refused WHERE entity = ? AND record = ?",
                    arguments: [ref.entity.rawValue, ref.record]))
            for (change, row) in rows where !kept.contains(change.id.description) {
                let status = ChangeStatus(rawValue: row["status"])
                switch status {
                case .rejected:
                    rejected.append(
                        Kept(change: change, code: row["reject_code"] ?? "rejected", reason: row["reject_reason"] ?? "")
                    )
                default:
                    withdrawn.append(
                        Kept(change: change, code: withdrawnCode, reason: withdrawnReason, onServer: status == .synced)
                    )
                }
            }
        }
        let entries =
            try keep(withdrawn, cause: .withdrawn, at: time, in: db)
            + keep(rejected, cause: .rejected, at: time, in: db)
        for ref in refs {
            try db.execute(
                sql: "UPDATE refused SET context = NULL WHERE context IS NOT NULL AND (record = ? OR case_id = ?)",
                arguments: [ref.record, ref.entity == .case ? ref.record : nil])
        }
        return entries
    }

    /// Ten hex digits that differ from the first digit on, even for consecutive change ids
    /// (FNV-1a followed by the SplitMix64 finalizer), so a short prefix is enough to type.
    static func shortID(_ change: ChangeID) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in change.description.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        let hex = String(hash, radix: 16)
        return String((String(repeating: "0", count: max(0, 16 - hex.count)) + hex).prefix(10))
    }

    static func count(in db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT entry) FROM refused") ?? 0
    }

    /// The case a record belongs to and a title to recognise it by: a case's title, an event's
    /// case title, an organization's name, a seed's or need's title.
    private static func context(
        of ref: RecordRef, changes: [Change], in db: Database
    ) throws -> (caseID: String?, title: String?) {
        let state = try ChangeApplier.loadState(ref, in: db)
        func written(_ field: String) -> String? {
            changes.last { $0.field == field && $0.op == .set }?.value.stringValue
        }
        func title(_ state: RecordState?, _ field: String) -> String? {
            state?.value(field).stringValue
        }
        switch ref.entity {
        case .case:
            return (ref.record, title(state, "title") ?? written("title"))
        case .event:
            guard let caseID = state?.value("case").stringValue ?? written("case") else { return (nil, nil) }
            let caseState = try ChangeApplier.loadState(RecordRef(entity: .case, record: caseID), in: db)
            return (caseID, title(caseState, "title"))
        case .organization, .advisor, .program:
            return (nil, title(state, "name") ?? written("name"))
        case .seed, .need:
            return (nil, title(state, "title") ?? written("title"))
        }
    }
}

/// Reading and removing what the refused store holds (`kakehashi refused`). All offline.
extension FieldClient {
    /// One entry of the refused store: own changes to one record, kept together.
    public struct RefusedEntry: Sendable, Encodable {
        /// The short id people type (a unique prefix works too).
        public let id: String
        /// `rejected` (the server refused it) or `withdrawn` (access to the case was withdrawn).
        public let cause: String
        /// The server's code (`forbidden`, `invalid`, `clock-skew`) or `access-withdrawn`.
        public let code: String
        public let reason: String
        public let entity: Entity
        public let record: String
        /// The case the record belongs to (the case itself, or an event's case).
        public let caseID: String?
        /// The record's title, or its case's title, as the laptop knew it.
        public let title: String?
        /// When it was kept, ISO 8601 in Japan time.
        public let keptAt: String
        public let keptAtMillis: Int64
        public let changes: [Item]

        /// One change, with its value in full.
        public struct Item: Sendable, Encodable {
            public let change: String
            public let field: String?
            public let op: Change.Operation
            public let value: FieldValue
            public let hlc: String
            /// When it was written, ISO 8601 in Japan time.
            public let writtenAt: String
            /// Whether the server holds this change (it was synced before access was withdrawn).
            public let onServer: Bool
            public let code: String
            public let reason: String
        }

        enum CodingKeys: String, CodingKey {
            case id, cause, code, reason, entity, record, title, keptAt, changes
            case caseID = "case"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(cause, forKey: .cause)
            try container.encode(code, forKey: .code)
            try container.encode(reason, forKey: .reason)
            try container.encode(entity, forKey: .entity)
            try container.encode(record, forKey: .record)
            try container.encode(caseID, forKey: .caseID)
            try container.encode(title, forKey: .title)
            try container.encode(keptAt, forKey: .keptAt)
            try container.encode(changes, forKey: .changes)
        }
    }

    /// Every entry of the refused store, oldest first.
    public func refused() throws -> [RefusedEntry] {
        try store.read { db in try Self.refusedEntries(where: "1", arguments: [], in: db) }
    }

    /// One entry, by its short id, a unique prefix of it, or the id of one of its changes.
    /// - Throws: `.invalidData` naming `id` when nothing or more than one entry matches.
    public func refused(_ id: String) throws -> RefusedEntry {
        try store.read { db in try Self.refusedEntry(id, in: db) }
    }

    /// Removes one entry for good.
    @discardableResult
    public func clearRefused(_ id: String) throws -> RefusedEntry {
        try store.write { db in
            let entry = try Self.refusedEntry(id, in: db)
            try db.execute(sql: "DELETE FROM refused WHERE entry = ?", arguments: [entry.id])
            return entry
        }
    }

    /// Removes every entry; returns how many there were.
    @discardableResult
    public func clearAllRefused() throws -> Int {
        try store.write { db in
            let count = try RefusedStore.count(in: db)
            try db.execute(sql: "DELETE FROM refused")
            return count
        }
    }

    public func refusedCount() throws -> Int {
        try store.read { try RefusedStore.count(in: $0) }
    }

    private static func refusedEntry(_ id: String, in db: Database) throws -> RefusedEntry {
        let wanted = TextNormalization.normalize(id).trimmingCharacters(in: .whitespaces).lowercased()
        guard !wanted.isEmpty else { throw KakehashiError.invalid("id", "が空です。`kakehashi refused` に出る ID を指定してください") }
        let ids = try String.fetchAll(
            db,
            sql: "SELECT DISTINCT entry FROM refused WHERE entry = ? OR substr(entry, 1, ?) = ? OR change = ?",
            arguments: [wanted, wanted.count, wanted, wanted])
        let exact = ids.filter { $0 == wanted }
        let matches = exact.isEmpty ? ids : exact
        guard let entry = matches.first else {
            throw KakehashiError.invalid("id", "'\(id)' に当たる保管済みの変更はこの端末にありません。`kakehashi refused` で確認してください")
        }
        guard matches.count == 1 else {
            throw KakehashiError.invalid(
                "id", "'\(id)' は \(matches.count) 件に当たります（\(matches.sorted().joined(separator: ", "))）。もう少し長く指定してください",
                validValues: matches.sorted())
        }
        guard let found = try refusedEntries(where: "entry = ?", arguments: [entry], in: db).first else {
            throw KakehashiError.invalid("id", "'\(id)' に当たる保管済みの変更はこの端末にありません")
        }
        return found
    }

    private static func refusedEntries(
        where condition: String, arguments: StatementArguments, in db: Database
    ) throws -> [RefusedEntry] {
        let rows = try Row.fetchAll(
            db, sql: "SELECT * FROM refused WHERE \(condition) ORDER BY kept_at, rowid", arguments: arguments)
        var order: [String] = []
        var grouped: [String: [Row]] = [:]
        for row in rows {
            let entry: String = row["entry"]
            if grouped[entry] == nil { order.append(entry) }
            grouped[entry, default: []].append(row)
        }
        return try order.compactMap { entry in
            guard let rows = grouped[entry], let first = rows.first else { return nil }
            let entityText: String = first["entity"]
            guard let entity = Entity(rawValue: entityText) else {
                throw KakehashiError(.internalFailure, "damaged refused entry \(entry) in the local store")
            }
            let keptAt: Int64 = first["kept_at"]
            var reasons: [String] = []
            for row in rows {
                let reason: String = row["reason"]
                if !reasons.contains(reason) { reasons.append(reason) }
            }
            return RefusedEntry(
                id: entry, cause: first["cause"], code: first["code"], reason: reasons.joined(separator: "; "),
                entity: entity,
                record: first["record"], caseID: first["case_id"], title: first["context"],
                keptAt: RefusedTime.iso(keptAt), keptAtMillis: keptAt,
                changes: try rows.map { row in
                    let hlcText: String = row["hlc"]
                    return RefusedEntry.Item(
                        change: row["change"], field: row["field"], op: Change.Operation(rawValue: row["op"]) ?? .set,
                        value: try ChangeRows.value(fromJSON: row["value"]), hlc: hlcText,
                        writtenAt: HLC(hlcText).map { RefusedTime.iso($0.millis) } ?? "",
                        onServer: row["on_server"], code: row["code"], reason: row["reason"])
                })
        }
    }
}

/// ISO 8601 times in Japan time, with the offset, for `--json` and exports.
enum RefusedTime {
    static func iso(_ millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "Asia/Tokyo")
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
