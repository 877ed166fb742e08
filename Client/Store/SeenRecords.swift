import GRDB
import KakehashiShared

/// What the user may not have seen yet, by id: read before and after a sync, the difference is
/// what the sync brought (`SyncEngine.Arrivals`).
struct SeenRecords {
    /// The cases on this laptop.
    var cases: Set<String>
    /// The referral events naming this laptop's advisor as `referred_to`.
    var referrals: Set<String>
    /// The current conflicts.
    var conflicts: Set<String>

    static func read(_ db: Database) throws -> SeenRecords {
        let advisor = try DeviceIdentity.load(db).advisor
        return SeenRecords(
            cases: Set(try String.fetchAll(db, sql: "SELECT id FROM record_states WHERE entity = 'case'")),
            referrals: Set(
                try String.fetchAll(db, sql: "SELECT id FROM events WHERE referred_to = ?", arguments: [advisor])),
            conflicts: Set(try String.fetchAll(db, sql: "SELECT id FROM conflicts")))
    }
}
