import Foundation
import KakehashiServer
import KakehashiShared
import Logging
import PostgresNIO
import Testing

/// The two store implementations every router test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The throwaway cluster `make test` starts (scripts/test-postgres.sh).
    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["KAKEHASHI_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// SQLite always; PostgreSQL when the test cluster is there.
    static var available: [StoreKind] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    static let logger: Logger = {
        var logger = Logger(label: "kakehashi-server-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// A new, empty store location: a file in a fresh temporary directory, or a fresh database.
    func freshLocation() async throws -> StoreLocation {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "kakehashi-server-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return .sqlite(path: directory.appendingPathComponent("server.sqlite").path)
        case .postgres:
            let base = try #require(Self.postgresURL)
            let name = "k_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try await Self.withAdminClient(base) { client in
                try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Self.logger)
            }
            var components = try #require(URLComponents(string: base))
            components.path = "/" + name
            return .postgres(url: try #require(components.string))
        }
    }

    static func withAdminClient(_ url: String, _ body: (PostgresClient) async throws -> Void) async throws {
        let components = try #require(URLComponents(string: url))
        let client = PostgresClient(
            configuration: .init(
                host: components.host ?? "127.0.0.1", port: components.port ?? 5432,
                username: components.user ?? "postgres", password: nil, database: "postgres", tls: .disable),
            backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client)
        }
    }

    /// A new store whose log is of `format` (`store_meta`'s `log_format`): this release writes
    /// SQLite logs without JSON and keeps it on PostgreSQL, and every reader of both stores must
    /// read both kinds of rows alike.
    func freshLocation(format: LogFormat) async throws -> StoreLocation {
        let location = try await freshLocation()
        await (try await RunningStore.open(location, logger: Self.logger)).close()
        let update = "UPDATE store_meta SET value = '\(format.rawValue)' WHERE key = 'log_format'"
        switch location {
        case .sqlite(let path): try await StoreUpgradeTests.tool(["sqlite3", path, update])
        case .postgres(let url):
            try await StoreUpgradeTests.tool(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", update])
        }
        return location
    }

    /// Opens a new store with the initial programs seeded; its log of `format`, or of the one
    /// this release gives a new store of this kind.
    func makeStore(format: LogFormat? = nil) async throws -> any ChangeLogStore {
        let location: StoreLocation
        if let format {
            location = try await freshLocation(format: format)
        } else {
            location = try await freshLocation()
        }
        let store = try await RunningStore.open(location, logger: Self.logger)
        try await AdminService(store: store).seedProgramsIfEmpty()
        return store
    }
}
