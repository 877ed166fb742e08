import Foundation
import Testing

/// The throwaway PostgreSQL cluster `make test` starts (scripts/test-postgres.sh), for tests that
/// run real servers on PostgreSQL too.
enum TestPostgres {
    static var url: String? {
        ProcessInfo.processInfo.environment["KAKEHASHI_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A new, empty database in the cluster, as a `postgres://` URL.
    static func freshDatabase() throws -> String {
        let base = try #require(url)
        let name = "k_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        _ = try query(base, "CREATE DATABASE \(name)")
        var components = try #require(URLComponents(string: base))
        components.path = "/" + name
        return try #require(components.string)
    }

    /// Runs `sql` with `psql` and returns the rows, one line each, columns joined by `|`.
    static func query(_ database: String, _ sql: String) throws -> [String] {
        let result = try Executables.runTool(["psql", database, "-v", "ON_ERROR_STOP=1", "-q", "-At", "-c", sql])
        guard result.status == 0 else { throw CommandFailed(command: "psql -c \(sql)", result: result) }
        return result.stdout.split(separator: "\n").map(String.init)
    }
}
