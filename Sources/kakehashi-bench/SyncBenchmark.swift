import Foundation
import KakehashiClient
import KakehashiShared
import KakehashiTestSupport

/// A real `kakehashi-server serve` process (the one built next to this benchmark) on a fresh
/// SQLite store, or on `--db URL` (e.g. PostgreSQL).
final class BenchServer {
    let binary: URL
    let database: String
    let process = Process()
    private(set) var url = ""
    /// More `serve` options, e.g. `--tls-cert` and `--tls-key`.
    var serveArguments: [String] = []
    /// The authority laptops trust for a server with TLS (`cacert`).
    var cacert: String?

    init(directory: String, database: String?) {
        binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("kakehashi-server")
        self.database = database ?? "sqlite:" + directory + "/server.sqlite"
    }

    func start() throws {
        process.executableURL = binary
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--db", database] + serveArguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw BenchmarkSkipped(reason: "kakehashi-server serve exited") }
            line += chunk
        }
        url = String(decoding: line, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// Runs an admin command on the same store; returns its stdout.
    func admin(_ arguments: [String]) throws -> String {
        let admin = Process()
        admin.executableURL = binary
        admin.arguments = arguments + ["--db", database]
        let out = Pipe()
        admin.standardOutput = out
        try admin.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        admin.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The server's `/metrics` text (Prometheus), read over a plain loopback connection.
    func metrics() throws -> String {
        guard let port = url.split(separator: ":").last.flatMap({ UInt16($0) }),
            let connection = LoopbackConnection.connect(to: port)
        else { throw BenchmarkSkipped(reason: "no server at \(url)") }
        defer { connection.close() }
        connection.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while case let count = connection.read(into: &buffer), count > 0 { received += buffer[0..<count] }
        return String(decoding: received, as: UTF8.self)
    }

    /// The server's peak resident memory so far (VmHWM), in MiB.
    var peakMemoryMiB: Double { Double(highWaterKiB(of: process.processIdentifier)) / 1024 }

    /// The CPU time the server has used so far (user and system), in seconds: what a change to
    /// the server saves shows here even when other work on the machine stretches the wall clock.
    var cpuSeconds: Double {
        let stat = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)) ?? ""
        // The fields after the command name, which is in parentheses: utime and stime are the
        // 12th and 13th of them, in clock ticks (100 a second on Linux).
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / 100
    }

    /// Enrolls a laptop of a new advisor in `directory`.
    func laptop(_ name: String, directory: String) async throws -> FieldClient {
        let advisor = try admin([
            "advisor", "add", "--name", name, "--role", "business-producer", "--program", "business-production",
        ])
        let code = try admin(["enroll", advisor])
        return try await FieldClient.enroll(
            directory: directory, server: url, code: code, cacert: cacert, deviceName: "bench",
            transport: CurlTransport(baseURL: url, cacert: cacert))
    }
}

/// Laptop → server → laptop over loopback with real processes: end-to-end changes/s next to plain
/// HTTP moving the same bytes, the initial sync of a laptop (seconds, bytes on the wire), and how
/// pull latency and server memory grow with the log.
enum SyncBenchmark {
    /// Writes `records` records on a laptop: one open case (8 changes) per 4 activity records (5).
    static func write(records: Int, on client: FieldClient) throws -> Int {
        let subjects = ["精密加工", "表面処理", "センサ", "試作評価", "知財戦略", "開放特許", "医療機器", "農業IoT"]
        var caseID = ""
        var changes = 0
        for index in 0..<records {
            let subject = subjects[index % subjects.count]
            if index % 5 == 0 {
                caseID = try client.create(
                    .case,
                    RecordInput(
                        values: [
                            "title": "\(subject)の事業化支援 その\(index)",
                            "summary": "中小企業の\(subject)技術と大学のシーズをマッチングし、試作から契約までを支援する。",
                            "kind": "ip-business-matching", "stage": "matching", "level": "open",
                        ], sets: ["tags": [subject]]))
                changes += 8
            } else {
                _ = try client.create(
                    .event,
                    RecordInput(values: [
                        "case": caseID, "kind": "visit", "date": "2026-05-\(index % 20 + 10)",
                        "body": "\(subject)について打合せ。次回は試作品の評価結果を共有する。記録\(index)",
                    ]))
                changes += 5
            }
        }
        return changes
    }

