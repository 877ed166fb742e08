import Foundation
import KakehashiClient
import KakehashiShared

/// The bootstrap of `BootstrapBenchmark` (a new laptop's first sync from states on a log of
/// `records` records, until `search` answers) over an emulated rural link: the real server with
/// TLS (a throwaway self-signed certificate the laptop is given as its `cacert`) behind a
/// `LinkEmulator` of 100 ms round trip, 10 Mbit/s and 1 % segment loss. The limit, measured in
/// the same run: the bytes the emulator carried, both directions, at the link's bandwidth.
enum RuralBenchmark {
    static let goalRatio = 2.0
    /// Drives which segments the emulator loses; printed, so a run can be compared with another.
    static let seed: UInt64 = 13

    static func run(records: Int, workspace: String) async throws {
        let directory = workspace + "/rural"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await BootstrapBenchmark.serverStore(records: records, workspace: workspace, into: directory)
        let (cert, key) = try selfSignedCertificate(in: directory)
        let server = BenchServer(directory: directory, database: "sqlite:" + store.path)
        server.serveArguments = ["--tls-cert", cert, "--tls-key", key]
        server.cacert = cert
        try server.start()
        defer { server.stop() }
        guard let port = server.url.split(separator: ":").last.flatMap({ UInt16($0) }) else {
            throw BenchmarkSkipped(reason: "kakehashi-server printed no port: \(server.url)")
        }
        let emulator = try LinkEmulator(upstreamPort: port, seed: seed)
        defer { emulator.stop() }
        let link = emulator.link
        print(
            "\nBootstrap over an emulated rural link: \(records) records (\(store.changes) changes); TLS, \(Int(link.oneWayDelay * 2_000)) ms round trip, \(Int(link.bitsPerSecond / 1e6)) Mbit/s, \(link.loss * 100) % segment loss (user-space proxy, seed \(seed))"
        )

        // Enrolled directly; the bootstrap goes through the emulated link.
        let laptop = try await server.laptop("佐藤花子", directory: directory + "/laptop")
        let transport = CurlTransport(baseURL: "https://127.0.0.1:\(emulator.port)", cacert: cert)
        let progress = ProgressLine()
        let (_, summary, elapsed) = try await BootstrapBenchmark.bootstrap(
            laptop, over: transport, records: records, progress: progress.report)
        let carried = emulator.carried
        let limit = link.seconds(carried.bytes)
        print(
            String(
                format: "  kakehashi bootstrap    %8.1f s until search answers (%d states, %d pages, %d connection(s))",
                elapsed, summary.states, summary.pages, emulator.connections))
        print(
            String(
                format:
                    "  bytes on the wire      %8.2f MB (%.2f MB to the laptop, %.2f MB to the server; %d segments, %d lost)",
                Double(carried.bytes) / 1e6, Double(carried.toLaptop) / 1e6, Double(carried.toServer) / 1e6,
                carried.segments, carried.lost))
        print(
            String(
                format: "  wire time at %2.0f Mbit/s %8.1f s (the limit: those bytes at the link's bandwidth)",
                link.bitsPerSecond / 1e6, limit))
        print(String(format: "  ratio                  %8.2f   (goal ≤ %.1f)", elapsed / limit, goalRatio))
        print("  page sizes asked       \(pageSizes(summary.pageLimits))")

        // The same bootstrap from the same server without the link: what the two processes'
        // work costs on this machine, which the link's time overlaps with or adds to.
        let direct = try await server.laptop("鈴木一郎", directory: directory + "/direct")
        let (_, directSummary, directSeconds) = try await BootstrapBenchmark.bootstrap(
            direct, over: CurlTransport(baseURL: server.url, cacert: cert), records: records)
        print(
            String(
                format: "  same, TLS over loopback %7.1f s (no emulated link: the time the link adds is %.1f s)",
                directSeconds, elapsed - directSeconds))
        print("  its page sizes asked   \(pageSizes(directSummary.pageLimits))")
    }

    /// The `limit`s a sync's pull pages were asked with, in order, runs of one size counted:
    /// "1000 ×2, 2000, 4000, 5000 ×18".
    static func pageSizes(_ limits: [Int]) -> String {
        var runs: [(size: Int, count: Int)] = []
        for limit in limits {
            if runs.last?.size == limit { runs[runs.count - 1].count += 1 } else { runs.append((limit, 1)) }
        }
        return runs.map { $0.count == 1 ? "\($0.size)" : "\($0.size) ×\($0.count)" }.joined(separator: ", ")
    }

    /// A throwaway self-signed ECDSA certificate for 127.0.0.1, made with the `openssl` CLI.
    static func selfSignedCertificate(in directory: String) throws -> (cert: String, key: String) {
        let (cert, key) = (directory + "/cert.pem", directory + "/key.pem")
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        do {
            try openssl.run()
        } catch {
            throw BenchmarkSkipped(reason: "openssl is missing (the Debian package openssl): \(error)")
        }
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else {
            throw BenchmarkSkipped(reason: "openssl req could not make a certificate")
        }
        return (cert, key)
    }
}

/// Prints how far a long sync has come, every 30 s once it has run for a minute.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private let start = DispatchTime.now().uptimeNanoseconds
    private var printed = 30.0

    func report(_ progress: SyncEngine.Progress) {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let due = lock.withLock {
            guard elapsed >= printed + 30 else { return false }
            printed = elapsed
            return true
        }
        guard due else { return }
        print(
            String(
                format: "  … %.0f s: %d pages, %.1f MB so far", elapsed, progress.pages,
                Double(progress.bytes) / 1e6) + " (\(progress.phase.rawValue))")
    }
}
