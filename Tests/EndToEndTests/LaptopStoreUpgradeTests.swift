import Foundation
import GRDB
import KakehashiShared
import Testing

@testable import KakehashiClient

/// A laptop's store written by the previous build (`Tests/Fixtures/laptop-VERSION`, made by that
/// build's own binaries with `make-laptop-fixture.sh`) opens with this one and prints what that
/// build printed: every record, every change of its history, the same search results, the same
/// pending changes. Migration `v8-compact` rewrites every change row and the search index.
@Suite struct LaptopStoreUpgradeTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The local store versions of earlier builds, each with a fixture.
    static let versions = ["v7"]

    /// A laptop whose home holds a copy of the fixture's store.
    static func laptop(_ version: String) throws -> (laptop: Laptop, expected: URL) {
        let laptop = Laptop(advisor: "")
        let fixture = fixtures.appendingPathComponent("laptop-\(version)")
        try FileManager.default.copyItem(
            at: fixture.appendingPathComponent(LocalStore.fileName),
            to: URL(fileURLWithPath: laptop.home.path).appendingPathComponent(LocalStore.fileName))
        return (laptop, fixture.appendingPathComponent("expected"))
    }

    static func text(_ file: URL) throws -> String {
        try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(arguments: versions)
    func theUpgradedStorePrintsWhatThePreviousBuildPrinted(version: String) throws {
        let (laptop, expected) = try Self.laptop(version)
        var compared = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: expected.path).sorted()
        where file.hasSuffix(".json") {
            let name = String(file.dropLast(5))
            let arguments: [String]
            if name.hasPrefix("log-") {
                arguments = ["log", try Self.text(expected.appendingPathComponent(name + ".id"))]
            } else if name.hasPrefix("search-") {
                arguments = ["search", try Self.text(expected.appendingPathComponent(name + ".word"))]
            } else if name.hasPrefix("event-list-") {
                let caseFile = expected.appendingPathComponent("log-" + name.dropFirst("event-list-".count) + ".id")
                arguments = ["event", "list", try Self.text(caseFile)]
            } else if name == "case-list" {
                arguments = ["case", "list"]
            } else {
                arguments = [name]
            }
            let output = try laptop.check(arguments + ["--json"]).output
            #expect(output == (try Self.text(expected.appendingPathComponent(file))), "kakehashi \(arguments)")
            compared += 1
        }
        #expect(compared >= 15)
    }

    /// The pending changes go out in the order they were written, each still pending, and the
    /// rows hold no identifier text any more.
    @Test(arguments: versions)
    func pendingChangesKeepTheirOrderAndRowsLoseTheirIdentifierText(version: String) throws {
        let (laptop, _) = try Self.laptop(version)
        // Read from the copy with plain SQLite, before this build opens it: opening the fixture
        // itself would leave WAL files beside it.
        let (pendingBefore, names) = try Self.previousFacts(laptop.home.path + "/" + LocalStore.fileName)
        // Two laptops, the server's administration devices, and the authors of their changes.
        #expect(pendingBefore.count > 1 && names.count >= 5)
        let client = try FieldClient.open(directory: laptop.home.path)
        let pendingAfter = try client.store.read { try PushQueue.oldest(in: $0) }.map(\.id.description)
        #expect(pendingAfter == pendingBefore)
        try client.store.read { db in
            let columns = try db.columns(in: "changes").map(\.name)
            #expect(!columns.contains("hlc") && columns.contains("hlc_millis"))
            let indexes = try db.indexes(on: "changes").map(\.name)
            #expect(indexes.sorted() == ["changes_by_record", "changes_pending", "changes_rejected"])
            // Each device id and author once, in the names table, not in every row.
            for name in names {
                #expect(
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM change_names WHERE name = ?", arguments: [name])
                        == 1)
            }
        }
    }

    /// The pending change ids in the order the previous build sends them, and every device id
    /// and author its rows name.
    static func previousFacts(_ path: String) throws -> (pending: [String], names: [String]) {
        try DatabaseQueue(path: path).read { db in
            (
                try String.fetchAll(db, sql: "SELECT id FROM changes WHERE status = 'pending' ORDER BY rowid"),
                try String.fetchAll(
                    db, sql: "SELECT DISTINCT substr(hlc, 25) FROM changes UNION SELECT author FROM changes")
            )
        }
    }

    /// The upgraded store takes new edits, and their history follows the old one.
    @Test(arguments: versions)
    func anEditAfterTheUpgradeExtendsTheHistory(version: String) throws {
        let (laptop, expected) = try Self.laptop(version)
        let caseID = try Self.text(expected.appendingPathComponent("log-1.id"))
        let before = try #require(try laptop.json(["log", caseID]) as? [[String: Any]])
        try laptop.check(["case", "set", caseID, "title=表面処理技術の導入（改題）"])
        let after = try #require(try laptop.json(["log", caseID]) as? [[String: Any]])
        #expect(after.count == before.count + 1)
        let last = try #require(after.last)
        #expect(last["field"] as? String == "title" && last["new"] as? String == "表面処理技術の導入（改題）")
        #expect(last["old"] as? String == "川崎精密：複合部品の表面処理技術の導入")
        #expect(last["status"] as? String == "pending")
        let hits = try #require(try laptop.json(["search", "改題"]) as? [[String: Any]])
        #expect(hits.map { $0["id"] as? String } == [caseID])
    }
}
