import Foundation
import GRDB
import KakehashiShared
import ServiceLifecycle

/// The embedded change-log store: one SQLite file in WAL mode through a GRDB `DatabasePool`.
///
/// SQLite has one writer at a time, so sequence numbers are assigned in commit order and a
/// reader can never see a later sequence number before an earlier one: pulls need no watermark.
/// Pulls write too (access bookkeeping), so they take the writer briefly.
public final class SQLiteStore: ChangeLogStore {
    let pool: DatabasePool
    /// What the log keeps of each change it appends (schema version 7: the binary coding only).
    let logFormat: LogFormat

    /// Opens (creating if needed, privately: `SQLiteStoreFiles`) the database at `path` and migrates
    /// it with `migrations` (this release's; in a test, an earlier release's).
    /// - Throws: `KakehashiError` (`.unavailable`) when the file cannot be created or opened, a
    ///   newer release wrote it, or it needs migrating while another process serves it.
    public convenience init(path: String) throws {
        try self.init(path: path, migrations: StoreSchema.migrations)
    }

    init(path: String, migrations: [StoreSchema.Migration]) throws {
        try SQLiteStoreFiles.prepare(path: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB sets `synchronous = NORMAL` with WAL, which syncs only at checkpoints: a
            // power cut could then lose pushes the server had already confirmed, which laptops
            // never send again. FULL syncs the WAL at every commit (about 0.2 ms here). Only the
            // writer commits, so only its connection needs it.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Self.migrate(pool, path: path, migrations: migrations)
            logFormat = LogFormat(
                storeMeta: try pool.read { db in
                    try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'log_format'")
                })
        } catch let error as KakehashiError {
            throw error
        } catch {
            throw KakehashiError(
                .unavailable, field: "db", "cannot open SQLite store at \(path)", cause: UnderlyingError(error))
        }
    }

    /// `StoreSchema`'s migrations as GRDB migrations `v1`, `v2`, ….
    static var migrator: DatabaseMigrator { migrator(StoreSchema.migrations) }

