import Foundation
import KakehashiShared
import Logging
import NIOSSL
import PostgresNIO
import ServiceLifecycle

/// The change-log store on PostgreSQL, for one or several `kakehashi-server` processes sharing
/// one database.
///
/// Writers (pushes and admin writes) take one transaction-level advisory lock around sequence
/// assignment and insert, so sequence numbers are assigned and committed in the same order: a
/// pull that sees sequence N can never later discover a smaller one committing. This serializes
/// writers across processes, which the merge needs anyway (each accepted change rewrites its
/// record's merged state); pulls do not take the lock.
public final class PostgresStore: ChangeLogStore {
    /// The connection pool. Queries go through `client`, which waits until the pool runs.
    private let pool: PostgresClient
    /// Opened by `services` as the pool starts to run.
    private let poolRuns = StartGate()
    private let logger: Logger

    /// The pool, once it runs. A command runs its work beside the store's services
    /// (`StoreLocation.withStore`), so its first query could otherwise ask the pool for a
    /// connection a moment before `run()` began, which PostgresNIO answers with a warning on
    /// every operator command's stderr.
    private var client: PostgresClient {
        get async {
            await poolRuns.wait()
            return pool
        }
    }
    /// The URL the store was opened with (for `pg_dump`).
    let url: String
    /// What the log keeps of each change it appends: `LogFormat.json` on PostgreSQL, whose
    /// processes may be of two releases during a rolling restart.
    let logFormat: LogFormat

