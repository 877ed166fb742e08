import Foundation
import KakehashiClient
import KakehashiShared

/// Caught-up pulls under load: `wrk` (the Debian package) against the real server, asking for
/// the page after the head of the log as a laptop that has everything does at each sync — its
/// bearer token and the headers its transport sends (binary pages, gzip) — next to the limit
/// measured in the same run: the same server's `/v1/health`, under the same threads, connections
/// and duration. The two alternate three times and each keeps its median, so a burst of other load
/// on this shared machine does not decide the ratio. Every answer must be a 200.
///
/// The goal's ratio is measured on a server with a small log (`floorRecords`), then the same on
/// the `--records` log, where the caught-up pull is also compared with the small log's to show
/// what the log's size costs it. (`/v1/health` once counted the log's rows, so only the small log
/// gave a limit; it now reads one row, and both ratios compare.)
enum WrkBenchmark {
    static let goalRatio = 0.5
    static let floorRecords = 1_000
    static let threads = 2
    static let connections = 16
    static let duration = 10
    static let rounds = 3

    /// One `wrk` run's figures; `serverMicroseconds` is the server's CPU time (user and system)
    /// per request.
    typealias Run = (requestsPerSecond: Double, requests: Int, latency: String, serverMicroseconds: Double)

    static func run(records: Int, workspace: String) async throws {
        guard FileManager.default.isExecutableFile(atPath: wrk) else {
            throw BenchmarkSkipped(reason: "\(wrk) is missing: install the Debian package wrk (make bench does)")
        }
        print(
            "\nCaught-up pulls under wrk -t\(threads) -c\(connections) -d\(duration)s, next to /v1/health on the same server (median of \(rounds), alternating)"
        )
        let small = min(records, floorRecords)
        let floor = try await measure(records: small, workspace: workspace)
        print(
            "  ratio, \(small) records".padding(toLength: 52, withPad: " ", startingAt: 0)
                + String(
                    format: "%8.2f               (goal ≥ %.2f)",
                    floor.pull.requestsPerSecond / floor.health.requestsPerSecond, goalRatio))
        guard records > small else { return }
        let large = try await measure(records: records, workspace: workspace)
        print(
            "  caught-up pull, \(records) vs \(small) records".padding(toLength: 52, withPad: " ", startingAt: 0)
                + String(format: "%8.2f", large.pull.requestsPerSecond / floor.pull.requestsPerSecond))
        print(
            "  ratio, \(records) records".padding(toLength: 52, withPad: " ", startingAt: 0)
                + String(
                    format: "%8.2f               (goal ≥ %.2f)",
                    large.pull.requestsPerSecond / large.health.requestsPerSecond, goalRatio))
    }

    /// A server on a log of `records` records, a laptop brought to its head, and `wrk` on its
    /// caught-up pull and on `/v1/health`, alternating; prints both medians.
    static func measure(records: Int, workspace: String) async throws -> (pull: Run, health: Run) {
        let directory = workspace + "/wrk-\(records)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await BootstrapBenchmark.serverStore(records: records, workspace: workspace, into: directory)
        let server = BenchServer(directory: directory, database: "sqlite:" + store.path)
        try server.start()
        defer { server.stop() }

        // One laptop at the head of the log: bootstrapped, then pulling once more finds nothing new.
        let laptop = try await server.laptop("佐藤花子", directory: directory + "/laptop")
        let transport = CurlTransport(baseURL: server.url)
        _ = try await BootstrapBenchmark.bootstrap(laptop, over: transport, records: records)
        let identity = try laptop.identity()
        let limit = WireProtocol.defaultPullLimit
        let caughtUp = try await transport.pull(
            after: identity.cursor, acknowledged: nil, limit: limit, token: identity.token)
        guard caughtUp.value.changes.isEmpty, !caughtUp.value.hasMore else {
            throw BenchmarkSkipped(reason: "the laptop is not at the head of the log after its bootstrap")
        }
        let cursor = identity.cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? identity.cursor
        let pull = server.url + "/v1/pull?after=\(cursor)&limit=\(limit)"
        let laptopHeaders = [
            "User-Agent: \(KakehashiVersion.userAgent)", "Accept-Encoding: gzip", "Content-Type: application/json",
        ]
        let pullHeaders = laptopHeaders + ["Accept: \(transport.pageTypes)", "Authorization: Bearer \(identity.token)"]
        let healthHeaders = laptopHeaders + ["Accept: application/json"]

        _ = try wrk(pull, headers: pullHeaders, seconds: 2, on: server)  // warm-up
        var pulls: [Run] = []
        var healths: [Run] = []
        for _ in 0..<rounds {
            pulls.append(try wrk(pull, headers: pullHeaders, seconds: duration, on: server))
            healths.append(try wrk(server.url + "/v1/health", headers: healthHeaders, seconds: duration, on: server))
        }
        let (pullRun, healthRun) = (median(pulls), median(healths))
        let label = "\(records) records (\(store.changes) changes)"
        for (name, run) in [("caught-up pull", pullRun), ("/v1/health", healthRun)] {
            print(
                "  \(name), \(label)".padding(toLength: 52, withPad: " ", startingAt: 0)
                    + String(
                        format: "%8.0f requests/s  (%d requests, all 200; server CPU %.0f µs a request; ",
                        run.requestsPerSecond, run.requests, run.serverMicroseconds) + "latency \(run.latency))")
        }
        return (pullRun, healthRun)
    }

