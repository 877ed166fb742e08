import Foundation
import Hummingbird
import HummingbirdTesting
import KakehashiServer
import KakehashiShared
import Testing

/// The `kakehashi-server` CLI contract of Docs/design.md §8, run as a real process.
@Suite struct CommandLineTests {
    static func database(_ kind: StoreKind) async throws -> String {
        switch try await kind.freshLocation() {
        case .sqlite(let path): "sqlite:" + path
        case .postgres(let url): url
        }
    }

    @Test(arguments: StoreKind.available)
    func directoryCommandsPrintIdsAndJSONAndRefuseBadValues(kind: StoreKind) async throws {
        let db = try await Self.database(kind)
        let program = try await ServerBinary.run(
            ["program", "add", "--id", "regional-innovation", "--name", "地域イノベーション支援", "--ministry", "meti"], db: db)
        #expect(program.status == 0 && program.stdout == "regional-innovation\n")

        let badMinistry = try await ServerBinary.run(
            ["program", "add", "--id", "other-program", "--name", "別事業", "--ministry", "moj"], db: db)
        #expect(badMinistry.status == 65)
        #expect(badMinistry.stderr.contains("ministry") && badMinistry.stderr.contains("mext"))

        let added = try await ServerBinary.run(
            [
                "advisor", "add", "--name", "山田太郎", "--role", "business-producer", "--program", "regional-innovation",
                "--prefecture", "神奈川県",
            ], db: db)
        #expect(added.status == 0)
        let advisor = added.stdout.trimmingCharacters(in: .newlines)
        #expect(RecordID.canonicalUUID(advisor) == advisor)

        let badRole = try await ServerBinary.run(
            ["advisor", "add", "--name", "佐藤花子", "--role", "wizard", "--program", "coordinator"], db: db)
        #expect(badRole.status == 65 && badRole.stderr.contains("role") && badRole.stderr.contains("ip-producer"))
        let badProgram = try await ServerBinary.run(
            ["advisor", "add", "--name", "佐藤花子", "--role", "coordinator", "--program", "nowhere"], db: db)
        #expect(badProgram.status == 65 && badProgram.stderr.contains("program"))
        #expect(badProgram.stderr.contains("business-production"))

        let programs = try await ServerBinary.run(["programs", "--json"], db: db)
        let list = try JSONSerialization.jsonObject(with: Data(programs.stdout.utf8)) as? [[String: Any]]
        #expect(list?.count == 7)
        let advisors = try await ServerBinary.run(["advisors", "--json"], db: db)
        let people = try JSONSerialization.jsonObject(with: Data(advisors.stdout.utf8)) as? [[String: Any]]
        #expect(people?.count == 1 && people?.first?["name"] as? String == "山田太郎")

        let table = try await ServerBinary.run(["advisors"], db: db)
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        // The role column starts at the same display column on the header and the Japanese row.
        func column(of text: String, in line: String) -> Int? {
            line.range(of: text).map { DisplayWidth.of(String(line[..<$0.lowerBound])) }
        }
        #expect(column(of: "役割", in: lines[0]) == column(of: "事業プロデューサー", in: lines[1]))
        #expect(column(of: "事業", in: lines[0]) == column(of: "regional-innovation", in: lines[1]))

        let code = try await ServerBinary.run(["enroll", advisor, "--ttl", "30m"], db: db)
        #expect(code.status == 0 && code.stdout.trimmingCharacters(in: .newlines).count == 24)
        #expect(try await ServerBinary.run(["enroll", advisor, "--ttl", "soon"], db: db).status == 64)
        #expect(try await ServerBinary.run(["revoke", "no-such-device"], db: db).status == 65)
        #expect(try await ServerBinary.run(["advisor", "deactivate", advisor], db: db).status == 0)
        let afterDeactivation = try await ServerBinary.run(["enroll", advisor], db: db)
        #expect(afterDeactivation.status == 65 && afterDeactivation.stderr.contains("deactivated"))
    }

    @Test func unusableStoresExitWithUsageOrUnavailable() async throws {
        #expect(try await ServerBinary.run(["programs"], db: "mysql://db/kakehashi").status == 64)
        let unreachable = try await ServerBinary.run(["programs"], db: "postgres://nobody@127.0.0.1:1/kakehashi")
        #expect(unreachable.status == 69)
        #expect(try await ServerBinary.run(["advisor", "add", "--name", "x"], db: nil).status == 64)
    }

