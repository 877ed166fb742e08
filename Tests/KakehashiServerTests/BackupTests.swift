import Foundation
import Testing

/// Copies of the embedded store an operator can rely on: an online `backup` and a stopped
/// server's database file, each a complete store on its own.
@Suite struct BackupTests {
    typealias Real = SafeDefaultsTests

    /// The advisor names a store holds, read with a real `kakehashi-server advisors`.
    static func advisors(_ db: String) async throws -> [String] {
        let listed = try await Real.run(["advisors", "--json"], db: db)
        try #require(listed.status == 0, "\(listed.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
        return rows.compactMap { $0["name"] as? String }.sorted()
    }

    @Test func aBackupTakenWhileServingIsACompleteStoreAndNeverOverwritesAFile() async throws {
        let directory = try Real.directory()
        let db = "sqlite:" + directory.appendingPathComponent("server.sqlite").path
        let (server, _) = try await Real.serve(db: db)
        defer { Real.stop(server) }
        for name in ["山田太郎", "佐藤花子"] {
            let added = try await Real.run(
                ["advisor", "add", "--name", name, "--role", "business-producer", "--program", "business-production"],
                db: db)
            try #require(added.status == 0, "\(added.stderr)")
        }

        let copy = directory.appendingPathComponent("backup-2026-12-02.sqlite").path
        let backup = try await Real.run(["backup", "--out", copy], db: db)
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(Real.mode(copy) == 0o600)
        #expect(!FileManager.default.fileExists(atPath: copy + "-wal"), "the backup is one file")
        #expect(try await Self.advisors("sqlite:" + copy) == ["佐藤花子", "山田太郎"])

        let again = try await Real.run(["backup", "--out", copy], db: db)
        #expect(again.status == 65 && again.stderr.contains("out"), "\(again)")
    }

    @Test func aStoppedServersDatabaseFileAloneIsTheWholeStore() async throws {
        let directory = try Real.directory()
        let path = directory.appendingPathComponent("server.sqlite").path
        let (server, _) = try await Real.serve(db: "sqlite:" + path)
        let added = try await Real.run(
            ["advisor", "add", "--name", "山田太郎", "--role", "business-producer", "--program", "business-production"],
            db: "sqlite:" + path)
        try #require(added.status == 0, "\(added.stderr)")
        Real.stop(server)

        // A cold copy of the database file only, as an operator's file backup would take it.
        let cold = try Real.directory().appendingPathComponent("copy.sqlite").path
        try FileManager.default.copyItem(atPath: path, toPath: cold)
        #expect(try await Self.advisors("sqlite:" + cold) == ["山田太郎"])
    }
}
