import GRDB
import KakehashiShared

/// The end of a recovery from a restored server (`SyncEngine`): once every own change has been
/// sent again and acknowledged by the restored log, the replica forgets everything it received
/// and pulls again from the start, so it holds exactly what the restored log says this device may
/// see — nothing the restore lost access to, nothing twice.
///
/// Own changes the server refused stay in the refused store; refused and re-stamped rows stay in
/// `changes` as history. Removed text is scrubbed like a purge (`Scrub`).
enum ReplicaReset {
    /// - Returns: false (and changes nothing) while changes are still pending: they must reach
    ///   the server first, or their effect would vanish from the replica until they do.
    static func run(in db: Database) throws -> Bool {
        guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM changes WHERE status = 'pending'") == 0 else {
            return false
        }
        for row in try Row.fetchAll(db, sql: "SELECT entity, id FROM record_states") {
            guard let entity = Entity(rawValue: row[0]) else { continue }
            try ChangeApplier.remove(RecordRef(entity: entity, record: row[1]), in: db)
        }
        try db.execute(sql: "DELETE FROM changes WHERE status = 'synced'")
        try Scrub.markNeeded(in: db)
        var identity = try DeviceIdentity.load(db)
        identity.cursor = WireProtocol.initialCursor
        identity.epoch = nil
        identity.recovering = false
        try identity.save(db)
        return true
    }
}
