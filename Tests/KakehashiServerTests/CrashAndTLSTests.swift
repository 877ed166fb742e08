import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KakehashiServer
import KakehashiShared
import NIOSSL
import Testing

/// Real `kakehashi-server` processes: `kill -9` during a push, and TLS.
@Suite struct CrashAndTLSTests {
    /// Enrolls a device against a running server and returns its id and token.
    static func enroll(port: Int, code: String, tls: TLSConfiguration? = nil) async throws -> EnrollResponse {
        let client = TestClient.patient(port: port, tls: tls)
        client.connect()
        defer { Task { try? await client.shutdown() } }
        let body = try JSONEncoder().encode(EnrollRequest(code: code, deviceName: "crash-test"))
        let response = try await client.post(
            "/v1/enroll", headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
        try #require(response.status == .ok)
        return try JSONDecoder().decode(EnrollResponse.self, from: Data(buffer: response.body ?? ByteBuffer()))
    }

    @Test(arguments: StoreKind.available)
    func killDashNineDuringAPushLeavesEveryChangeExactlyOnceAfterTheRetry(kind: StoreKind) async throws {
        let db = try await CommandLineTests.database(kind)
        let advisor = try await ServerBinary.run(
            ["advisor", "add", "--name", "山田太郎", "--role", "ip-advisor", "--program", "ip-advisor"], db: db
        ).stdout.trimmingCharacters(in: .newlines)
        let code = try await ServerBinary.run(["enroll", advisor], db: db).stdout.trimmingCharacters(in: .newlines)
        let (first, firstURL) = try await ServerBinary.serve(db: db)
        defer { if first.isRunning { first.terminate() } }
        let enrolled = try await Self.enroll(port: try #require(URLComponents(string: firstURL)?.port), code: code)

        var maker = ChangeMaker(clock: HybridClock(device: enrolled.device), author: advisor)
        var generator = SystemRandomNumberGenerator()
        var batch: [Change] = []
        let now = serverWallMillis()
        for index in 0..<500 {
            let id = RecordID.uuidV7(unixMillis: now, using: &generator)
            for (field, value) in [("kind", "university"), ("name", "国立大学法人 試験大学 第\(index)研究室")] {
                batch.append(
                    maker.make(
                        .set, entity: .organization, record: id, field: field, value: .string(value), state: nil,
                        wallMillis: now))
            }
        }
        let body = try JSONEncoder().encode(PushRequest(changes: batch))
        var headers: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(enrolled.token)"]
        let client = TestClient.patient(port: try #require(URLComponents(string: firstURL)?.port))
        client.connect()
        try await client.executeAndDontWaitForResponse(
            .init("/v1/push", method: .post, headers: headers, body: ByteBuffer(bytes: body)))
        kill(first.processIdentifier, SIGKILL)
        await first.exited()
        try? await client.shutdown()

        // The client retries the same batch against the restarted server.
        let (second, secondURL) = try await ServerBinary.serve(db: db)
        defer { if second.isRunning { second.terminate() } }
        let retry = TestClient.patient(port: try #require(URLComponents(string: secondURL)?.port))
        retry.connect()
        let response = try await retry.post("/v1/push", headers: headers, body: ByteBuffer(bytes: body))
        try #require(response.status == .ok)
        let results = try JSONDecoder().decode(PushResponse.self, from: Data(buffer: response.body ?? ByteBuffer()))
        #expect(results.results.map(\.id) == batch.map(\.id))
        #expect(results.results.allSatisfy { $0.status == .accepted || $0.status == .duplicate })

        var received: [ChangeID] = []
        var cursor = WireProtocol.initialCursor
        headers[.contentType] = nil
        while true {
            let page = try await retry.get("/v1/pull?after=\(cursor)&limit=5000", headers: headers)
            let decoded = try JSONDecoder().decode(PullResponse.self, from: Data(buffer: page.body ?? ByteBuffer()))
            received += decoded.changes.filter { $0.entity == .organization }.map(\.id)
            cursor = decoded.nextCursor
            if !decoded.hasMore { break }
        }
        try await retry.shutdown()
        #expect(received.count == batch.count && Set(received) == Set(batch.map(\.id)))
    }

    /// Two real `kakehashi-server serve` processes on one PostgreSQL database: a change pushed
    /// through one is pulled through the other.
    @Test(.enabled(if: StoreKind.postgresURL != nil))
    func twoServerProcessesShareOnePostgresDatabase() async throws {
        let db = try await CommandLineTests.database(.postgres)
        var tokens: [String] = []
        var devices: [DeviceID] = []
        var advisors: [String] = []
        for name in ["山田太郎", "佐藤花子"] {
            let advisor = try await ServerBinary.run(
                ["advisor", "add", "--name", name, "--role", "coordinator", "--program", "coordinator"], db: db
            ).stdout.trimmingCharacters(in: .newlines)
            advisors.append(advisor)
            let code = try await ServerBinary.run(["enroll", advisor], db: db).stdout.trimmingCharacters(in: .newlines)
            tokens.append(code)
        }
        let (first, firstURL) = try await ServerBinary.serve(db: db)
        defer { if first.isRunning { first.terminate() } }
        let (second, secondURL) = try await ServerBinary.serve(db: db)
        defer { if second.isRunning { second.terminate() } }
        let ports = [firstURL, secondURL].compactMap { URLComponents(string: $0)?.port }
        try #require(ports.count == 2 && ports[0] != ports[1])
        for index in 0..<2 {
            let enrolled = try await Self.enroll(port: ports[index], code: tokens[index])
            tokens[index] = enrolled.token
            devices.append(enrolled.device)
        }

        var maker = ChangeMaker(clock: HybridClock(device: devices[0]), author: advisors[0])
        var generator = SystemRandomNumberGenerator()
        let org = RecordID.uuidV7(unixMillis: serverWallMillis(), using: &generator)
        let changes = [("name", "川崎市産業振興財団"), ("kind", "support-center")].map { field, value in
            maker.make(
                .set, entity: .organization, record: org, field: field, value: .string(value), state: nil,
                wallMillis: serverWallMillis())
        }
        let writer = TestClient.patient(port: ports[0])
        writer.connect()
        let pushed = try await writer.post(
            "/v1/push", headers: [.contentType: "application/json", .authorization: "Bearer \(tokens[0])"],
            body: ByteBuffer(bytes: try JSONEncoder().encode(PushRequest(changes: changes))))
        #expect(pushed.status == .ok)
        try await writer.shutdown()

        let reader = TestClient.patient(port: ports[1])
        reader.connect()
        let pulled = try await reader.get("/v1/pull?after=0", headers: [.authorization: "Bearer \(tokens[1])"])
        try await reader.shutdown()
        let page = try JSONDecoder().decode(PullResponse.self, from: Data(buffer: pulled.body ?? ByteBuffer()))
        #expect(Set(page.changes.filter { $0.record == org }.map(\.id)) == Set(changes.map(\.id)))
    }

    @Test func servesHTTPSWithTheGivenCertificate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kakehashi-tls-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj",
            "/CN=127.0.0.1",
        ]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        await openssl.exited()
        try #require(openssl.terminationStatus == 0)

        let db = "sqlite:" + directory.appendingPathComponent("server.sqlite").path
        let incomplete = try await ServerBinary.run(["serve", "--port", "0", "--tls-cert", cert], db: db)
        #expect(incomplete.status == 64 && incomplete.stderr.contains("tls"))

        let (process, url) = try await ServerBinary.serve(db: db, extra: ["--tls-cert", cert, "--tls-key", key])
        defer { if process.isRunning { process.terminate() } }
        #expect(url.hasPrefix("https://127.0.0.1:"))
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let client = TestClient.patient(
            port: try #require(URLComponents(string: url)?.port), tls: tls, serverName: "localhost")
        client.connect()
        let health = try await client.get("/v1/health")
        #expect(health.status == .ok)
        #expect(health.headers[HTTPField.Name("Kakehashi-Server-Time")!] != nil)
        try await client.shutdown()
    }
}
