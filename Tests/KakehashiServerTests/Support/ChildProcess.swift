import Foundation

/// Child processes the tests run (`kakehashi-server`, chromium, LibreOffice, psql), awaited
/// without blocking a thread.
///
/// The test runner's cooperative pool has as many threads as cores (two here). A test that
/// blocks one of them while chromium or LibreOffice works (reading a pipe to its end, waiting
/// for the exit) halts every other test's database and HTTP work with it, and their timeouts
/// fire although nothing is wrong. So a child's output goes to files, not pipes, and its end
/// is polled with `Task.sleep`.
struct ChildProcess {
    /// How a child ended and what it wrote.
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    let process: Process
    let stdout: URL
    let stderr: URL?

    /// Starts `process` (executable, arguments and environment set) with its output in new
    /// temporary files; `log`, when given, receives stderr instead and is kept.
    static func start(_ process: Process, log: URL? = nil) throws -> ChildProcess {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kakehashi-child-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let stdout = directory.appendingPathComponent("stdout")
        let stderr = log == nil ? directory.appendingPathComponent("stderr") : nil
        for file in [stdout, stderr].compactMap({ $0 }) {
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        }
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        if let log {
            // Never create over an existing path: createFile replaces it, and /dev/null with it.
            if !FileManager.default.fileExists(atPath: log.path) {
                _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            }
            process.standardError = try FileHandle(forWritingTo: log)
        } else if let stderr {
            process.standardError = try FileHandle(forWritingTo: stderr)
        }
        try process.run()
        return ChildProcess(process: process, stdout: stdout, stderr: stderr)
    }

    /// Runs `process` to its end and returns its status and output.
    static func run(_ process: Process) async throws -> Result {
        try await start(process).finished()
    }

    /// Waits for the end; a child still running after `timeout` seconds is stopped and
    /// reported with status -1.
    func finished(timeout: Double? = nil) async throws -> Result {
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        while process.isRunning {
            if let deadline, Date() >= deadline { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let timedOut = process.isRunning
        if timedOut { process.terminate() }
        await process.exited()
        return Result(
            status: timedOut ? -1 : process.terminationStatus, stdout: Self.text(stdout),
            stderr: stderr.map(Self.text) ?? "")
    }

    /// The first line the child writes to stdout (`serve` prints its URL); empty when it ends
    /// first.
    func firstLine() async throws -> String {
        while true {
            let written = Self.text(stdout)
            if let end = written.firstIndex(of: "\n") { return String(written[..<end]) }
            if !process.isRunning { return written }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func text(_ file: URL) -> String {
        String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self)
    }
}

extension Process {
    /// Waits for the process to end, polling, without holding a thread of the pool.
    func exited() async {
        while isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        waitUntilExit()
    }
}