    /// A store whose pages are damaged after it was written: the command that trips over them
    /// says so in one sentence with what to do, and exits 70 (not argument-parser's 1 with the
    /// raw SQLite message).
    @Test func aDamagedStoreIsOneSentenceAndExit70() async throws {
        let db = try await Self.database(.sqlite)
        #expect(try await ServerBinary.run(["programs"], db: db).status == 0)
        let path = String(db.dropFirst("sqlite:".count))
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        // Page 4 holds the change log's table (pages 1–3: the schema and the migrations).
        try file.seek(toOffset: 3 * 4096)
        try file.write(contentsOf: Data(repeating: 0xFF, count: 4096))
        try file.close()

        let check = try await ServerBinary.run(["check"], db: db)
        #expect(check.status == 70, "\(check.stderr)")
        #expect(check.stderr.hasPrefix("error: db: the SQLite store is damaged"), "\(check.stderr)")
        #expect(check.stderr.contains("kakehashi-server restore"))
        #expect(!check.stderr.contains("Error:"), "argument-parser's own report: \(check.stderr)")
        #expect(check.stderr.split(separator: "\n").count == 1, "\(check.stderr)")
    }

    @Test(arguments: StoreKind.available)
    func servePrintsItsURLServesAndStopsOnSIGTERM(kind: StoreKind) async throws {
        let db = try await Self.database(kind)
        let advisor = try await ServerBinary.run(
            ["advisor", "add", "--name", "鈴木一郎", "--role", "coordinator", "--program", "coordinator"], db: db
        ).stdout.trimmingCharacters(in: .newlines)
        let code = try await ServerBinary.run(["enroll", advisor], db: db).stdout.trimmingCharacters(in: .newlines)
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("kakehashi-serve-\(UUID()).log")
        let (process, url) = try await ServerBinary.serve(db: db, log: log)
        defer { if process.isRunning { process.terminate() } }
        let components = try #require(URLComponents(string: url))
        #expect(components.scheme == "http" && components.host == "127.0.0.1")
        let port = try #require(components.port)

        let client = TestClient.patient(port: port)
        client.connect()
        let body = try JSONEncoder().encode(EnrollRequest(code: code, deviceName: "ThinkPad"))
        let response = try await client.post(
            "/v1/enroll", headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
        #expect(response.status == .ok)
        let enrolled = try JSONDecoder().decode(EnrollResponse.self, from: Data(buffer: response.body ?? ByteBuffer()))
        #expect(enrolled.advisor == advisor)
        try await client.shutdown()

        let devices = try await ServerBinary.run(["devices", "--json"], db: db)
        #expect(devices.stdout.contains(enrolled.device.rawValue) && devices.stdout.contains("ThinkPad"))
        #expect(!devices.stdout.contains(enrolled.token))

        process.terminate()
        await process.exited()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        // The log tells what happened without the secrets.
        let logged = try String(contentsOf: log, encoding: .utf8)
        #expect(logged.contains("device enrolled") && logged.contains(enrolled.device.rawValue))
        #expect(!logged.contains(enrolled.token) && !logged.contains(code))
    }
}

/// A result that cannot be written (a full disk, `> /dev/full`) is one sentence and exit 69, not a
/// crash with a backtrace, and not a success.
@Suite struct OutputFailureTests {
    @Test func aFullDiskOnStdoutIsOneSentenceAndExit69() async throws {
        let directory = try SafeDefaultsTests.directory()
        let process = Process()
        process.executableURL = try ServerBinary.url
        process.arguments = [
            "indicators", "--csv", "--db", "sqlite:" + directory.appendingPathComponent("s.sqlite").path,
        ]
        process.environment = SafeDefaultsTests.baseEnvironment
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full"))
        let stderr = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
        await process.exited()
        let said = ChildProcess.text(stderr)
        #expect(process.terminationReason == .exit && process.terminationStatus == 69, "\(said)")
        #expect(said.contains("error: stdout: cannot write the output (No space left on device)"), "\(said)")
        #expect(!said.contains("Fatal error") && !said.contains("Backtrac"), "\(said)")
    }
}
