import Foundation
import KakehashiClient
import KakehashiShared
import KakehashiTestSupport

/// The result of running one of the built executables.
struct CommandResult: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String

    var output: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }

    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])
    }
}

struct CommandFailed: Error, CustomStringConvertible {
    let command: String
    let result: CommandResult
    var description: String { "\(command) failed: \(result)" }
}

enum Executables {
    /// Runs a built executable to completion.
    static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult
    {
        try run(executable: TestBinaries.url(name), arguments, environment: environment)
    }

    /// Runs a program found on `PATH` (a script, `python3`) to completion.
    static func runTool(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try run(executable: URL(fileURLWithPath: "/usr/bin/env"), arguments, environment: environment)
    }

    /// Runs any program to completion, with `environment` added to this process's.
    static func run(executable: URL, _ arguments: [String], environment: [String: String]) throws -> CommandResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes concurrently so a chatty process cannot block on a full pipe.
        let errData = LockedData()
        let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errData.isSet { usleep(1000) }
        return CommandResult(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData.value, as: UTF8.self))
    }

    /// Runs and requires success.
    @discardableResult
    static func check(_ name: String, _ arguments: [String]) throws -> CommandResult {
        let result = try run(name, arguments)
        guard result.status == 0 else {
            throw CommandFailed(command: ([name] + arguments).joined(separator: " "), result: result)
        }
        return result
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ value: Data) { lock.withLock { data = value } }
    var isSet: Bool { lock.withLock { data != nil } }
    var value: Data { lock.withLock { data ?? Data() } }
}

/// A real `kakehashi-server serve` process on a free loopback port, with its own store.
final class ServerProcess: @unchecked Sendable {
    let directory = TemporaryDirectory("server")
    let database: String
    private(set) var process: Process?
    private(set) var url = ""

    /// Where the server's stderr, and its stdout after the URL line, go: `/dev/null` unless set.
    let logPath: String?
    /// More `serve` options (e.g. `--min-client-version`) and environment for the server process.
    var serveArguments: [String] = []
    /// The private CA the health check trusts, for a server started with `--tls-cert`.
    var cacert: String?
    var environment: [String: String] = [:]

    init(database: String? = nil, logPath: String? = nil) {
        self.database = database ?? "sqlite:" + directory.path + "/server.sqlite"
        self.logPath = logPath
    }

    /// Starts serving and waits until `/v1/health` answers.
    /// - Parameter port: 0 for any free port; the previous `port` to come back where laptops look.
    func start(port: UInt16 = 0) async throws {
        let process = Process()
        process.executableURL = try TestBinaries.url("kakehashi-server")
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", String(port), "--db", database] + serveArguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe()
        process.standardOutput = out
        let log = logPath.flatMap { path -> FileHandle? in
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            let handle = FileHandle(forWritingAtPath: path)
            handle?.seekToEndOfFile()
            return handle
        }
        process.standardError = log ?? FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        self.process = process
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else {
                throw CommandFailed(
                    command: "kakehashi-server serve",
                    result: CommandResult(
                        status: -1, stdout: String(decoding: line, as: UTF8.self),
                        stderr: "exited before printing its URL"))
            }
            line += chunk
        }
        url = String(decoding: line, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        if let log {
            let rest = out.fileHandleForReading
            Thread.detachNewThread {
                while case let chunk = rest.availableData, !chunk.isEmpty { log.write(chunk) }
            }
        }
        let transport = CurlTransport(baseURL: url, cacert: cacert)
        for _ in 0..<200 {
            if (try? await transport.health()) != nil { return }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        throw CommandFailed(
            command: "health check of \(url)", result: CommandResult(status: -1, stdout: "", stderr: "no answer"))
    }

    /// The loopback port it listens on.
    var port: UInt16 { url.split(separator: ":").last.flatMap { UInt16($0) } ?? 0 }

    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    func kill9() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }

    /// Runs an admin command against this server's store and returns its stdout.
    @discardableResult
    func admin(_ arguments: [String]) throws -> String {
        try Executables.check("kakehashi-server", arguments + ["--db", database]).output
    }

    /// Adds an advisor and returns (id, one-time enrollment code).
    func advisor(
        _ name: String, role: String = "business-producer", program: String = "business-production"
    ) throws
        -> (id: String, code: String)
    {
        let id = try admin(["advisor", "add", "--name", name, "--role", role, "--program", program])
        return (id, try admin(["enroll", id]))
    }
}

/// A laptop: its own data directory and the real `kakehashi` executable.
struct Laptop {
    let home = TemporaryDirectory("laptop")
    let advisor: String
    /// Extra environment for every command, e.g. `KAKEHASHI_TEST_CLOCK_SKEW_SECONDS`.
    var environment: [String: String] = [:]

    /// Enrolls a new laptop for a new advisor of `program`, through `url` (default: the server's).
    static func enroll(
        _ server: ServerProcess, _ name: String, program: String = "business-production", via url: String? = nil,
        environment: [String: String] = [:]
    ) throws -> Laptop {
        let (advisor, code) = try server.advisor(name, program: program)
        let laptop = Laptop(advisor: advisor, environment: environment)
        try laptop.check(["init", "--server", url ?? server.url, "--code", code])
        return laptop
    }

    func run(_ arguments: [String]) throws -> CommandResult {
        try Executables.run("kakehashi", arguments + ["--home", home.path], environment: environment)
    }

    @discardableResult
    func check(_ arguments: [String]) throws -> CommandResult {
        let result = try run(arguments)
        guard result.status == 0 else {
            throw CommandFailed(command: "kakehashi " + arguments.joined(separator: " "), result: result)
        }
        return result
    }

    func json(_ arguments: [String]) throws -> Any { try check(arguments + ["--json"]).json() }
}
