import Foundation
import Testing

/// Runs the built `kakehashi-server` executable (found next to the test bundle, like
/// Tests/EndToEndTests/TestBinaries.swift does).
struct ServerBinary {
    typealias Result = ChildProcess.Result

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
    static func run(_ arguments: [String], db: String?) async throws -> Result {
        let process = Process()
        process.executableURL = try url
        process.arguments = arguments + (db.map { ["--db", $0] } ?? [])
        var environment = ProcessInfo.processInfo.environment
        environment["KAKEHASHI_SERVER_DB"] = nil
        process.environment = environment
        return try await ChildProcess.run(process)
    }

    /// Starts `serve --port 0` and returns the process and the base URL it printed.
    /// - Parameter log: a file that receives the server's stderr (its log), else discarded.
    /// Long header and idle timeouts for servers that tests drive through in-process clients
    /// (HummingbirdTesting's `TestClient`): their requests wait for a thread of the test runner's
    /// cooperative pool after connecting, and while other tests block that pool with process
    /// waits a request can leave more than the default 10 s after its connection opened. Laptops
    /// (libcurl) send at once; the defaults themselves are tested by `HTTPEdgeTests`.
    static let patientTimeouts = ["--header-timeout", "300", "--idle-timeout", "300"]

    static func serve(db: String, extra: [String] = [], log: URL? = nil) async throws -> (Process, String) {
        let process = Process()
        process.executableURL = try url
        process.arguments = ["serve", "--port", "0", "--db", db] + patientTimeouts + extra
        let child = try ChildProcess.start(process, log: log ?? URL(fileURLWithPath: "/dev/null"))
        return (process, try await child.firstLine())
    }
}