    static func timed(_ body: () async throws -> SyncEngine.Summary) async rethrows -> (SyncEngine.Summary, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let summary = try await body()
        return (summary, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    struct Figures {
        let changes: Int
        let pushSeconds: Double
        let pullSeconds: Double
        let pushBytes: Int
        let pullBytes: Int
        let plainSeconds: Double
        let pullP50: Double
        let pullP99: Double
        let serverPeakMiB: Double
    }

    /// One full run at one size.
    static func run(records: Int, workspace: String, database: String?) async throws -> Figures {
        let directory = workspace + "/sync-\(records)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let server = BenchServer(directory: directory, database: database)
        try server.start()
        defer { server.stop() }
        let writer = try await server.laptop("山田太郎", directory: directory + "/writer")
        let reader = try await server.laptop("佐藤花子", directory: directory + "/reader")
        let changes = try write(records: records, on: writer)
        let transport = CurlTransport(baseURL: server.url)
        let (pushed, pushSeconds) = try await timed { try await SyncEngine(client: writer, transport: transport).run() }
        let (pulled, pullSeconds) = try await timed { try await SyncEngine(client: reader, transport: transport).run() }
        // The reader starts from states (a server listing `gained-states`) or replays the log.
        guard pushed.accepted >= changes, pulled.states >= records || pulled.pulled >= changes else {
            throw BenchmarkSkipped(
                reason:
                    "sync moved \(pushed.accepted) of \(changes) changes up, \(pulled.states) states and \(pulled.pulled) changes down for \(records) records"
            )
        }

        // Pull latency: the reader asks again for the first page of 1,000 (decode included, no apply).
        let token = try reader.identity().token
        var latencies: [Double] = []
        for _ in 0..<30 {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try await transport.pull(
                after: WireProtocol.initialCursor, limit: WireProtocol.defaultPullLimit, token: token)
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        let peak = server.peakMemoryMiB

        let plain = try PlainHTTP()
        let uploads = (pushed.pushed + WireProtocol.maxPushChanges - 1) / WireProtocol.maxPushChanges
        let downloads = max(1, pulled.pages)
        let plainSeconds = plain.move(
            upload: pushed.bytes, uploads: uploads, download: pulled.bytes, downloads: downloads)
        return Figures(
            changes: changes, pushSeconds: pushSeconds, pullSeconds: pullSeconds, pushBytes: pushed.bytes,
            pullBytes: pulled.bytes, plainSeconds: plainSeconds, pullP50: percentile(latencies, 0.5),
            pullP99: percentile(latencies, 0.99), serverPeakMiB: peak)
    }

    static func report(_ figures: Figures, records: Int) {
        let total = figures.pushSeconds + figures.pullSeconds
        print(
            "\nEnd to end over loopback: \(records) records (\(figures.changes) changes) written on one laptop, pushed, pulled by another"
        )
        print(
            String(
                format:
                    "  kakehashi sync         %10.0f changes/s  (push %.1f s, pull %.1f s; %.1f MB up, %.1f MB down)",
                Double(figures.changes) / total, figures.pushSeconds, figures.pullSeconds,
                Double(figures.pushBytes) / 1e6, Double(figures.pullBytes) / 1e6))
        print(
            String(
                format: "  plain HTTP, same bytes %10.0f changes/s  (%.2f s, same request count, libcurl ↔ loopback)",
                Double(figures.changes) / figures.plainSeconds, figures.plainSeconds))
        print(String(format: "  ratio kakehashi/plain  %10.3f", figures.plainSeconds / total))
        print(
            String(
                format: "  initial sync of the second laptop: %.1f s, %.1f MB on the wire", figures.pullSeconds,
                Double(figures.pullBytes) / 1e6))
        print(
            String(
                format:
                    "  pull of one page (1,000) at this log size: p50 %.1f ms, p99 %.1f ms; server peak RSS %.0f MiB",
                figures.pullP50, figures.pullP99, figures.serverPeakMiB))
    }
}
