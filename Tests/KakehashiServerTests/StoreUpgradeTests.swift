import Foundation
import KakehashiShared
import PostgresNIO
import Testing

@testable import KakehashiServer

/// Issue 11, point 3: a store written by an earlier release opens with this one and loses nothing.
/// The fixtures in Tests/Fixtures were written by that release's own binaries
/// (`Tests/Fixtures/make-store-fixtures.sh`); `store-VERSION.json` says what they hold.
@Suite struct StoreUpgradeTests {
    struct Facts: Decodable {
        struct SQLite: Decodable {
            let changes: Int
            let records: Int
            let devices: Int
            let `case`: String
            let token: String
        }
        struct Postgres: Decodable {
            let changes: Int
            let `case`: String
        }
        let sqlite: SQLite
        let postgres: Postgres
        let caseTitle: String
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The schema versions of released stores, each with a fixture.
    static let releases = ["schema-v3"]

    static func facts(_ release: String) throws -> Facts {
        try JSONDecoder().decode(
            Facts.self, from: Data(contentsOf: fixtures.appendingPathComponent("store-\(release).json")))
    }

    static func title(_ state: RecordState?) -> String? {
        guard case .string(let title)? = state?.value("title") else { return nil }
        return title
    }

    /// Writes a new title to the fixture's case, so its state is stored again in this release's
    /// form (binary since schema version 5) beside the older JSON states, and requires the store
    /// to read both and still pass its check.
    static func retitleReadsBothStateForms(_ store: any ChangeLogStore, case caseID: String) async throws {
        let before = try #require(try await store.record(.case, caseID))
        var maker = ChangeMaker(clock: HybridClock(device: DeviceID("upgrade-test")!), author: "admin")
        let change = maker.make(
            .set, entity: .case, record: caseID, field: "title", value: .string("改題後の試作案件"), state: before,
            wallMillis: serverWallMillis())
        let results = try await store.append([change], viewer: nil, wallMillis: serverWallMillis(), onlyIfEmpty: false)
        #expect(results.map(\.status) == [.accepted])
        #expect(title(try await store.record(.case, caseID)) == "改題後の試作案件")
        let report = try await store.check()
        #expect(report.healthy, "\(report.problems)")
        #expect(try await store.records(.advisor).count == 2, "the directory's older states no longer read")
    }

    /// Pulls the whole log as the fixture's active device: the rows the earlier release logged
    /// have no binary coding and are read from their JSON, the row this release appended
    /// (`retitleReadsBothStateForms`) has one beside its JSON, and the JSON made from that coding
    /// (what a row without JSON is read as, `StoredChange.json`) is the JSON stored.
    static func pullReadsBothChangeForms(_ store: any ChangeLogStore) async throws {
        let device = try #require(try await store.devices().first { $0.status == "active" })
        let advisor = try #require(try await store.record(.advisor, device.advisor))
        let viewer = AccessPolicy.Viewer(advisor: device.advisor, state: advisor)
        func pullAll(json: Bool) async throws -> [StoredChange] {
            var stored: [StoredChange] = []
            var cursor = PullCursor.initial
            while true {
                let page = try await store.pull(
                    PullRequest(device: device.id, viewer: viewer, cursor: cursor, json: json, limit: 100))
                stored += page.stored
                cursor = page.nextCursor
                if !page.hasMore { break }
            }
            return stored
        }
        let stored = try await pullAll(json: true)
        // A binary page reads a row's binary coding only: rows that have one come without their
        // text, the earlier release's rows with it; each reads as the same change either way.
        let binaryPage = try await pullAll(json: false)
        #expect(binaryPage.count == stored.count)
        for (bare, full) in zip(binaryPage, stored) {
            #expect(bare.binary == full.binary)
            #expect(bare.text == (full.binary == nil ? full.text : ""))
            #expect(try StoreCoding.change(bare) == StoreCoding.change(full))
            #expect(try bare.json == full.json, "a JSON page made from either is the same")
        }
        #expect(stored.contains { $0.binary == nil }, "the earlier release's rows")
        let coded = stored.filter { $0.binary != nil }
        #expect(coded.count == 1, "the row this release appended")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for change in coded {
            #expect(!change.text.isEmpty, "this release still writes the JSON for the previous one")
            let json = try JSONDecoder().decode(Change.self, from: Data(change.text.utf8))
            #expect(try BinaryPage.change(from: change.binary ?? []) == json)
            let made = try StoredChange(json: "", binary: change.binary).json
            #expect(made == change.text, "the JSON made from the coding is the JSON stored")
            #expect(made == String(decoding: try encoder.encode(json), as: UTF8.self))
        }
        for change in stored where change.binary == nil {
            #expect(try change.json == change.text, "an earlier release's row is spliced as it was stored")
        }
    }

