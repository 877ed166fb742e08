import Foundation
import GRDB
import KakehashiClient
import KakehashiServer
import KakehashiShared
import Logging

/// One laptop pushing `changes` changes (open cases and activity records on them, `makeLog`)
/// through a real server process over loopback, in the laptop's batches and with its transport
/// (libcurl; gzip bodies in `BinaryPush`'s form once the server lists the features; one more
/// push as an older laptop sends it, JSON, for comparison), next to the limit measured in the
/// same run: SQLite inserting the same rows, as an SQLite store writes them, into the log table
/// of a fresh store of this release, in one transaction with one prepared statement
/// (`storeLogInsert`). The limit of earlier releases, the rows as JSON into a table with the
/// change id's index only (`bareLogInsert`), is printed beside it.
enum PushBenchmark {
    static let goalRatio = 0.30

    /// One push: the wall seconds, the server's and the laptop's CPU seconds, the server's peak
    /// RSS, and the requests.
    struct Round {
        let seconds: Double
        let serverCPU: Double
        let laptopCPU: Double
        let peakMiB: Double
        let requests: Int
        let batchSize: Int
        let changes: Int
    }

    static func run(changes: Int, workspace: String, database: String?) async throws {
        let directory = workspace + "/push"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Three pushes, each to a fresh server, alternating with the limit, and each one's median,
        // so a burst of other load on this shared machine does not decide the ratio.
        var rounds: [Round] = []
        var limitTimes: [Double] = []
        var bareTimes: [Double] = []
        // On `--db` the rounds would share one database, each on a longer log: one round there.
        for round in 0..<(database == nil ? 3 : 1) {
            let (pushed, log) = try await push(changes: changes, directory: directory + "/\(round)", database: database)
            rounds.append(pushed)
            limitTimes.append(try await storeLogInsert(log, into: directory + "/limit\(round).sqlite"))
            bareTimes.append(try bareLogInsert(log, into: directory + "/bare\(round).sqlite"))
        }
        // An older laptop's push, JSON bodies and answers, to a fresh server: what the binary form buys.
        let (older, _) = try await push(
            changes: changes, directory: directory + "/json", database: database, json: true)
        let push = rounds.sorted { $0.seconds < $1.seconds }[rounds.count / 2]
        let limitSeconds = percentile(limitTimes, 0.5)
        let bareSeconds = percentile(bareTimes, 0.5)
        let pushRate = Double(push.changes) / push.seconds
        let limitRate = Double(push.changes) / limitSeconds
        let bareRate = Double(push.changes) / bareSeconds
        let store = database == nil ? "SQLite" : "--db"
        print(
            "\nPush of \(push.changes) changes from one laptop through a real server over loopback (\(push.requests) requests of up to \(push.batchSize), \(store) store; median of \(rounds.count))"
        )
        print(
            String(
                format:
                    "  kakehashi push         %10.0f changes/s  (%.2f s; server CPU %.2f s, %.0f µs a change; laptop CPU %.2f s; peak RSS %.0f MiB)",
                pushRate, push.seconds, push.serverCPU, push.serverCPU / Double(push.changes) * 1e6, push.laptopCPU,
                push.peakMiB))
        print(
            String(
                format:
                    "  older laptop (JSON)    %10.0f changes/s  (%.2f s; server CPU %.2f s, %.0f µs a change; laptop CPU %.2f s; one push)",
                Double(older.changes) / older.seconds, older.seconds, older.serverCPU,
                older.serverCPU / Double(older.changes) * 1e6, older.laptopCPU))
        print(
            String(
                format:
                    "  SQLite raw insert      %10.0f rows/s     (%.2f s, the same rows into a fresh store's log table, its indexes and row coding; median of 3)",
                limitRate, limitSeconds))
        print(
            String(
                format:
                    "  into a bare table      %10.0f rows/s     (%.2f s, as JSON, change id index only: the limit before session 16; ratio %.2f)",
                bareRate, bareSeconds, pushRate / bareRate))
        print(
            String(format: "  ratio                  %10.2f            (goal ≥ %.2f)", pushRate / limitRate, goalRatio))
    }

    /// A fresh server, a laptop enrolled on it, and its push of `changes` changes; with `json`,
    /// the push of a laptop that predates binary pushes.
    static func push(
        changes: Int, directory: String, database: String?, json: Bool = false
    ) async throws -> (round: Round, log: [Change]) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let server = BenchServer(directory: directory, database: database)
        try server.start()
        defer { server.stop() }
        let laptop = try await server.laptop("山田太郎", directory: directory + "/laptop")
        let identity = try laptop.identity()
        let cases = changes / 20
        let log = makeLog(
            cases: cases, events: (changes - cases * 8) / 5, advisor: identity.advisor, device: identity.device)
        let transport = CurlTransport(baseURL: server.url)
        let engine = SyncEngine(client: laptop, transport: transport)
        var batchSize = engine.pushBatchSize

