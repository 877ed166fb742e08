import ArgumentParser
import Foundation
import KakehashiClient
import KakehashiShared

/// Options every client command shares.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "Data directory (default: $KAKEHASHI_HOME, else $XDG_DATA_HOME/kakehashi).")
    var home: String?

    @Flag(name: .long, help: "Print one JSON document instead of text.")
    var json = false

    @Flag(name: .long, help: "Show tables in full instead of fitting the terminal width ($COLUMNS, else 80).")
    var wide = false

    func directory() throws -> String {
        try DataDirectory.resolve(home: home, environment: ProcessInfo.processInfo.environment)
    }

    func client() throws -> FieldClient {
        try FieldClient.open(directory: try directory())
    }
}

/// A client command: runs `execute`, and turns a `KakehashiError` into one sentence on stderr
/// and the documented exit code.
protocol ClientCommand: AsyncParsableCommand {
    var options: ClientOptions { get }
    func execute() async throws
}

extension ClientCommand {
    mutating func run() async throws {
        umask(0o077)  // everything the client writes is for its owner only
        do {
            try await Terminal.$wide.withValue(options.wide) { try await execute() }
        } catch let error as KakehashiError {
            Output.error(error)
            throw ExitCode(error.code.exitCode)
        } catch let failure as TransportFailure {
            let error = failure.kakehashiError
            Output.error(error)
            throw ExitCode(error.code.exitCode)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            // Anything else (a database that is locked, full or damaged) is not the user's
            // input: say what happened and exit with the internal-failure code.
            let failure = KakehashiError(.internalFailure, "unexpected failure: \(error)")
            Output.error(failure)
            throw ExitCode(failure.code.exitCode)
        }
    }
}
