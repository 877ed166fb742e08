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
        guard try PushQueue.count(in: db) == 0 else {
            return false
        }
        for row in try Row.fetchAll(db, sql: "SELECT entity, id FROM record_states") {
            guard let entity = Entity(rawValue: row[0]) else { continue }
            try ChangeApplier.remove(RecordRef(entity: entity, record: row[1]), in: db)
        }
        // Own changes are set aside first: those the restored log does not give back (a case this
        // device may no longer see) go to the refused store when the download ends, as a purge
        // would keep them (`keepWhatDidNotComeBack`).
        try db.execute(
            sql: "INSERT OR IGNORE INTO recovery_kept SELECT * FROM changes WHERE local = 1 AND status = ?",
            arguments: [ChangeStatus.synced.rawValue])
        try db.execute(sql: "DELETE FROM changes WHERE status = ?", arguments: [ChangeStatus.synced.rawValue])
        try Scrub.markNeeded(in: db)
        var identity = try DeviceIdentity.load(db)
        identity.cursor = WireProtocol.initialCursor
        identity.epoch = nil
        identity.recovering = false
        identity.history = nil
        identity.indexPending = false
        try PendingHistories.clear(in: db)
        try identity.save(db)
        return true
    }

    /// Whether a reset replica waits for the download from the start to give its own changes
    /// back (`keepWhatDidNotComeBack` has not run yet).
    static func awaitsOwnChanges(in db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM recovery_kept)") ?? false
    }

    /// After the download from the start: own changes set aside at the reset that did not come
    /// back go to the refused store, as if a purge had taken them.
    /// - Returns: the number of new refused-store entries.
    static func keepWhatDidNotComeBack(at time: Int64, in db: Database) throws -> Int {
        let missing = try ChangeRows.fetch(
            db, sql: "SELECT * FROM recovery_kept WHERE id NOT IN (SELECT id FROM changes)"
        ).map { $0.change }
        try db.execute(sql: "DELETE FROM recovery_kept")
        let kept = missing.map {
            RefusedStore.Kept(
                change: $0, code: RefusedStore.withdrawnCode,
                reason: "the restored server no longer lets this device see the record", onServer: true)
        }
        return try RefusedStore.keep(kept, cause: .withdrawn, at: time, in: db)
    }
}
