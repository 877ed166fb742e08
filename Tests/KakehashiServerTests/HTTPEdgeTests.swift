import Foundation
import KakehashiTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Attacks without a token against a real `kakehashi-server serve` process: slow-loris and slow
/// body from `slowhttptest`, stalled large enrollment uploads, token-less pushes with large bodies,
/// and old TLS versions and static-RSA suites from `openssl s_client`.
///
/// The server runs with its default limits under a soft open-file limit of 1024, systemd's
/// default for services. Every wait is bounded; no assertion is about how long anything took.
@Suite(.serialized) struct HTTPEdgeTests {
    /// Server RSS allowed during an attack: about twice what was measured with the limits (debug
    /// build: 45 MiB idle, 56 to 83 MiB during these attacks, 1,000 connections being the default
    /// `--max-connections`), and a third of the 470 to 490 MiB that 60 stalled 7 MiB enrollment
    /// uploads held before them.
    static let rssBoundBytes = 160 * 1024 * 1024

    @Test func slowLorisLeavesHealthAnsweringAndMemoryBounded() async throws {
        let server = try await EdgeServer.start()
        defer { server.stop() }
        // 1,500 connections that send a header line every 5 s and never finish their headers.
        let report = try await Attack.run(
            ["-H", "-c", "1500", "-r", "300", "-i", "5", "-x", "24", "-l", "60", "-p", "10"],
            url: "\(server.url)/v1/health", against: server, attackers: 1000)
        report.check(attackers: 1000, rssBound: Self.rssBoundBytes)
    }

    @Test func slowBodyLeavesHealthAnsweringAndMemoryBounded() async throws {
        let server = try await EdgeServer.start()
        defer { server.stop() }
        // 1,500 enrollments announcing 4,096 bytes (within the enrollment limit) and sending 24
        // bytes every 5 s.
        let report = try await Attack.run(
            ["-B", "-c", "1500", "-r", "300", "-i", "5", "-x", "24", "-s", "4096", "-l", "60", "-p", "10"],
            url: "\(server.url)/v1/enroll", against: server, attackers: 1000)
        report.check(attackers: 1000, rssBound: Self.rssBoundBytes)
    }

    /// 60 enrollments announcing 7 MiB each, sending all but the last byte, then stalling.
    @Test func stalledLargeEnrollUploadsAreCutOffWithoutBeingBuffered() async throws {
        let server = try await EdgeServer.start()
        defer { server.stop() }
        let port = server.port
        let size = 7 * 1024 * 1024
        let outcomes = try await offThePool { () -> [RawConnection.Reply] in
            let head = Data(
                "POST /v1/enroll HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(size)\r\n\r\n"
                    .utf8)
            let body = Data(repeating: UInt8(ascii: " "), count: size - 1)
            var connections: [RawConnection] = []
            for _ in 0..<60 {
                let connection = try RawConnection(port: port)
                connection.send(head + body, timeout: 5)
                connections.append(connection)
            }
            let deadline = Date().addingTimeInterval(15)
            return connections.map { $0.receive(until: deadline) }
        }
        let rss = try #require(server.residentBytes())
        print("60 stalled 7 MiB enrollments: server RSS \(rss / 1_048_576) MiB")
        #expect(rss < Self.rssBoundBytes, "server RSS \(rss / 1_048_576) MiB after 60 stalled 7 MiB uploads")
        for (index, reply) in outcomes.enumerated() {
            #expect(reply.status == 413, "upload \(index): \(reply)")
            #expect(reply.ending != .timedOut, "upload \(index): the server kept waiting for the body")
        }
        #expect(try await server.health() == 200)
    }

    /// A push with a missing or wrong token announcing 8 MiB, of which only 1 KiB is sent: it is
    /// answered 401 and the connection is closed without waiting for the rest.
    @Test(arguments: ["", "Authorization: Bearer not-a-real-token\r\n"])
    func pushWithoutAValidTokenIsRefusedBeforeItsBodyIsRead(authorization: String) async throws {
        let server = try await EdgeServer.start()
        defer { server.stop() }
        let port = server.port
        let reply = try await offThePool { () -> RawConnection.Reply in
            let connection = try RawConnection(port: port)
            connection.send(
                Data(
                    "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\(authorization)Content-Length: 8388608\r\n\r\n"
                        .utf8) + Data(repeating: UInt8(ascii: "["), count: 1024), timeout: 5)
            return connection.receive(until: Date().addingTimeInterval(10))
        }
        #expect(reply.status == 401, "\(reply)")
        #expect(reply.ending != .timedOut, "the server waited for the rest of an unauthenticated body: \(reply)")
        #expect(reply.text.lowercased().contains("connection: close"), "\(reply)")
    }

