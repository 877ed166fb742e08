import Foundation
import Hummingbird
import HummingbirdTesting
import KakehashiServer
import KakehashiShared
import KakehashiTestSupport
import NIOCore
import Testing

/// What an operator gets without reading the code (issue 11, "Safe defaults"), with real
/// `kakehashi-server` processes: private store files, one `serve` per SQLite store, one default
/// store location, one sentence for a busy port or an unwritable store, hang-ups that are not
/// 500s, and devices of a deactivated advisor that are not listed as active.
@Suite struct SafeDefaultsTests {
    /// A new, empty temporary directory.
    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kakehashi-defaults-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static var baseEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["KAKEHASHI_SERVER_DB"] = nil
        return environment
    }

    /// Starts `kakehashi-server` with `environment`, in `directory`.
    static func launch(
        _ arguments: [String], environment: [String: String] = baseEnvironment, in directory: URL? = nil,
        log: URL? = nil
    ) throws -> ChildProcess {
        let process = Process()
        process.executableURL = try ServerBinary.url
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = directory }
        return try ChildProcess.start(process, log: log)
    }

    /// Runs one command to completion; a command still running after `timeout` seconds (a second
    /// `serve` that should have refused) is stopped and reported with status -1.
    static func run(
        _ arguments: [String], db: String? = nil, environment: [String: String] = baseEnvironment,
        in directory: URL? = nil, timeout: Double = 30
    ) async throws -> ChildProcess.Result {
        try await launch(arguments + (db.map { ["--db", $0] } ?? []), environment: environment, in: directory)
            .finished(timeout: timeout)
    }

    /// Starts `serve --port 0` and returns it with its port once it listens.
    static func serve(
        db: String? = nil, environment: [String: String] = baseEnvironment, in directory: URL? = nil,
        log: URL? = nil
    ) async throws -> (Process, Int) {
        let child = try launch(
            ["serve", "--port", "0"] + (db.map { ["--db", $0] } ?? []) + ServerBinary.patientTimeouts,
            environment: environment, in: directory,
            log: log ?? URL(fileURLWithPath: "/dev/null"))
        guard let port = URLComponents(string: try await child.firstLine())?.port else {
            child.process.terminate()
            throw ServerDidNotListen()
        }
        return (child.process, port)
    }

    struct ServerDidNotListen: Error {}

    static func stop(_ process: Process) {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    static func mode(_ path: String) -> mode_t? {
        var status = stat()
        return stat(path, &status) == 0 ? status.st_mode & 0o777 : nil
    }

    /// Adds an advisor and enrolls a device for them through the running server.
    static func enrolledDevice(
        db: String? = nil, environment: [String: String] = baseEnvironment, in directory: URL? = nil, port: Int
    )
        async throws -> EnrollResponse
    {
        let added = try await run(
            ["advisor", "add", "--name", "鈴木一郎", "--role", "coordinator", "--program", "coordinator"], db: db,
            environment: environment, in: directory)
        try #require(added.status == 0, "\(added.stderr)")
        let advisor = added.stdout.trimmingCharacters(in: .newlines)
        let code = try await run(["enroll", advisor], db: db, environment: environment, in: directory).stdout
            .trimmingCharacters(in: .newlines)
        let client = TestClient.patient(port: port)
        client.connect()
        let body = try JSONEncoder().encode(EnrollRequest(code: code, deviceName: "ThinkPad"))
        let response = try await client.post(
            "/v1/enroll", headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
        try await client.shutdown()
        try #require(response.status == .ok)
        return try JSONDecoder().decode(EnrollResponse.self, from: Data(buffer: response.body ?? ByteBuffer()))
    }

    @Test func storeFilesArePrivateAndNewDirectoriesToo() async throws {
        let root = try Self.directory()
        let path = root.appendingPathComponent("var/kakehashi/server.sqlite").path
        let (server, port) = try await Self.serve(db: "sqlite:" + path)
        defer { Self.stop(server) }
        // A write while serving: the -wal and -shm files exist now.
        _ = try await Self.enrolledDevice(db: "sqlite:" + path, port: port)
        for file in [path, path + "-wal", path + "-shm", path + ".lock"] {
            #expect(Self.mode(file) == 0o600, "\(file)")
        }
        for directory in ["var", "var/kakehashi"] {
            #expect(Self.mode(root.appendingPathComponent(directory).path) == 0o700, "\(directory)")
        }
        // In an existing directory an admin command's new store is private too.
        let flat = root.appendingPathComponent("flat.sqlite").path
        #expect(try await Self.run(["programs"], db: "sqlite:" + flat).status == 0)
        #expect(Self.mode(flat) == 0o600)
        // A store left world-readable by an earlier version is narrowed to its owner when opened.
        #expect(chmod(flat, 0o644) == 0)
        #expect(try await Self.run(["programs"], db: "sqlite:" + flat).status == 0)
        #expect(Self.mode(flat) == 0o600)
    }

    @Test func aSecondServeOnTheSameStoreRefusesAndAdminCommandsStillWork() async throws {
        let path = try Self.directory().appendingPathComponent("server.sqlite").path
        let db = "sqlite:" + path
        let (first, port) = try await Self.serve(db: db)
        defer { Self.stop(first) }

        let second = try await Self.run(["serve", "--port", "0"], db: db, timeout: 15)
        #expect(second.status == 69)
        #expect(second.stderr.split(separator: "\n").count == 1, "\(second.stderr)")
        #expect(second.stderr.contains("sqlite:\(path) is already being served by another kakehashi-server"))

        // Admin commands open the same store beside the server.
        let device = try await Self.enrolledDevice(db: db, port: port)
        let devices = try await Self.run(["devices", "--json"], db: db)
        #expect(devices.status == 0 && devices.stdout.contains(device.device.rawValue))

        Self.stop(first)
        let (third, _) = try await Self.serve(db: db)
        Self.stop(third)
        #expect(third.terminationStatus == 0)
    }

    @Test func withoutDbEveryCommandUsesTheXDGStoreAndSaysWhenItCreatesIt() async throws {
        let root = try Self.directory()
        let working = root.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: working, withIntermediateDirectories: true)
        var environment = Self.baseEnvironment
        environment["HOME"] = root.appendingPathComponent("home").path
        environment["XDG_DATA_HOME"] = root.appendingPathComponent("xdg").path
        let expected = root.appendingPathComponent("xdg/kakehashi-server/server.sqlite").path

        let added = try await Self.run(
            ["advisor", "add", "--name", "山田太郎", "--role", "coordinator", "--program", "coordinator"],
            environment: environment, in: working)
        #expect(added.status == 0)
        #expect(added.stderr.contains("created a new, empty store sqlite:\(expected)"), "\(added.stderr)")
        #expect(added.stderr.split(separator: "\n").count == 1)
        #expect(FileManager.default.fileExists(atPath: expected))
        #expect(try FileManager.default.contentsOfDirectory(atPath: working.path).isEmpty)

        // The same store again, from another directory, without the note.
        let advisor = added.stdout.trimmingCharacters(in: .newlines)
        let listed = try await Self.run(["advisors", "--json"], environment: environment, in: root)
        #expect(listed.status == 0 && listed.stdout.contains(advisor) && listed.stderr.isEmpty)

        // serve uses it too: a code enrolled by the admin command is redeemed by the server.
        let (server, port) = try await Self.serve(environment: environment, in: root)
        defer { Self.stop(server) }
        let device = try await Self.enrolledDevice(environment: environment, in: root, port: port)
        #expect(device.device.rawValue.hasPrefix("d-"))

        // Without XDG_DATA_HOME: ~/.local/share.
        environment["XDG_DATA_HOME"] = nil
        let home = try await Self.run(["programs"], environment: environment, in: working)
        #expect(home.status == 0)
        #expect(
            home.stderr.contains(
                "created a new, empty store sqlite:\(root.path)/home/.local/share/kakehashi-server/server.sqlite"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: working.path).isEmpty)
    }

    @Test func aBusyPortIsOneSentenceAndExit69() async throws {
        let (first, port) = try await Self.serve(db: "sqlite:" + (try Self.directory().path) + "/server.sqlite")
        defer { Self.stop(first) }
        let other = "sqlite:" + (try Self.directory().path) + "/server.sqlite"
        #expect(try await Self.run(["programs"], db: other).status == 0)
        let busy = try await Self.run(["serve", "--port", "\(port)"], db: other, timeout: 15)
        #expect(busy.status == 69)
        #expect(
            busy.stderr
                == "error: port \(port) on 127.0.0.1 is already in use; stop the other server or choose --port\n",
            "\(busy.stderr)")
    }

    @Test func anUnwritableStorePathIsOneSentenceAndExit69() async throws {
        let file = try Self.directory().appendingPathComponent("not-a-directory").path
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        for command in [["programs"], ["serve", "--port", "0"]] {
            let result = try await Self.run(command, db: "sqlite:\(file)/server.sqlite", timeout: 15)
            #expect(result.status == 69, "\(command)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(result.stderr.contains(file) && result.stderr.contains("not a directory"), "\(result.stderr)")
            #expect(!result.stderr.contains("SQLite error"))
        }
    }

    @Test func aClientThatHangsUpMidUploadIsLoggedAsSuchNotAs500() async throws {
        let db = "sqlite:" + (try Self.directory().path) + "/server.sqlite"
        let log = try Self.directory().appendingPathComponent("serve.log")
        let (server, port) = try await Self.serve(db: db, log: log)
        defer { Self.stop(server) }
        let device = try await Self.enrolledDevice(db: db, port: port)

        let head =
            "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(device.token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"changes\":["
        try Self.sendAndHangUp(Array(head.utf8), port: port)
        let deadline = Date().addingTimeInterval(10)
        var logged = ""
        while Date() < deadline {
            logged = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if logged.contains("path=/v1/push") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        Self.stop(server)
        logged = try String(contentsOf: log, encoding: .utf8)
        #expect(logged.contains("client closed the connection") && logged.contains("path=/v1/push"), "\(logged)")
        #expect(!logged.contains("status=500") && !logged.contains("request failed"), "\(logged)")
    }

    @Test func devicesOfADeactivatedAdvisorAreNotListedAsActive() async throws {
        let db = "sqlite:" + (try Self.directory().path) + "/server.sqlite"
        let (server, port) = try await Self.serve(db: db)
        defer { Self.stop(server) }
        let device = try await Self.enrolledDevice(db: db, port: port)
        #expect(try await Self.run(["advisor", "deactivate", device.advisor], db: db).status == 0)

        let json = try await Self.run(["devices", "--json"], db: db)
        let list = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(list?.first?["status"] as? String == "advisor-deactivated", "\(json.stdout)")
        let table = try await Self.run(["devices"], db: db)
        let row = table.stdout.split(separator: "\n").first { $0.contains(device.device.rawValue) }
        #expect(row?.hasSuffix("担当者無効") == true, "\(table.stdout)")
    }

    /// Connects to 127.0.0.1:`port`, sends `bytes`, waits a moment, and closes the connection.
    static func sendAndHangUp(_ bytes: [UInt8], port: Int) throws {
        let connection = try #require(LoopbackConnection.connect(to: UInt16(port)))
        defer { connection.close() }
        try #require(connection.write(bytes))
        usleep(300_000)
    }
}