    static func migrator(_ migrations: [StoreSchema.Migration]) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration("v\(migration.version)") { db in
                for statement in migration.sqlite { try db.execute(sql: statement) }
            }
        }
        return migrator
    }

    /// Migrates the store at `pool` to the last of `migrations` (a release's list: this one's,
    /// or in a test an earlier release's), refusing a store a newer release wrote.
    ///
    /// A store already in use is migrated only while no other process serves it: this process
    /// holds the store's `SQLiteServeLock` (`serve`), or takes it for the migration. A server of
    /// an earlier release keeps running on the schema it started with (it checks the version at
    /// start only), so an admin command of this release must not upgrade the store under it —
    /// after version 7 the log would hold rows without the JSON that server splices into its
    /// pages (`LogFormat`).
    static func migrate(
        _ pool: DatabasePool, path: String, migrations: [StoreSchema.Migration] = StoreSchema.migrations
    ) throws {
        let migrator = migrator(migrations)
        let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }.compactMap { Int($0.dropFirst()) }
        if let newest = applied.max(), newest > migrations.count {
            throw StoreSchema.newer(newest, store: "sqlite:\(path)", known: migrations)
        }
        guard applied.count < migrations.count else { return }
        var lock: SQLiteServeLock?
        if !applied.isEmpty && !SQLiteServeLock.isHeld(databasePath: path) {
            lock = try SQLiteServeLock.acquire(databasePath: path) { process in
                "the store sqlite:\(path) has schema version \(applied.max() ?? 0) and is being served by a kakehashi-server of an earlier release\(process); restart that server with this release (serve upgrades the store to version \(migrations.count)), then run this command again"
            }
        }
        defer { withExtendedLifetime(lock) {} }
        try migrator.migrate(pool)
    }

    public func append(
        _ changes: [Change], viewer: AccessPolicy.Viewer?, wallMillis: Int64, onlyIfEmpty: Bool
    ) async throws -> [PushResult] {
        let operation = AppendOperation(
            changes, viewer: viewer, wallMillis: wallMillis, onlyIfEmpty: onlyIfEmpty, format: logFormat)
        return try await pool.write { db in try Self.run(operation, db) ?? [] }
    }

    public func pull(_ request: PullRequest) async throws -> PullPage {
        try await pull(PullOperation.answering(request))
    }

    public func pull(_ request: SessionPullRequest) async throws -> SessionPullPage {
        try await pull(SessionPullOperation(request))
    }

    /// Runs a pull operation. Most pulls hand out no new access levels: they run as WAL readers,
    /// concurrently with each other and with the writer. Only when bookkeeping must change is the
    /// page computed again inside a write transaction (at once, for an operation that says it
    /// usually writes), from its first read on.
    private func pull<Operation: LogOperation & Sendable>(_ operation: Operation) async throws -> Operation.Result
    where Operation.Result: Sendable {
        if operation.triesReadOnlyFirst,
            let page = try await pool.read({ db in try Self.run(operation, db, writable: false) })
        {
            return page
        }
        return try await pool.write { db in
            guard let page = try Self.run(operation, db) else {
                throw KakehashiError(.internalFailure, "a pull in a write transaction returned no page")
            }
            return page
        }
    }

    public func history(
        device: DeviceID, viewer: AccessPolicy.Viewer, cursor: HistoryCursor, limit: Int
    ) async throws -> HistoryPage {
        let operation = HistoryOperation(device: device, viewer: viewer, cursor: cursor, limit: limit)
        guard let page = try await pool.read({ db in try Self.run(operation, db, writable: false) }) else {
            throw KakehashiError(.internalFailure, "a history read asked for writes")
        }
        return page
    }

    public func record(_ entity: Entity, _ id: String) async throws -> RecordState? {
        try await pool.read { db in
            try Data.fetchOne(
                try db.cachedStatement(sql: "SELECT state FROM records WHERE entity = ? AND id = ?"),
                arguments: [entity.rawValue, id]
            ).map { try StoreCoding.state($0, entity: entity, id: id) }
        }
    }

    public func records(_ entity: Entity) async throws -> [RecordState] {
        try await pool.read { db in try Self.states(of: entity, db) }
    }

    public func highestHLC() async throws -> HLC? {
        try await pool.read { db in try Self.latestHLC(db) }
    }

    public func epoch() async throws -> String {
        try await pool.read { db in
            let statement = try db.cachedStatement(sql: "SELECT value FROM store_meta WHERE key = 'epoch'")
            guard let epoch = try String.fetchOne(statement) else {
                throw KakehashiError(.internalFailure, "the store has no epoch (store_meta)")
            }
            return epoch
        }
    }

    public func renewEpoch() async throws -> String {
        try await pool.write { db in
            try db.execute(sql: StoreSchema.renewEpoch.sqlite)
            return try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'epoch'") ?? ""
        }
    }

    public func check() async throws -> StoreCheck.Report {
        // One read transaction: the log and the states are checked as of one moment.
        try await pool.read { db in
            let version =
                try Self.migrator.appliedIdentifiers(db).compactMap { Int($0.dropFirst()) }.max() ?? 0
            let epoch = try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'epoch'") ?? ""
            var check = StoreCheck(schemaVersion: version, epoch: epoch)
            let seqs = try Int64.fetchCursor(db, sql: "SELECT seq FROM changes ORDER BY seq")
            while let seq = try seqs.next() { check.sequence(seq) }
            var current: RecordRef?
            var changes: [Change] = []
            var seen = Set<RecordRef>()
            func finish() throws {
                guard let ref = current else { return }
                let stored = try Data.fetchOne(
                    db, sql: "SELECT state FROM records WHERE entity = ? AND id = ?",
                    arguments: [ref.entity.rawValue, ref.record]
                ).map { try StoreCoding.state($0, entity: ref.entity, id: ref.record) }
                check.record(ref, changes: changes, stored: stored)
                seen.insert(ref)
            }
            let rows = try Row.fetchCursor(
                db, sql: "SELECT entity, record, body, seq, packed FROM changes ORDER BY entity, record, seq")
            while let row = try rows.next() {
                let seq: Int64 = row[3]
                let stored = StoredChange(json: row[2], binary: (row[4] as Data?).map { [UInt8]($0) })
                guard let entity = Entity(rawValue: row[0]), let change = try? StoreCoding.change(stored) else {
                    check.unreadable("change \(seq) cannot be read")
                    continue
                }
                let ref = RecordRef(entity: entity, record: row[1])
                if ref != current {
                    try finish()
                    current = ref
                    changes = []
                }
                changes.append(change)
            }
            try finish()
            let orphans = try Row.fetchAll(db, sql: "SELECT entity, id FROM records").compactMap { row in
                Entity(rawValue: row[0]).map { RecordRef(entity: $0, record: row[1]) }
            }.filter { !seen.contains($0) }
            check.orphanStates(orphans)
            check.newestTimestamp(
                kept: try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'latest_hlc'"),
                logged: try String.fetchOne(db, sql: "SELECT max(hlc) FROM changes"))
            return check.finished()
        }
    }

    public func changeCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM changes") ?? 0 }
    }

    public func snapshot(entities: [Entity], since: Int64?) async throws -> LogSnapshot {
        // One read transaction: a WAL snapshot, so the states, the head and the history agree.
        let operation = SnapshotOperation(entities: entities, since: since)
        return try await pool.read { db in
            guard let snapshot = try Self.run(operation, db, writable: false) else {
                throw KakehashiError(.internalFailure, "a snapshot asked to write")
            }
            return snapshot
        }
    }

    public func snapshot(
        entities: [Entity], streaming streamed: Entity, since: Int64?, pageSize: Int, into stream: any SnapshotStream
    ) async throws {
        let operation = StreamedSnapshotOperation(
            entities: entities, streaming: streamed, since: since, pageSize: pageSize, into: stream)
        // One read transaction for the snapshot and every page, however long the stream takes.
        try await pool.read { db in
            guard try Self.run(operation, db, writable: false) != nil else {
                throw KakehashiError(.internalFailure, "a snapshot asked to write")
            }
        }
    }

    public func addEnrollmentCode(hash: String, advisor: String, createdAt: Int64, expiresAt: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO enrollment_codes (code_hash, advisor, created_at, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [hash, advisor, createdAt, expiresAt])
        }
    }

    public func redeemEnrollmentCode(
        hash: String, device: DeviceRecord, tokenHash: String, now: Int64
    ) async throws
        -> String?
    {
        try await pool.write { db in
            guard
                let advisor = try String.fetchOne(
                    db,
                    sql:
                        "SELECT advisor FROM enrollment_codes WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?",
                    arguments: [hash, now])
            else { return nil }
            try db.execute(
                sql: "UPDATE enrollment_codes SET used_at = ?, device = ? WHERE code_hash = ?",
                arguments: [now, device.id.rawValue, hash])
            try db.execute(
                sql: "INSERT INTO devices (id, advisor, name, token_hash, enrolled_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [device.id.rawValue, advisor, device.name, tokenHash, device.enrolledAt])
            return advisor
        }
    }

    public func device(tokenHash: String) async throws -> (device: DeviceRecord, tokenHash: String)? {
        try await pool.read { db in
            try Row.fetchOne(
                try db.cachedStatement(
                    sql:
                        "SELECT id, advisor, name, enrolled_at, revoked_at, token_hash FROM devices WHERE token_hash = ?"
                ),
                arguments: [tokenHash]
            ).flatMap { row in Self.device(row).map { ($0, row[5]) } }
        }
    }

    public func devices() async throws -> [DeviceRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, advisor, name, enrolled_at, revoked_at FROM devices ORDER BY enrolled_at, id"
            ).compactMap(Self.device)
        }
    }

    public func revoke(_ device: DeviceID, at: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE devices SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
                arguments: [at, device.rawValue])
            return db.changesCount > 0
        }
    }

    public func recordActivity(_ activity: [DeviceActivityRecord]) async throws {
        guard !activity.isEmpty else { return }
        try await pool.write { db in
            let update = try db.cachedStatement(
                sql: """
                    UPDATE devices SET last_seen_at = max(coalesce(last_seen_at, 0), ?),
                        app_version = coalesce(?, app_version), pulled_seq = coalesce(?, pulled_seq)
                    WHERE id = ?
                    """)
            for record in activity {
                try update.execute(
                    arguments: [record.lastSeenAt, record.appVersion, record.pulledSeq, record.device.rawValue])
            }
        }
    }

    public func deviceHealth() async throws -> DeviceHealthReport {
        try await pool.read { db in
            let head = try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq), 0) FROM changes") ?? 0
            let devices = try Row.fetchAll(
                db,
                sql: "SELECT id, advisor, revoked_at, app_version, last_seen_at, pulled_seq FROM devices ORDER BY id"
            ).compactMap { row -> DeviceHealth? in
                guard let id = DeviceID(row[0]) else { return nil }
                let revokedAt: Int64? = row[2]
                return DeviceHealth(
                    id: id, advisor: row[1], revoked: revokedAt != nil, appVersion: row[3], lastSeenAt: row[4],
                    pulledSeq: row[5])
            }
            return DeviceHealthReport(head: head, devices: devices)
        }
    }

    /// None: GRDB's pool needs no background work.
    public var services: [any Service] { [] }

    /// Moves everything from the WAL into the database file before closing, so that a stopped
    /// server's `.sqlite` file alone is the whole store. (Another process still reading, such as
    /// an admin command, may keep the checkpoint from finishing; the last one to close completes it.)
    public func close() async {
        _ = try? await pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        try? pool.close()
    }

    public func backup(to path: String) async throws {
        let files = FileManager.default
        guard !files.fileExists(atPath: path) else {
            throw KakehashiError.invalid("out", "\(path) already exists; give a new file name")
        }
        let partial = path + ".partial-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        do {
            defer { try? files.removeItem(atPath: partial) }
            let destination = try DatabaseQueue(path: partial)
            // A read transaction of the live store: writers go on while the pages are copied.
            try pool.backup(to: destination)
            try await destination.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            try destination.close()
            guard chmod(partial, 0o600) == 0, link(partial, path) == 0 else {
                throw KakehashiError(
                    .unavailable, field: "out", "cannot create \(path): \(String(cString: strerror(errno)))")
            }
        } catch let error as KakehashiError {
            throw error
        } catch {
            throw KakehashiError(
                .unavailable, field: "out", "cannot write the backup to \(path)", cause: UnderlyingError(error))
        }
    }

    /// A device from the columns `id, advisor, name, enrolled_at, revoked_at` of `row`.
    static func device(_ row: Row) -> DeviceRecord? {
        guard let id = DeviceID(row[0]) else { return nil }
        return DeviceRecord(id: id, advisor: row[1], name: row[2], enrolledAt: row[3], revokedAt: row[4])
    }
}
