import Foundation
import Testing

/// Runs the built `kakehashi-server` executable (found next to the test bundle, like
/// Tests/EndToEndTests/TestBinaries.swift does).
struct ServerBinary {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var url: URL {
        get throws {
            if let override = ProcessInfo.processInfo.environment["KAKEHASHI_BIN_DIR"] {
                return URL(fileURLWithPath: override).appendingPathComponent("kakehashi-server")
            }
            var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            while directory.path != "/" {
                let candidate = directory.appendingPathComponent("kakehashi-server")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                directory.deleteLastPathComponent()
            }
            throw TestBinaryMissing()
        }
    }

    struct TestBinaryMissing: Error {}

    /// Runs one command to completion.
    static func run(_ arguments: [String], db: String?) throws -> Result {
        let process = Process()
        process.executableURL = try url
        process.arguments = arguments + (db.map { ["--db", $0] } ?? [])
        var environment = ProcessInfo.processInfo.environment
        environment["KAKEHASHI_SERVER_DB"] = nil
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Starts `serve --port 0` and returns the process and the base URL it printed.
    /// - Parameter log: a file that receives the server's stderr (its log), else discarded.
    /// Long header and idle timeouts for servers that tests drive through in-process clients
    /// (HummingbirdTesting's `TestClient`): their requests wait for a thread of the test runner's
    /// cooperative pool after connecting, and while other tests block that pool with process
    /// waits a request can leave more than the default 10 s after its connection opened. Laptops
    /// (libcurl) send at once; the defaults themselves are tested by `HTTPEdgeTests`.
    static let patientTimeouts = ["--header-timeout", "300", "--idle-timeout", "300"]

    static func serve(db: String, extra: [String] = [], log: URL? = nil) throws -> (Process, String) {
        let process = Process()
        process.executableURL = try url
        process.arguments = ["serve", "--port", "0", "--db", db] + patientTimeouts + extra
        let out = Pipe()
        process.standardOutput = out
        if let log {
            // Never create over an existing path: createFile replaces it, and /dev/null with it.
            if !FileManager.default.fileExists(atPath: log.path) {
                _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            }
            process.standardError = try FileHandle(forWritingTo: log)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return (process, firstLine(of: out))
    }

    /// The first line a process writes to `pipe` (`serve` prints its URL), read byte by byte so
    /// nothing after it is consumed; empty when the process ends first.
    static func firstLine(of pipe: Pipe) -> String {
        var line = Data()
        while true {
            let byte = pipe.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }
}
