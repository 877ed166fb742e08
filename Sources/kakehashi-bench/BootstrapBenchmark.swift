import Foundation
import GRDB
import KakehashiClient
import KakehashiServer
import KakehashiShared
import Synchronization

/// A new laptop's first sync against a real server process over loopback, on a log of
/// `records` records (one open case of 8 changes per 4 activity records of 5: 100,000 records
/// are 560,000 changes): the seconds until `search` answers (the bootstrap from states; the
/// history is left for later), next to the limit measured in the same run — loading the same
/// final rows (merged states, the entity tables, the search index) into a fresh SQLite file
/// from memory in one transaction. Then the history's download, and the same laptop replaying
/// the whole log from history, as an older client does.
enum BootstrapBenchmark {
    static let goalRatio = 3.0

    static func run(records: Int, workspace: String) async throws {
        let directory = workspace + "/bootstrap"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await serverStore(records: records, workspace: workspace, into: directory)
        let server = BenchServer(directory: directory, database: "sqlite:" + store.path)
        try server.start()
        defer { server.stop() }
        print(
            "\nBootstrap of a new laptop: \(records) records (\(store.changes) changes) on a real server over loopback")
        print(String(format: "  (server log written through SQLiteStore.append in %.0f s)", store.buildSeconds))

        // From states: until search answers, the history left for later syncs.
        let laptop = try await server.laptop("佐藤花子", directory: directory + "/states")
        let transport = CurlTransport(baseURL: server.url)
        // CPU seconds, which this shared machine's other load moves less than the wall clock.
        let (serverBefore, laptopBefore) = (server.cpuSeconds, processCPUSeconds())
        let (bootstrapped, summary, bootstrapSeconds) = try await bootstrap(laptop, over: transport, records: records)
        let (serverCPU, laptopCPU) = (server.cpuSeconds - serverBefore, processCPUSeconds() - laptopBefore)
        let limitSeconds = try loadFinalRows(of: laptop, into: directory + "/limit.sqlite")
        print(
            String(
                format: "  kakehashi bootstrap    %8.1f s until search answers (%d states, %.1f MB on the wire)",
                bootstrapSeconds, summary.states, Double(summary.bytes) / 1e6))
        print(String(format: "  its CPU                server %.2f s, laptop %.2f s", serverCPU, laptopCPU))
        print("  page sizes asked       \(RuralBenchmark.pageSizes(summary.pageLimits))")
        print(
            String(
                format: "  SQLite load, same rows %8.1f s (states, entity tables, search index; one transaction)",
                limitSeconds))
        print(
            String(
                format: "  ratio                  %8.2f   (goal ≤ %.1f, and under 5 s)",
                bootstrapSeconds / limitSeconds,
                goalRatio))

        // The history, in the background of later syncs (here all at once).
        var engine = bootstrapped
        engine.historyPagesPerSync = Int.max
        var history: SyncEngine.Summary?
        let historySeconds = try await seconds { history = try await engine.run() }
        print(
            String(
                format: "  its history afterwards %8.1f s (%d changes, %.1f MB; `log` complete)", historySeconds,
                history?.history ?? 0, Double(history?.bytes ?? 0) / 1e6))

        // The previous protocol: a replay of every change from the start, by a laptop that does
        // not know the feature and asks for no states; then the same in JSON pages, as a client
        // older than binary pages asks for them.
        var jsonTransport = transport
        jsonTransport.asksForBinaryPages = false
        for (name, pages, label) in [
            ("replay", transport, "replay from history    %8.1f s (%d changes, %.1f MB: a client without states)"),
            (
                "replay-json", jsonTransport,
                "replay in JSON pages   %8.1f s (%d changes, %.1f MB: a client without binary pages)"
            ),
        ] {
            let laptop = try await server.laptop("鈴木一郎", directory: directory + "/" + name)
            try await DatabaseQueue(path: laptop.store.path).write { db in
                try db.execute(sql: "UPDATE device SET features = ''")
            }
            var replayed: SyncEngine.Summary?
            let replaySeconds = try await seconds {
                replayed = try await SyncEngine(client: laptop, transport: pages).run()
            }
            print(
                String(
                    format: "  " + label, replaySeconds, replayed?.pulled ?? 0, Double(replayed?.bytes ?? 0) / 1e6))
            print("  page sizes asked       \(RuralBenchmark.pageSizes(replayed?.pageLimits ?? []))")
        }
    }