    @Test func tlsOffersOnlyVersions12And13WithForwardSecretSuites() async throws {
        let openssl = try Tool.require("/usr/bin/openssl", package: "openssl")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kakehashi-edge-tls-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let made = try Tool.run(
            openssl,
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj",
                "/CN=127.0.0.1",
            ], waitAtMost: 30)
        try #require(made.status == 0, "openssl req: \(made.output)")

        let server = try await EdgeServer.start(extra: ["--tls-cert", cert, "--tls-key", key])
        defer { server.stop() }
        try #require(server.url.hasPrefix("https://"))
        // SECLEVEL=0 lets OpenSSL 3 itself try TLS 1.0/1.1 and SHA-1 suites: only the server refuses.
        func handshake(_ options: [String]) throws -> (established: Bool, output: String) {
            let result = try Tool.run(
                openssl, ["s_client", "-connect", "127.0.0.1:\(server.port)", "-servername", "localhost"] + options,
                waitAtMost: 20)
            let established = result.status == 0 && !result.output.contains("Cipher is (NONE)")
            return (established, result.output)
        }
        for version in ["-tls1", "-tls1_1"] {
            let attempt = try handshake([version, "-cipher", "ALL:@SECLEVEL=0"])
            #expect(!attempt.established, "\(version) was accepted:\n\(attempt.output)")
        }
        for suite in ["AES128-SHA", "AES256-GCM-SHA384", "AES128-GCM-SHA256"] {
            let attempt = try handshake(["-tls1_2", "-cipher", "\(suite):@SECLEVEL=0"])
            #expect(!attempt.established, "static-RSA suite \(suite) was accepted:\n\(attempt.output)")
        }
        let ecdhe = try handshake(["-tls1_2", "-cipher", "ECDHE"])
        #expect(ecdhe.established && ecdhe.output.contains("Cipher is ECDHE-"), "\(ecdhe.output)")
        let tls13 = try handshake(["-tls1_3"])
        #expect(tls13.established && tls13.output.contains("TLSv1.3"), "\(tls13.output)")
    }
}

/// What a slowhttptest run left behind.
struct AttackReport {
    var probes: [Int] = []
    var maxResidentBytes = 0
    var maxOpenFiles = 0
    var toolOutput = ""

    func check(attackers: Int, rssBound: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        print(
            "attack: health probes \(probes), server RSS at most \(maxResidentBytes / 1_048_576) MiB,"
                + " at most \(maxOpenFiles) open files")
        // The attack must have been real: the server held about as many sockets as attackers.
        #expect(
            maxOpenFiles >= attackers * 9 / 10,
            "the attack never reached the server (at most \(maxOpenFiles) open files):\n\(toolOutput)",
            sourceLocation: sourceLocation)
        #expect(
            probes.count == Attack.probes,
            "\(probes.count) of \(Attack.probes) health probes ran under attack: \(probes)\n\(toolOutput)",
            sourceLocation: sourceLocation)
        #expect(
            probes.allSatisfy { $0 == 200 }, "health answers during the attack: \(probes) (0: no answer)",
            sourceLocation: sourceLocation)
        #expect(
            maxResidentBytes < rssBound, "server RSS reached \(maxResidentBytes / 1_048_576) MiB",
            sourceLocation: sourceLocation)
    }
}

enum Attack {
    /// Health probes made while the attack holds the server.
    static let probes = 6
    /// How long the attack holds the server at least, probes or not.
    static let held: TimeInterval = 15

    /// Runs slowhttptest against `url`, sampling the server's memory and open files, and probes
    /// `/v1/health` while the attack holds the server (at least nine tenths of `attackers`
    /// connected): `probes` probes, 1.5 s apart, over at least `held` seconds, then stops the
    /// tool. A busy machine makes the attack last longer, never makes fewer probes. The tool's
    /// own length (`-l`) only bounds the run; it gives up 20 s past it.
    static func run(
        _ options: [String], url: String, against server: EdgeServer, attackers: Int
    ) async throws -> AttackReport {
        let tool = try Tool.require("/usr/bin/slowhttptest", package: "slowhttptest")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("slowhttptest-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        // The tool needs more descriptors than the usual soft limit of 1024.
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -Sn $(ulimit -Hn); exec \"$0\" \"$@\"", tool.path] + options + ["-u", url]
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        let length = Double(options[(options.firstIndex(of: "-l") ?? 0) + 1]) ?? 30
        let giveUp = Date().addingTimeInterval(length + 20)
        var report = AttackReport()
        var held: Date?
        var nextProbe = Date()
        while process.isRunning, Date() < giveUp {
            report.maxResidentBytes = max(report.maxResidentBytes, server.residentBytes() ?? 0)
            let open = server.openFiles()
            report.maxOpenFiles = max(report.maxOpenFiles, open)
            if held == nil, open >= attackers * 9 / 10 { held = Date() }
            if let held {
                if report.probes.count >= probes, Date().timeIntervalSince(held) >= Self.held { break }
                if report.probes.count < probes, Date() >= nextProbe {
                    report.probes.append((try? await server.health()) ?? 0)
                    nextProbe = Date().addingTimeInterval(1.5)
                }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        // Read what the tool printed once it has ended (stopped here, or on its own).
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        report.toolOutput = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return report
    }
}

/// A `kakehashi-server serve` process with its default limits, on a fresh SQLite store, started
/// under a soft open-file limit of 1024 (systemd's default for services).
struct EdgeServer {
    let process: Process
    let url: String
    let port: Int

    static func start(extra: [String] = []) async throws -> EdgeServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kakehashi-edge-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments =
            [
                "-c", "ulimit -Sn 1024; exec \"$0\" \"$@\"", try ServerBinary.url.path, "serve", "--port", "0",
                "--db", "sqlite:" + directory.appendingPathComponent("server.sqlite").path,
            ] + extra
        var environment = ProcessInfo.processInfo.environment
        environment["KAKEHASHI_SERVER_DB"] = nil
        environment["LOG_LEVEL"] = "error"
        process.environment = environment
        let url = try await ChildProcess.start(process, log: URL(fileURLWithPath: "/dev/null")).firstLine()
        guard let port = URLComponents(string: url)?.port else {
            process.terminate()
            throw ServerDidNotStart(output: url)
        }
        return EdgeServer(process: process, url: url, port: port)
    }

    struct ServerDidNotStart: Error, CustomStringConvertible {
        let output: String
        var description: String { "kakehashi-server serve printed no URL: \(output)" }
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// VmRSS from /proc, in bytes.
    func residentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
    }

    func openFiles() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/fd").count) ?? 0
    }