    /// The advisory lock key of the log writer ("kakehashi" in ASCII, truncated).
    static let writerLock: Int64 = 0x6B61_6B65_6861_7368
    static let migrationLock: Int64 = 0x6B61_6B65_6D69_6772

    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=require]`) and
    /// migrates the schema with `migrations` (this release's; in a test, an earlier release's).
    /// - Throws: `KakehashiError` (`.usage`) for a malformed URL, (`.unavailable`) when the
    ///   database cannot be reached or a newer release wrote it.
    public convenience init(url: String, logger: Logger) async throws {
        try await self.init(url: url, logger: logger, migrations: StoreSchema.migrations)
    }

    init(url: String, logger: Logger, migrations: [StoreSchema.Migration]) async throws {
        let configuration = try Self.configuration(url)
        // The schema is migrated on one connection of its own: an unreachable database fails at
        // once (the pool would retry it for ever in the background), and a migration that takes
        // long on a large store is not cut short by a timer.
        let connection: PostgresConnection
        do {
            connection = try await Self.connect(url, id: 1, logger: logger)
        } catch {
            throw KakehashiError(
                .unavailable, field: "db", "cannot reach the PostgreSQL store \(StoreLocation.postgres(url: url))",
                cause: UnderlyingError(description: Self.connectionFailure(error)))
        }
        do {
            logFormat = try await Self.migrate(connection, migrations: migrations, logger: logger)
            try await connection.close()
        } catch let error as KakehashiError {
            try? await connection.close()
            throw error
        } catch {
            try? await connection.close()
            throw KakehashiError(
                .unavailable, field: "db", "cannot use the PostgreSQL store", cause: UnderlyingError(error))
        }
        self.url = url
        // The pool's own lifecycle (a connection being made when a command closes the store, and
        // the like) is logged at info by PostgresNIO: operators see its warnings and errors, and
        // queries that fail report themselves.
        var poolLogger = logger
        poolLogger.logLevel = max(logger.logLevel, .warning)
        pool = PostgresClient(configuration: configuration, backgroundLogger: poolLogger)
        self.logger = logger
    }

    /// The connection pool, which must run while the store is used: queries wait for it.
    /// `kakehashi-server serve` runs it in the application's service group, other commands in
    /// `StoreLocation.withStore`.
    public var services: [any Service] { [PoolService(pool: pool, runs: poolRuns)] }

    /// Runs the pool, and opens the gate queries wait at once it has started.
    ///
    /// `PostgresClient.run()` marks the pool running as its first step, but nothing says when that
    /// step has happened: opened just before the call, the gate let a waiting query through first
    /// on a busy machine (`ExecutablesTests` caught it in CI). So the gate opens a moment after
    /// the pool has been started, far longer than the start takes; the only cost is that moment
    /// at the start of a command.
    private struct PoolService: Service {
        let pool: PostgresClient
        let runs: StartGate
        static let startMargin = Duration.milliseconds(100)

        func run() async throws {
            async let running: Void = pool.run()
            try? await Task.sleep(for: Self.startMargin)
            runs.open()
            await running
        }
    }

    /// The parts of a `postgres://` URL.
    struct Endpoint: Sendable {
        let host: String
        let port: Int
        let username: String
        let password: String?
        let database: String?
        let requireTLS: Bool

        init(_ text: String) throws(KakehashiError) {
            guard let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
                throw KakehashiError(
                    .usage, field: "db", "'\(StoreLocation.postgres(url: text))' is not a postgres:// URL")
            }
            let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
            self.host = host
            port = url.port ?? 5432
            username = url.user?.removingPercentEncoding ?? "postgres"
            password = url.password?.removingPercentEncoding
            self.database = database.isEmpty ? nil : database
            requireTLS = url.queryItems?.first(where: { $0.name == "sslmode" })?.value == "require"
        }
    }

    static func configuration(_ text: String) throws(KakehashiError) -> PostgresClient.Configuration {
        let endpoint = try Endpoint(text)
        var configuration = PostgresClient.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.username, password: endpoint.password,
            database: endpoint.database, tls: endpoint.requireTLS ? .require(.makeClientConfiguration()) : .disable)
        configuration.options.maximumConnections = 10
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// The useful part of a connection failure (refused, unknown host, authentication), without
    /// the driver's query details.
    static func connectionFailure(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return String(describing: underlying) }
        return String(describing: error.code)
    }

    /// One connection of its own, outside the pool (the migration, the serve lock, a restore).
    static func connect(_ text: String, id: Int, logger: Logger) async throws -> PostgresConnection {
        let endpoint = try Endpoint(text)
        var configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.username, password: endpoint.password,
            database: endpoint.database,
            tls: endpoint.requireTLS ? .require(try .init(configuration: .makeClientConfiguration())) : .disable)
        configuration.options.connectTimeout = .seconds(5)
        return try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
    }

    /// Runs `body` in a transaction, rethrowing the body's own error (not the driver's wrapper),
    /// so `KakehashiError`s reach the HTTP edge intact.
    private func transaction<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws
        -> Result
    {
        try await Self.unwrapped {
            try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        }
    }

    /// Runs a transaction, rethrowing its body's own error rather than the driver's wrapper.
    private static func unwrapped<Result>(_ transaction: () async throws -> Result) async throws -> Result {
        do {
            return try await transaction()
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError { throw inner }
            throw error
        }
    }

    /// Applies the `migrations` not yet recorded in `schema_migrations`, under an advisory lock so
    /// servers starting together migrate once; refuses a store a newer release wrote. Returns the
    /// log's format (`store_meta`).
    private static func migrate(
        _ connection: PostgresConnection, migrations: [StoreSchema.Migration], logger: Logger
    ) async throws -> LogFormat {
        try await unwrapped {
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
                try await connection.query(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                    logger: logger)
                var applied = Set<Int64>()
                for try await version in try await connection.query(
                    "SELECT version FROM schema_migrations", logger: logger
                ).decode(Int64.self) {
                    applied.insert(version)
                }
                if let newest = applied.max(), newest > migrations.count {
                    throw StoreSchema.newer(Int(newest), store: "the PostgreSQL store", known: migrations)
                }
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                for migration in migrations where !applied.contains(Int64(migration.version)) {
                    for statement in migration.postgres {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES (\(Int64(migration.version)), \(now))",
                        logger: logger)
                }
                var format: String?
                for try await value in try await connection.query(
                    "SELECT value FROM store_meta WHERE key = 'log_format'", logger: logger
                ).decode(String.self) {
                    format = value
                }
                return LogFormat(storeMeta: format)
            }
        }
    }

    public func append(
        _ changes: [Change], viewer: AccessPolicy.Viewer?, wallMillis: Int64, onlyIfEmpty: Bool
    ) async throws -> [PushResult] {
        let logger = logger
        let operation = AppendOperation(
            changes, viewer: viewer, wallMillis: wallMillis, onlyIfEmpty: onlyIfEmpty, format: logFormat)
        return try await transaction { connection in
            try await Self.holdServeLockShare(connection, logger)
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.writerLock))", logger: logger)
            return try await Self.run(operation, connection, logger)
        }
    }

    public func pull(_ request: PullRequest) async throws -> PullPage {
        try await pull(PullOperation.answering(request))
    }

    public func pull(_ request: SessionPullRequest) async throws -> SessionPullPage {
        try await pull(SessionPullOperation(request))
    }

    private func pull<Operation: LogOperation & Sendable>(_ operation: Operation) async throws -> Operation.Result
    where Operation.Result: Sendable {
        let logger = logger
        return try await transaction { connection in
            try await Self.holdServeLockShare(connection, logger)
            return try await Self.run(operation, connection, logger)
        }
    }

    public func history(
        device: DeviceID, viewer: AccessPolicy.Viewer, cursor: HistoryCursor, limit: Int
    ) async throws -> HistoryPage {
        let logger = logger
        let operation = HistoryOperation(device: device, viewer: viewer, cursor: cursor, limit: limit)
        return try await transaction { connection in
            try await Self.holdServeLockShare(connection, logger)
            return try await Self.run(operation, connection, logger)
        }
    }

    public func record(_ entity: Entity, _ id: String) async throws -> RecordState? {
        for try await stored in try await client.query(
            "SELECT state FROM records WHERE entity = \(entity.rawValue) AND id = \(id)", logger: logger
        ).decode(Data.self) {
            return try StoreCoding.state(stored, entity: entity, id: id)
        }
        return nil
    }

    public func records(_ entity: Entity) async throws -> [RecordState] {
        let logger = logger
        return try await client.withConnection { connection in try await Self.states(of: entity, connection, logger) }
    }

    public func highestHLC() async throws -> HLC? {
        for try await text in try await client.query("SELECT max(hlc) FROM changes", logger: logger).decode(
            String?.self)
        {
            return text.flatMap(HLC.init)
        }
        return nil
    }

    public func snapshot(entities: [Entity], since: Int64?) async throws -> LogSnapshot {
        let logger = logger
        let operation = SnapshotOperation(entities: entities, since: since)
        // A repeatable-read transaction: every query sees the same committed log.
        return try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            return try await Self.run(operation, connection, logger)
        }
    }

    public func snapshot(
        entities: [Entity], streaming streamed: Entity, since: Int64?, pageSize: Int, into stream: any SnapshotStream
    ) async throws {
        let logger = logger
        let operation = StreamedSnapshotOperation(
            entities: entities, streaming: streamed, since: since, pageSize: pageSize, into: stream)
        // One repeatable-read transaction for the snapshot and every page.
        try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            try await Self.run(operation, connection, logger)
        }
    }

    public func epoch() async throws -> String {
        for try await epoch in try await client.query(
            "SELECT value FROM store_meta WHERE key = 'epoch'", logger: logger
        ).decode(String.self) {
            return epoch
        }
        throw KakehashiError(.internalFailure, "the store has no epoch (store_meta)")
    }

    public func renewEpoch() async throws -> String {
        try await client.query(PostgresQuery(unsafeSQL: StoreSchema.renewEpoch.postgres), logger: logger)
        return try await epoch()
    }

    public func check() async throws -> StoreCheck.Report {
        let logger = logger
        return try await transaction { connection in
            // One snapshot for every statement: the log and the states as of one moment.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            var version: Int64 = 0
            for try await value in try await connection.query(
                "SELECT coalesce(max(version), 0)::BIGINT FROM schema_migrations", logger: logger
            ).decode(Int64.self) {
                version = value
            }
            var epoch = ""
            for try await value in try await connection.query(
                "SELECT value FROM store_meta WHERE key = 'epoch'", logger: logger
            ).decode(String.self) {
                epoch = value
            }
            var check = StoreCheck(schemaVersion: Int(version), epoch: epoch)
            for try await seq in try await connection.query("SELECT seq FROM changes ORDER BY seq", logger: logger)
                .decode(Int64.self)
            {
                check.sequence(seq)
            }
            // Pages of whole records in (entity, record, seq) order; each page's states in one query.
            var after = (entity: "", record: "")
            while true {
                var groups: [(RecordRef, [Change])] = []
                for try await (entity, record, body, seq, packed) in try await connection.query(
                    """
                    SELECT entity, record, body, seq, packed FROM changes
                    WHERE (entity, record) IN (
                        SELECT DISTINCT entity, record FROM changes WHERE (entity, record) > (\(after.entity), \(after.record))
                        ORDER BY entity, record LIMIT 500)
                    ORDER BY entity, record, seq
                    """, logger: logger
                ).decode((String, String, String, Int64, Data?).self) {
                    after = (entity, record)
                    guard let kind = Entity(rawValue: entity),
                        let change = try? StoreCoding.change(StoredChange(json: body, packed: packed))
                    else {
                        check.unreadable("change \(seq) cannot be read")
                        continue
                    }
                    let ref = RecordRef(entity: kind, record: record)
                    if groups.last?.0 == ref {
                        groups[groups.count - 1].1.append(change)
                    } else {
                        groups.append((ref, [change]))
                    }
                }
                if groups.isEmpty { break }
                var states: [RecordRef: RecordState] = [:]
                let ids = groups.map(\.0.record)
                for try await (entity, id, state) in try await connection.query(
                    "SELECT entity, id, state FROM records WHERE id = ANY(\(ids))", logger: logger
                ).decode((String, String, Data).self) {
                    if let kind = Entity(rawValue: entity) {
                        states[RecordRef(entity: kind, record: id)] = try? StoreCoding.state(
                            state, entity: kind, id: id)
                    }
                }
                for (ref, changes) in groups { check.record(ref, changes: changes, stored: states[ref]) }
            }
            var orphans: [RecordRef] = []
            for try await (entity, id) in try await connection.query(
                """
                SELECT entity, id FROM records r
                WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.entity = r.entity AND c.record = r.id)
                """, logger: logger
            ).decode((String, String).self) {
                if let kind = Entity(rawValue: entity) { orphans.append(RecordRef(entity: kind, record: id)) }
            }
            check.orphanStates(orphans)
            return check.finished()
        }
    }

    public func changeCount() async throws -> Int {
        for try await count in try await client.query("SELECT count(*)::BIGINT FROM changes", logger: logger).decode(
            Int64.self)
        {
            return Int(count)
        }
        return 0
    }

    public func addEnrollmentCode(hash: String, advisor: String, createdAt: Int64, expiresAt: Int64) async throws {
        try await client.query(
            """
            INSERT INTO enrollment_codes (code_hash, advisor, created_at, expires_at)
            VALUES (\(hash), \(advisor), \(createdAt), \(expiresAt))
            """, logger: logger)
    }

    public func redeemEnrollmentCode(
        hash: String, device: DeviceRecord, tokenHash: String, now: Int64
    ) async throws
        -> String?
    {
        let logger = logger
        return try await transaction { connection in
            var advisor: String?
            for try await value in try await connection.query(
                """
                UPDATE enrollment_codes SET used_at = \(now), device = \(device.id.rawValue)
                WHERE code_hash = \(hash) AND used_at IS NULL AND expires_at > \(now) RETURNING advisor
                """, logger: logger
            ).decode(String.self) {
                advisor = value
            }
            guard let advisor else { return nil }
            try await connection.query(
                """
                INSERT INTO devices (id, advisor, name, token_hash, enrolled_at)
                VALUES (\(device.id.rawValue), \(advisor), \(device.name), \(tokenHash), \(device.enrolledAt))
                """, logger: logger)
            return advisor
        }
    }

    public func device(tokenHash: String) async throws -> (device: DeviceRecord, tokenHash: String)? {
        for try await row in try await client.query(
            """
            SELECT id, advisor, name, enrolled_at, revoked_at, token_hash FROM devices WHERE token_hash = \(tokenHash)
            """, logger: logger
        ).decode((String, String, String?, Int64, Int64?, String).self) {
            guard let id = DeviceID(row.0) else { return nil }
            return (DeviceRecord(id: id, advisor: row.1, name: row.2, enrolledAt: row.3, revokedAt: row.4), row.5)
        }
        return nil
    }

    public func devices() async throws -> [DeviceRecord] {
        var devices: [DeviceRecord] = []
        for try await row in try await client.query(
            "SELECT id, advisor, name, enrolled_at, revoked_at FROM devices ORDER BY enrolled_at, id", logger: logger
        ).decode((String, String, String?, Int64, Int64?).self) {
            if let id = DeviceID(row.0) {
                devices.append(
                    DeviceRecord(id: id, advisor: row.1, name: row.2, enrolledAt: row.3, revokedAt: row.4))
            }
        }
        return devices
    }

    public func revoke(_ device: DeviceID, at: Int64) async throws -> Bool {
        var found = false
        for try await _ in try await client.query(
            "UPDATE devices SET revoked_at = coalesce(revoked_at, \(at)) WHERE id = \(device.rawValue) RETURNING id",
            logger: logger
        ).decode(String.self) {
            found = true
        }
        return found
    }

    public func recordActivity(_ activity: [DeviceActivityRecord]) async throws {
        guard !activity.isEmpty else { return }
        let ids = activity.map(\.device.rawValue)
        let seen = activity.map(\.lastSeenAt)
        let versions = activity.map { $0.appVersion ?? "" }
        let pulled = activity.map { $0.pulledSeq ?? -1 }
        try await client.query(
            """
            UPDATE devices SET last_seen_at = GREATEST(coalesce(devices.last_seen_at, 0), a.s),
                app_version = coalesce(NULLIF(a.v, ''), devices.app_version),
                pulled_seq = CASE WHEN a.p < 0 THEN devices.pulled_seq ELSE a.p END
            FROM unnest(\(ids)::TEXT[], \(seen)::BIGINT[], \(versions)::TEXT[], \(pulled)::BIGINT[]) AS a(i, s, v, p)
            WHERE devices.id = a.i
            """, logger: logger)
    }

    public func deviceHealth() async throws -> DeviceHealthReport {
        try await transaction { connection in
            try await connection.query(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            var head: Int64 = 0
            for try await value in try await connection.query(
                "SELECT coalesce(max(seq), 0)::BIGINT FROM changes", logger: logger
            ).decode(Int64.self) {
                head = value
            }
            var devices: [DeviceHealth] = []
            for try await row in try await connection.query(
                "SELECT id, advisor, revoked_at, app_version, last_seen_at, pulled_seq FROM devices ORDER BY id",
                logger: logger
            ).decode((String, String, Int64?, String?, Int64?, Int64?).self) {
                guard let id = DeviceID(row.0) else { continue }
                devices.append(
                    DeviceHealth(
                        id: id, advisor: row.1, revoked: row.2 != nil, appVersion: row.3, lastSeenAt: row.4,
                        pulledSeq: row.5))
            }
            return DeviceHealthReport(head: head, devices: devices)
        }
    }

    /// `pg_dump --format=custom` of the whole database (a consistent snapshot while it serves),
    /// which `kakehashi-server restore` gives to `pg_restore`.
    public func backup(to path: String) async throws {
        try PostgresTools.dump(url: url, to: path)
    }

    /// Nothing to release: the pool closes its connections when its service ends.
    public func close() async {}

    /// A share of `PostgresServeLock` for this transaction, taken first: while `restore` holds
    /// the lock, pushes and pulls wait for it instead of writing into tables about to be
    /// replaced, even when the serving process lost the session that holds its own share.
    private static func holdServeLockShare(_ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT pg_advisory_xact_lock_shared(\(PostgresServeLock.key))"), logger: logger)
    }
}