    /// A server log of `records` records (`makeLog`: one open case of 8 changes per 4 activity
    /// records of 5) written through the store's own append: a fresh copy in `directory` of a
    /// store written once per run in `workspace`, since writing it takes a minute at 100,000
    /// records. Returns the copy's path, its changes, and the seconds the first write took.
    static func serverStore(
        records: Int, workspace: String, into directory: String
    ) async throws -> (path: String, changes: Int, buildSeconds: Double) {
        let template = workspace + "/server-log-\(records).sqlite"
        let files = FileManager.default
        var figures = writtenLogs.withLock { $0[records] }
        if figures == nil {
            let cases = records / 5
            let log = makeLog(cases: cases, events: records - cases, advisor: advisor)
            let buildSeconds = try await seconds { try await write(log, into: template) }
            figures = (log.count, buildSeconds)
            writtenLogs.withLock { $0[records] = figures }
        }
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/server.sqlite"
        try files.copyItem(atPath: template, toPath: path)
        return (path, figures?.changes ?? 0, figures?.seconds ?? 0)
    }

    /// The logs `serverStore` wrote in this run, by records: their changes and seconds.
    private static let writtenLogs = Mutex<[Int: (changes: Int, seconds: Double)]>([:])

    /// A new laptop's first sync from states, its history left for later syncs: the seconds until
    /// `search` answers. Throws unless it received every record's state and search finds them.
    static func bootstrap(
        _ laptop: FieldClient, over transport: CurlTransport, records: Int,
        progress: @Sendable (SyncEngine.Progress) -> Void = { _ in }
    ) async throws -> (engine: SyncEngine, summary: SyncEngine.Summary, seconds: Double) {
        var engine = SyncEngine(client: laptop, transport: transport)
        engine.historyPagesPerSync = 0
        var bootstrapped: SyncEngine.Summary?
        var hits = 0
        let elapsed = try await seconds {
            bootstrapped = try await engine.run(progress: progress)
            hits = try laptop.search("精密加工").count
        }
        guard let summary = bootstrapped, summary.states >= records, hits > 0 else {
            throw BenchmarkSkipped(
                reason: "the bootstrap received \(bootstrapped?.states ?? 0) states, search found \(hits)")
        }
        return (engine, summary, elapsed)
    }

    /// Writes `log` into a new server store through the store's own append, in batches.
    static func write(_ log: [Change], into path: String) async throws {
        let store = try SQLiteStore(path: path)
        try await AdminService(store: store).seedProgramsIfEmpty()
        var start = 0
        while start < log.count {
            let batch = Array(log[start..<min(log.count, start + 2_000)])
            try await append(batch, to: store)
            start += batch.count
        }
        await store.close()
    }

    /// The limit: the bootstrapped laptop's final rows — merged states, entity tables and search
    /// index — read into memory, then inserted into a fresh file with the same tables and indexes
    /// in one transaction. Returns the seconds the insert took.
    static func loadFinalRows(of laptop: FieldClient, into path: String) throws -> Double {
        // Everything but the history, the bookkeeping and the copies kept for rebuilds.
        let left = [
            "changes", "bootstrap_states", "device", "conflicts", "refused", "recovery_kept", "grdb_migrations",
        ]
        func kept(_ table: String) -> Bool {
            !left.contains(table) && !table.hasPrefix("sqlite_") && !table.hasPrefix("search_")
        }
        var schema: [String] = []
        var tables: [(name: String, columns: Int, rows: [[DatabaseValue]])] = []
        try DatabaseQueue(path: laptop.store.path).read { db in
            for row in try Row.fetchAll(
                db, sql: "SELECT name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC")
            where kept(row["tbl_name"]) {
                schema.append(row["sql"])
                let name: String = row["name"]
                guard name == row["tbl_name"] as String else { continue }
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(name)").map { Array($0.databaseValues) }
                tables.append((name, rows.first?.count ?? 0, rows))
            }
        }
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { db in for statement in schema { try db.execute(sql: statement) } }
        let start = DispatchTime.now().uptimeNanoseconds
        try pool.writeWithoutTransaction { db in
            try db.inTransaction {
                for table in tables where table.columns > 0 {
                    let marks = Array(repeating: "?", count: table.columns).joined(separator: ", ")
                    let statement = try db.makeStatement(sql: "INSERT INTO \(table.name) VALUES (\(marks))")
                    for row in table.rows { try statement.execute(arguments: StatementArguments(row)) }
                }
                return .commit
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