    static let wrk = "/usr/bin/wrk"

    static func median(_ runs: [Run]) -> Run {
        runs.sorted { $0.requestsPerSecond < $1.requestsPerSecond }[runs.count / 2]
    }

    /// Runs `wrk` against `url` on `server`; throws unless every answer was a 200 — by wrk's
    /// count of answers of 400 and above, and by the server's own count of the path's answers by
    /// status in `/metrics` — and no socket failed.
    static func wrk(_ url: String, headers: [String], seconds: Int, on server: BenchServer) throws -> Run {
        let path = String(url.dropFirst(server.url.count).prefix { $0 != "?" })
        let before = try answers(to: path, on: server)
        let cpuBefore = server.cpuSeconds
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments =
            ["-t\(threads)", "-c\(connections)", "-d\(seconds)s", "--latency"] + headers.flatMap { ["-H", $0] } + [url]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        func field(_ prefix: String) -> [Substring]? {
            lines.first { $0.hasPrefix(prefix) }.map { $0.dropFirst(prefix.count).split(separator: " ") }
        }
        let rate = field("Requests/sec:")?.first.flatMap { Double($0) }
        let requests = lines.first { $0.contains(" requests in ") }?.split(separator: " ").first.flatMap { Int($0) }
        let cpu = server.cpuSeconds - cpuBefore
        let after = try answers(to: path, on: server)
        let other = after.filter { $0.key != "200" && $0.value != before[$0.key] }
        let ok = (after["200"] ?? 0) - (before["200"] ?? 0)
        var failures = [
            field("Non-2xx or 3xx responses:").map { "wrk: \($0.joined(separator: " ")) answers were not 2xx or 3xx" },
            field("Socket errors:").map { "wrk: socket errors: \($0.joined(separator: " "))" },
        ].compactMap { $0 }
        if !other.isEmpty { failures.append("the server answered \(path) with \(other.keys.sorted()) meanwhile") }
        if ok < requests ?? 0 { failures.append("the server counted \(ok) answers 200, wrk \(requests ?? 0)") }
        guard process.terminationStatus == 0, failures.isEmpty, let rate, let requests else {
            throw BenchmarkSkipped(reason: "wrk against \(url) failed (\(failures.joined(separator: "; "))):\n\(text)")
        }
        let latency = ["50%", "99%"].map { "p\($0.dropLast()) \(field($0)?.first ?? "?")" }.joined(separator: ", ")
        return (rate, requests, latency, cpu / Double(max(1, requests)) * 1e6)
    }

    /// The server's answers to `path` so far, by status (`kakehashi_http_requests_total`).
    static func answers(to path: String, on server: BenchServer) throws -> [String: Int] {
        let prefix = "kakehashi_http_requests_total{path=\"\(path)\",status=\""
        var counts: [String: Int] = [:]
        for line in try server.metrics().split(separator: "\n") where line.hasPrefix(prefix) {
            let rest = line.dropFirst(prefix.count)
            let status = String(rest.prefix { $0 != "\"" })
            counts[status] = line.split(separator: " ").last.flatMap { Double($0) }.map { Int($0) }
        }
        return counts
    }
}