        var accepted = 0
        var requests = 0
        let cpuBefore = server.cpuSeconds
        let laptopBefore = processCPUSeconds()
        let pushSeconds = try await seconds {
            // As `SyncEngine` does: the first batch plain JSON, then what the server listed; the
            // next batch prepared while the one before is in flight.
            var gzip = false
            var binary = false
            var start = 0
            var ahead: PreparedPush?
            while start < log.count {
                let prepared =
                    ahead.flatMap { $0.isIn(gzip: gzip, binary: binary) ? $0 : nil }
                    ?? transport.prepare(
                        PushRequest(changes: Array(log[start..<min(log.count, start + batchSize)])), gzip: gzip,
                        binary: binary)
                ahead = nil
                start += prepared.request.changes.count
                let form = (start: start, size: batchSize, gzip: gzip, binary: binary)
                async let following: PreparedPush? =
                    form.start < log.count
                    ? transport.prepare(
                        PushRequest(changes: Array(log[form.start..<min(log.count, form.start + form.size)])),
                        gzip: form.gzip, binary: form.binary) : nil
                let reply = try await transport.push(prepared, token: identity.token)
                let next = await following
                gzip = reply.features.contains(WireProtocol.gzipRequestsFeature)
                binary = !json && reply.features.contains(WireProtocol.binaryPushFeature)
                let nextSize = binary ? engine.binaryPushBatchSize : engine.pushBatchSize
                if nextSize == batchSize { ahead = next }
                batchSize = nextSize
                accepted += reply.value.results.count { $0.status == .accepted }
                requests += 1
                if let refused = reply.value.results.first(where: { $0.status != .accepted }) {
                    throw BenchmarkSkipped(
                        reason:
                            "the server did not accept \(refused.id): \(refused.code?.rawValue ?? "") \(refused.reason ?? "")"
                    )
                }
            }
        }
        guard accepted == log.count else {
            throw BenchmarkSkipped(reason: "the server accepted \(accepted) of \(log.count) changes")
        }
        let round = Round(
            seconds: pushSeconds, serverCPU: server.cpuSeconds - cpuBefore,
            laptopCPU: processCPUSeconds() - laptopBefore,
            peakMiB: server.peakMemoryMiB,
            requests: requests, batchSize: batchSize, changes: log.count)
        return (round, log)
    }

    /// The limit: `log` as an SQLite store's log rows, inserted into the log table of a fresh
    /// store made by this release (its schema and indexes: the unique change id, the per-case and
    /// per-record indexes), as the store writes them (each change's binary coding, the events'
    /// cases, no JSON), in one transaction with one prepared statement, WAL mode,
    /// synchronous=NORMAL (the store syncs every commit; the limit's one commit is not synced, as
    /// before). The rows are made before the clock starts. Returns the seconds the insert took.
    static func storeLogInsert(_ log: [Change], into path: String) async throws -> Double {
        let store = try await StoreLocation.sqlite(path: path).open(logger: Logger(label: "kakehashi-bench"))
        await store.close()
        return try timedInsert(
            rows(of: log) { ["", Data(BinaryPage.encode(change: $0))] }, columns: "body, packed", into: path)
    }

    /// The limit before session 16: `log` as rows of the server's log columns with each change's
    /// JSON, inserted into a fresh file's table with the change id's unique index only, in one
    /// transaction with one prepared statement, WAL mode, synchronous=NORMAL. The rows are made
    /// before the clock starts. Returns the seconds the insert took.
    static func bareLogInsert(_ log: [Change], into path: String) throws -> Double {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try timedInsert(
            try rows(of: log) { [String(decoding: try encoder.encode($0), as: UTF8.self)] }, columns: "body",
            into: path,
            creating: """
                CREATE TABLE changes (
                    seq INTEGER PRIMARY KEY, change_id TEXT NOT NULL UNIQUE, entity TEXT NOT NULL,
                    record TEXT NOT NULL, field TEXT, case_id TEXT, hlc TEXT NOT NULL, body TEXT NOT NULL)
                """)
    }

    typealias LogRow = [(any DatabaseValueConvertible)?]

    /// Each change as a log row: change id, entity, record, field, its case (an event's from its
    /// `case` write before it), HLC, then `coding`'s values.
    static func rows(of log: [Change], coding: (Change) throws -> LogRow) rethrows -> [LogRow] {
        var caseOf: [String: String] = [:]
        var rows: [LogRow] = []
        for change in log {
            if change.entity == .event, change.field == "case", let target = change.value.stringValue {
                caseOf[change.record] = target
            }
            let caseID = change.entity == .case ? change.record : caseOf[change.record]
            rows.append(
                [
                    change.id.description, change.entity.rawValue, change.record, change.field, caseID,
                    change.hlc.description,
                ] + (try coding(change)))
        }
        return rows
    }

    /// Inserts `rows` into the `changes` table of the file at `path` (made by `creating` first,
    /// when given) in one transaction with one prepared statement, WAL mode,
    /// synchronous=NORMAL; returns the seconds the insert took.
    static func timedInsert(
        _ rows: [LogRow], columns: String, into path: String, creating table: String? = nil
    ) throws
        -> Double
    {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let pool = try DatabasePool(path: path, configuration: configuration)
        if let table { try pool.write { db in try db.execute(sql: table) } }
        let names = "change_id, entity, record, field, case_id, hlc, " + columns
        let marks = Array(repeating: "?", count: names.split(separator: ",").count).joined(separator: ", ")
        let start = DispatchTime.now().uptimeNanoseconds
        try pool.writeWithoutTransaction { db in
            try db.inTransaction {
                let statement = try db.makeStatement(sql: "INSERT INTO changes (\(names)) VALUES (\(marks))")
                for row in rows { try statement.execute(arguments: StatementArguments(row)) }
                return .commit
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