    /// Runs a program from `PATH` (`psql`, `sqlite3`) and requires success.
    static func tool(_ arguments: [String]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        await process.exited()
        try #require(process.terminationStatus == 0, "\(arguments.prefix(2))")
    }

    /// A row whose `body` is empty (what a later release may write, once every process reads
    /// such rows) is read as exactly the JSON this release stores for the same change: JSON pages,
    /// `check` and the stage writes splice `StoredChange.json`. Changes of every operation, with
    /// Japanese text, quotes, a line break, a slash and a leading `=`.
    @Test func aRowWithoutJSONReadsAsTheJSONStored() throws {
        let changes = ExportStreamingTests.Log().changes
        #expect(Set(changes.map(\.op)).count == 3, "set, add and delete")
        for change in changes {
            let stored = try StoreCoding.stored(change)
            #expect(!stored.text.isEmpty && stored.binary != nil)
            let withoutJSON = StoredChange(json: "", binary: stored.binary)
            #expect(try withoutJSON.json == stored.text, "\(change.id)")
            #expect(try StoreCoding.change(withoutJSON) == change)
        }
    }

    @Test(arguments: releases)
    func anEmbeddedStoreOfAnEarlierReleaseOpensWithEverythingIn(release: String) async throws {
        let facts = try Self.facts(release)
        guard case .sqlite(let path) = try await StoreKind.sqlite.freshLocation() else { return }
        try FileManager.default.copyItem(
            at: Self.fixtures.appendingPathComponent("store-\(release).sqlite"), to: URL(fileURLWithPath: path))

        let store = try SQLiteStore(path: path)
        let report = try await store.check()
        #expect(report.healthy, "\(report.problems)")
        #expect(report.schemaVersion == StoreSchema.latest)
        #expect(report.changes == facts.sqlite.changes)
        #expect(report.records == facts.sqlite.records)
        #expect(!(try await store.epoch()).isEmpty)
        #expect(Self.title(try await store.record(.case, facts.sqlite.case)) == facts.caseTitle)
        let devices = try await store.devices()
        #expect(devices.count == facts.sqlite.devices)
        #expect(devices.filter { $0.status == "revoked" }.count == 1)
        // The enrolled laptop's token still opens its device.
        let device = try await store.device(tokenHash: Secrets.hash(facts.sqlite.token))
        #expect(device?.device.status == "active")
        try await Self.retitleReadsBothStateForms(store, case: facts.sqlite.case)
        try await Self.pullReadsBothChangeForms(store)
        await store.close()

        // Opening again migrates nothing more and keeps the epoch.
        let again = try SQLiteStore(path: path)
        #expect(try await again.epoch() == report.epoch)
        await again.close()
    }

    @Test(arguments: releases)
    func aPostgreSQLStoreOfAnEarlierReleaseOpensWithEverythingIn(release: String) async throws {
        guard StoreKind.postgresURL != nil else { return }
        let facts = try Self.facts(release)
        guard case .postgres(let url) = try await StoreKind.postgres.freshLocation() else { return }
        try await Self.tool([
            "psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-f",
            Self.fixtures.appendingPathComponent("store-\(release).postgres.sql").path,
        ])

        let store = try await RunningStore.open(.postgres(url: url), logger: StoreKind.logger)
        let report = try await store.check()
        #expect(report.healthy, "\(report.problems)")
        #expect(report.schemaVersion == StoreSchema.latest)
        #expect(report.changes == facts.postgres.changes)
        #expect(Self.title(try await store.record(.case, facts.postgres.case)) == facts.caseTitle)
        #expect(try await store.devices().count == 3)
        try await Self.retitleReadsBothStateForms(store, case: facts.postgres.case)
        try await Self.pullReadsBothChangeForms(store)
        await store.close()
    }

    @Test(arguments: StoreKind.available)
    func aStoreWrittenByANewerReleaseIsRefusedNotDamaged(kind: StoreKind) async throws {
        let location = try await kind.freshLocation()
        let created = try await RunningStore.open(location, logger: StoreKind.logger)
        await created.close()
        let newer = StoreSchema.latest + 1
        switch location {
        case .sqlite(let path):
            try await Self.tool(["sqlite3", path, "INSERT INTO grdb_migrations (identifier) VALUES ('v\(newer)')"])
        case .postgres(let url):
            try await Self.tool([
                "psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                "INSERT INTO schema_migrations (version, applied_at) VALUES (\(newer), 0)",
            ])
        }
        do {
            let opened = try await RunningStore.open(location, logger: StoreKind.logger)
            await opened.close()
            Issue.record("a store of schema version \(newer) was opened")
        } catch let error as KakehashiError {
            #expect(error.description.contains("schema version \(newer)"), "\(error)")
            #expect(error.description.contains("newer kakehashi-server"), "\(error)")
        }
    }
}
