import GRDB
import KakehashiShared

/// `kakehashi status`: what is waiting, what was refused, when the laptop last synced.
extension FieldClient {
    public struct Status: Sendable, Encodable {
        public let server: String
        public let device: String
        public let advisor: String
        public let advisorName: String?
        public let pending: Int
        public let rejected: [SyncEngine.Rejection]
        public let conflicts: Int
        /// Entries of the refused store (`kakehashi refused`): own changes kept after the server
        /// refused them or access to their case was withdrawn.
        public let refused: Int
        /// Unix milliseconds of the last completed sync, nil if never.
        public let lastSync: Int64?
        /// The same moment in ISO 8601, Japan time with its offset (`2026-04-01T10:00:00+09:00`).
        public let lastSyncAt: String?
        public let cursor: String
        public let clockOffsetMillis: Int64
        /// Whether part of the change history (`kakehashi log`) has not arrived since a bootstrap
        /// from states; the next syncs download it.
        public let historyPending: Bool
        /// Whether a bootstrap stopped before its last page, leaving the search index to build.
        public let searchIndexPending: Bool
    }

    public func status() throws -> Status {
        try store.read { db in
            let identity = try DeviceIdentity.load(db)
            let rejected = try ChangeRows.fetch(
                db, sql: "SELECT * FROM changes WHERE \(ChangeStatus.rejected.condition) ORDER BY id"
            ).map { change, row in
                SyncEngine.Rejection(
                    change: change.id.description, record: change.record, field: change.field,
                    code: row["reject_code"] ?? "rejected", reason: row["reject_reason"] ?? "")
            }
            return Status(
                server: identity.server, device: identity.device.rawValue, advisor: identity.advisor,
                advisorName: try String.fetchOne(
                    db, sql: "SELECT name FROM advisors WHERE id = ?", arguments: [identity.advisor]),
                pending: try PushQueue.count(in: db),
                rejected: rejected, conflicts: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM conflicts") ?? 0,
                refused: try RefusedStore.count(in: db),
                lastSync: identity.lastSync, lastSyncAt: identity.lastSync.map { JapanTime.iso(millis: $0) },
                cursor: identity.cursor, clockOffsetMillis: identity.clockOffset,
                historyPending: try PendingHistories.anyPending(in: db), searchIndexPending: identity.indexPending)
        }
    }
}
