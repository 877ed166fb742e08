import Foundation
import GRDB
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
    /// (`retitleReadsBothStateForms`) has one — beside its JSON in a log of `format` `.json`,
    /// alone in one of `.binary` — and a JSON page carries the JSON made from that coding
    /// (`StoredChange.json`), the text a row keeping its JSON holds.
    static func pullReadsBothChangeForms(_ store: any ChangeLogStore, format: LogFormat) async throws {
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
            #expect(change.text.isEmpty == (format == .binary), "the log's format decides what is written")
            let decoded = try BinaryPage.change(from: change.binary ?? [])
            let made = try StoredChange(json: "", binary: change.binary).json
            #expect(made == String(decoding: try encoder.encode(decoded), as: UTF8.self))
            #expect(try change.json == made, "a JSON page carries the same text either way")
            if format == .json {
                #expect(made == change.text, "the JSON made from the coding is the JSON stored")
                #expect(try JSONDecoder().decode(Change.self, from: Data(change.text.utf8)) == decoded)
            }
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
            let stored = try StoreCoding.stored(change, format: .json)
            #expect(!stored.text.isEmpty && stored.binary != nil)
            let withoutJSON = try StoreCoding.stored(change, format: .binary)
            #expect(withoutJSON.text.isEmpty && withoutJSON.binary == stored.binary)
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
        try await Self.pullReadsBothChangeForms(store, format: .binary)
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
        try await Self.pullReadsBothChangeForms(store, format: .json)
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

    /// The releases before schema version 7 splice a row's `body` into JSON pages; a store of
    /// this release (whose SQLite log keeps no JSON) is refused by them at start, with the
    /// sentence and exit code (69) of any store a newer release wrote, and is left as it was.
    @Test(arguments: StoreKind.available)
    func theReleaseBeforeRefusesAStoreOfThisRelease(kind: StoreKind) async throws {
        let location = try await kind.freshLocation()
        await (try await RunningStore.open(location, logger: StoreKind.logger)).close()
        let before = Array(StoreSchema.migrations.prefix { $0.version < 7 })
        #expect(before.count == 6 && StoreSchema.latest == 7)
        do {
            switch location {
            case .sqlite(let path): await (try SQLiteStore(path: path, migrations: before)).close()
            case .postgres(let url):
                let store = try await PostgresStore(url: url, logger: StoreKind.logger, migrations: before)
                await store.close()
            }
            Issue.record("the release before opened a store of schema version 7")
        } catch let error as KakehashiError {
            #expect(error.code.exitCode == 69)
            let store = if case .sqlite(let path) = location { "sqlite:\(path)" } else { "the PostgreSQL store" }
            #expect(
                error.message
                    == "\(store) has schema version 7, written by a newer kakehashi-server; this release knows versions up to 6 — run the newer release"
            )
        }
        let reopened = try await RunningStore.open(location, logger: StoreKind.logger)
        #expect(try await reopened.check().schemaVersion == 7)
        await reopened.close()
    }

    /// A server of the release before runs on the schema it started with. An admin command of
    /// this release (any command opening the store) must not upgrade an SQLite store under it —
    /// the log would then hold rows without the JSON that server splices into its pages — and
    /// says so; once that server stops (a restart with this release), the store is upgraded and
    /// logs changes without their JSON.
    @Test func anSQLiteStoreAnEarlierServerServesIsNotUpgradedUnderIt() async throws {
        guard case .sqlite(let path) = try await StoreKind.sqlite.freshLocation() else { return }
        let before = Array(StoreSchema.migrations.prefix { $0.version < 7 })
        await (try SQLiteStore(path: path, migrations: before)).close()
        // The earlier release's `serve`: the store's lock held on a descriptor of its own, with
        // that server's process id in the file, as `serve` holds it. A `flock` belongs to the
        // open file description, so the store's own `open` and `flock` of the file fail exactly
        // as they would against another process; closing the descriptor is that server stopping.
        let server = open(path + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        try #require(server >= 0)
        var serving = true
        defer { if serving { close(server) } }
        try #require(flock(server, LOCK_EX | LOCK_NB) == 0)
        let pid = Array("4242\n".utf8)
        #expect(pid.withUnsafeBytes { pwrite(server, $0.baseAddress, $0.count, 0) } == pid.count)
        do {
            await (try SQLiteStore(path: path)).close()
            Issue.record("a store an earlier server serves was upgraded")
        } catch let error as KakehashiError {
            #expect(error.code.exitCode == 69)
            #expect(
                error.message.contains(
                    "has schema version 6 and is being served by a kakehashi-server of an earlier release (process 4242)"
                ))
            #expect(error.message.contains("restart that server with this release"))
        }
        // Still the earlier release's store.
        let earlier = try SQLiteStore(path: path, migrations: before)
        #expect(try await earlier.check().schemaVersion == 6)
        await earlier.close()
        close(server)
        serving = false

        let store = try SQLiteStore(path: path)
        #expect(store.logFormat == .binary)
        try await AdminService(store: store).seedProgramsIfEmpty()
        let programs = try await store.records(.program)
        #expect(!programs.isEmpty)
        #expect(try await store.check().schemaVersion == 7)
        let (rows, withJSON) = try await store.pool.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM changes") ?? 0,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM changes WHERE body <> ''") ?? 0
            )
        }
        #expect(rows > 0 && withJSON == 0)
        // The states written since are in version 2 of the coding, which no earlier release reads.
        let versions = try await store.pool.read { db in
            try Data.fetchAll(db, sql: "SELECT state FROM records WHERE entity = 'program'").map { $0.first }
        }
        #expect(!versions.isEmpty && versions.allSatisfy { $0 == 2 })
        await store.close()
    }

    /// A store's merged states are in the coding every process that may share the store reads
    /// (`LogFormat.stateCodingVersion`): version 1 in a log that keeps its JSON (PostgreSQL, where
    /// a process of an earlier release may run beside this one), version 2 in a log without it;
    /// both read back as the state written, through the cache of decoded case states and without.
    @Test(arguments: [LogFormat.json, .binary])
    func aStoreWritesStatesInTheCodingItsProcessesRead(format: LogFormat) throws {
        var generator = SystemRandomNumberGenerator()
        let id = RecordID.uuidV7(unixMillis: serverWallMillis(), using: &generator)
        let state = DecodedStatesTests.caseState(id: id, title: "試作マッチング", level: "secret")
        let packed = StoreCoding.pack(state, format: format)
        #expect(packed.first == (format == .json ? 1 : 2))
        #expect(try StoreCoding.state(packed, entity: .case, id: id) == state)
        #expect(try StoreCoding.state(packed, entity: .case, id: id) == state)
        #expect(try StoreCoding.caseFacts(packed, id: id) == AccessPolicy.CaseFacts(state))
        #expect(packed.count < StoreCoding.pack(state, format: .json).count || format == .json)
    }

    /// An SQLite store keeps the log's newest timestamp beside the rows (schema version 7, no
    /// index on `hlc`): what admin writes start their clock from and exports date themselves by is
    /// the newest change's, and `check` notices when the two part.
    @Test func anSQLiteStoreKeepsItsNewestTimestampWithoutAnIndex() async throws {
        guard case .sqlite(let path) = try await StoreKind.sqlite.freshLocation() else { return }
        let store = try SQLiteStore(path: path)
        #expect(try await store.highestHLC() == nil)
        let changes = ExportStreamingTests.Log().changes
        let results = try await store.append(
            changes, viewer: nil, wallMillis: ExportStreamingTests.today, onlyIfEmpty: false)
        let newest = zip(changes, results).filter { $0.1.status == .accepted }.map(\.0.hlc).max()
        #expect(newest != nil)
        #expect(try await store.highestHLC() == newest)
        #expect(try await store.snapshot(entities: [.case], since: nil).latest == newest)
        #expect(try await store.check().healthy)
        await store.close()

        try await Self.tool([
            "sqlite3", path, "UPDATE store_meta SET value = '0000000000000001-000000-x' WHERE key = 'latest_hlc'",
        ])
        let damaged = try SQLiteStore(path: path)
        let report = try await damaged.check()
        #expect(report.problems.contains { $0.hasPrefix("the log's newest timestamp is kept as 0000000000000001") })
        await damaged.close()
    }
}
