import Foundation
import KakehashiShared
import Testing

/// The built executables answer `--version` and `--help` (the CLI contract's first promise).
@Suite struct ExecutablesTests {
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = try TestBinaries.url(executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(arguments: ["kakehashi", "kakehashi-server"])
    func versionIsPrinted(_ executable: String) throws {
        let result = try Self.run(executable, ["--version"])
        #expect(result.status == 0)
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == KakehashiVersion.current)
    }

    @Test(arguments: ["kakehashi", "kakehashi-server"])
    func helpExplainsTheTool(_ executable: String) throws {
        let result = try Self.run(executable, ["--help"])
        #expect(result.status == 0)
        #expect(result.output.contains("Kakehashi"))
        #expect(result.output.contains("Exit codes"))
    }

    /// An operator command on a PostgreSQL store prints its result and nothing on stderr: its
    /// first query waits for the connection pool to run, where PostgresNIO used to warn
    /// ("`PostgresClient.run()` hasn't been called yet") on most runs. Ten runs, as the warning
    /// came from a race.
    @Test(.enabled(if: TestPostgres.url != nil, "needs the test PostgreSQL cluster"))
    func operatorCommandsOnPostgreSQLPrintNoWarnings() throws {
        let database = try TestPostgres.freshDatabase()
        let created = try Executables.run("kakehashi-server", ["check", "--db", database])
        #expect(created.status == 0, "\(created.stderr)")
        for _ in 0..<10 {
            let devices = try Executables.run("kakehashi-server", ["devices", "--db", database])
            #expect(devices.status == 0 && devices.stderr.isEmpty, "\(devices.stderr)")
        }
    }
}