    /// `GET /v1/health` on a new connection, waiting at most 10 s; the HTTP status.
    func health() async throws -> Int {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 10
        configuration.timeoutIntervalForResource = 10
        let session = URLSession(configuration: configuration)
        defer { session.invalidateAndCancel() }
        var request = URLRequest(url: URL(string: "\(url)/v1/health")!)
        request.setValue("close", forHTTPHeaderField: "Connection")
        let (_, response) = try await session.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}

/// External tools the tests drive; a missing one fails the test with what to install.
enum Tool {
    static func require(_ path: String, package: String) throws -> URL {
        try #require(
            FileManager.default.isExecutableFile(atPath: path),
            "\(path) is missing: install the Debian package \(package) (scripts/install-deps.sh test)")
        return URL(fileURLWithPath: path)
    }

    /// Runs a tool with stdin closed, killing it after `waitAtMost` seconds.
    static func run(
        _ tool: URL, _ arguments: [String], waitAtMost: TimeInterval
    ) throws -> (
        status: Int32, output: String
    ) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("tool-\(UUID()).out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = process.standardOutput
        try process.run()
        let deadline = Date().addingTimeInterval(waitAtMost)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
}

/// Runs blocking socket work on its own thread, not on the few threads of Swift's pool.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A raw TCP connection to the server on loopback, as an attacker opens one.
final class RawConnection {
    struct ConnectFailed: Error {}

    enum Ending: Sendable, Equatable {
        case closed, reset, timedOut
    }

    struct Reply: Sendable, CustomStringConvertible {
        let text: String
        let ending: Ending
        /// The status of the HTTP response read, if any.
        var status: Int? {
            let parts = text.prefix(while: { $0 != "\r" }).split(separator: " ")
            return parts.count >= 2 && parts[0].hasPrefix("HTTP/") ? Int(parts[1]) : nil
        }
        var description: String { "\(ending): \(text.prefix(300))" }
    }

    let descriptor: Int32

    init(port: Int) throws {
        guard let connection = LoopbackConnection.connect(to: UInt16(port)) else { throw ConnectFailed() }
        descriptor = connection.descriptor
    }

    deinit { close(descriptor) }

    private func setTimeout(_ option: Int32, _ seconds: TimeInterval) {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        setsockopt(descriptor, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends as much of `data` as the server takes; stops at a close, a reset or `timeout` seconds
    /// without progress. Returns the bytes sent.
    @discardableResult func send(_ data: Data, timeout: TimeInterval) -> Int {
        setTimeout(SO_SNDTIMEO, timeout)
        var sent = 0
        data.withUnsafeBytes { bytes in
            while sent < bytes.count {
                let count = Glibc.send(
                    descriptor, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
                if count <= 0 { break }
                sent += count
            }
        }
        return sent
    }

    /// Reads until the server closes the connection, resets it, or `deadline` passes.
    func receive(until deadline: Date) -> Reply {
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var ending = Ending.timedOut
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { break }
            setTimeout(SO_RCVTIMEO, max(remaining, 0.001))
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
            } else if count == 0 {
                ending = .closed
                break
            } else if errno == ECONNRESET {
                ending = .reset
                break
            } else if errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK {
                ending = .reset
                break
            }
        }
        return Reply(text: String(decoding: received, as: UTF8.self), ending: ending)
    }
}
