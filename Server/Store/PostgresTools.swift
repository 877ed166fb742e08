import Foundation
import KakehashiShared
import Logging
import PostgresNIO

/// PostgreSQL's own tools for backup and restore (`pg_dump`, `pg_restore`), given the store's
/// connection through libpq's environment variables so no password appears in a process list.
enum PostgresTools {
    /// Writes `pg_dump --format=custom` of the store to `path` (mode 0600; never over an existing file).
    static func dump(url: String, to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw KakehashiError.invalid("out", "\(path) already exists; give a new file name")
        }
        let partial = path + ".partial-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        defer { try? FileManager.default.removeItem(atPath: partial) }
        let previous = umask(0o077)
        defer { umask(previous) }
        try run("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", "--file=" + partial], url: url)
        guard chmod(partial, 0o600) == 0, link(partial, path) == 0 else {
            throw KakehashiError(
                .unavailable, field: "out", "cannot create \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Replaces the store's tables with those of a `pg_dump --format=custom` file, in one transaction.
    static func restore(url: String, from path: String) throws {
        let endpoint = try PostgresStore.Endpoint(url)
        try run(
            "pg_restore",
            [
                "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                "--dbname=" + (endpoint.database ?? endpoint.username), path,
            ],
            url: url)
    }

    /// Gives a just-restored store a new epoch without migrating it (a backup of a store older
    /// than the epoch has none; the migration then creates one).
    static func renewEpochIfPresent(url: String, logger: Logger) async throws {
        let connection = try await PostgresStore.connect(url, id: 3, logger: logger)
        do {
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        DO $$ BEGIN
                            IF to_regclass('store_meta') IS NOT NULL THEN \(StoreSchema.renewEpoch.postgres); END IF;
                        END $$
                        """), logger: logger)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Runs one of PostgreSQL's client programs against the store; its stderr is the error.
    private static func run(_ tool: String, _ arguments: [String], url: String) throws {
        let endpoint = try PostgresStore.Endpoint(url)
        var environment = ProcessInfo.processInfo.environment
        environment["PGHOST"] = endpoint.host
        environment["PGPORT"] = String(endpoint.port)
        environment["PGUSER"] = endpoint.username
        environment["PGPASSWORD"] = endpoint.password
        environment["PGDATABASE"] = endpoint.database ?? endpoint.username
        // The URL's own sslmode (verify-full included) goes to libpq as written; without one the
        // operator's PGSSLMODE, or libpq's default, applies.
        if let mode = URLComponents(string: url)?.queryItems?.first(where: { $0.name == "sslmode" })?.value {
            environment["PGSSLMODE"] = mode
        }
        guard let executable = locate(tool) else {
            throw KakehashiError(
                .unavailable,
                "\(tool) is not installed; install PostgreSQL's client programs (Debian: postgresql-client)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let lines = message.split(separator: "\n").prefix(3).joined(separator: "; ")
            throw KakehashiError(.unavailable, "\(tool) failed (exit \(process.terminationStatus)): \(lines)")
        }
    }

    /// `tool` on `$PATH`, else in the newest `/usr/lib/postgresql/*/bin`.
    private static func locate(_ tool: String) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let candidates =
            path.map { "\($0)/\(tool)" }
            + versions.sorted { $0.compare($1, options: .numeric) == .orderedDescending }.map {
                "/usr/lib/postgresql/\($0)/bin/\(tool)"
            }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// The PostgreSQL counterpart of `SQLiteServeLock`: every serving process holds a shared
/// session-level advisory lock on a connection of its own, and `restore` takes it exclusively,
/// so a restore refuses while any server runs and no server starts while a restore runs.
/// PostgreSQL drops the lock when the connection ends, even when the process is killed.
public final class PostgresServeLock: Sendable {
    static let key: Int64 = 0x6B61_6B65_7365_7276
    private let connection: PostgresConnection

    private init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// - Parameter exclusive: false for `serve` (many servers share a database), true for `restore`.
    /// - Throws: `KakehashiError` (`.unavailable`, field `db`) when the other kind holds it.
    public static func acquire(url: String, exclusive: Bool, logger: Logger) async throws -> PostgresServeLock {
        let connection = try await PostgresStore.connect(url, id: 2, logger: logger)
        let function = exclusive ? "pg_try_advisory_lock" : "pg_try_advisory_lock_shared"
        var granted = false
        for try await value in try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT \(function)(\(key))"), logger: logger
        ).decode(Bool.self) {
            granted = value
        }
        guard granted else {
            try? await connection.close()
            throw KakehashiError(
                .unavailable, field: "db",
                exclusive
                    ? "a kakehashi-server is serving this PostgreSQL store; stop every server first"
                    : "a restore is running on this PostgreSQL store; start the server when it has finished")
        }
        return PostgresServeLock(connection: connection)
    }

    /// Ends the session, and with it the lock.
    public func release() async {
        try? await connection.close()
    }
}
