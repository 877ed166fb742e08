import ArgumentParser
import Foundation
import KakehashiServer
import KakehashiShared

@main
struct KakehashiServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kakehashi-server",
        abstract: "架け橋 Kakehashi sync server — the Cabinet Office's shared change log and access rules.",
        discussion: """
            Store: --db sqlite:PATH (embedded, the default) or --db postgres://USER@HOST/DB, else \
            $KAKEHASHI_SERVER_DB, else sqlite:$XDG_DATA_HOME/kakehashi-server/server.sqlite (without \
            XDG_DATA_HOME: ~/.local/share/kakehashi-server/server.sqlite), the same for serve and every \
            admin command; a command that creates a new, empty store says so on stderr. Store files are \
            created 0600, and directories created for them 0700.

            Exit codes: 0 success, 64 usage, 65 invalid data, 69 unavailable, 70 internal failure, \
            77 not authorized.
            """,
        version: KakehashiVersion.current,
        subcommands: [
            Serve.self, ProgramCommand.self, Programs.self, AdvisorCommand.self, Advisors.self, Enroll.self,
            Devices.self, Revoke.self, CaseCommand.self, Backup.self, Restore.self, Check.self, Export.self,
            Indicators.self, Import.self,
        ]
    )

    /// Runs as ArgumentParser would, but prints help and usage errors wrapped by display width
    /// (`HelpText.rewrap`) to `$COLUMNS`, else 80: Japanese help lines and long usage lines fit.
    static func main() async {
        do {
            var command = try parseAsRoot(nil)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap { Int($0) }.map { max(40, $0) } ?? 80
            let message = HelpText.rewrap(fullMessage(for: error, columns: 10_000), width: columns)
            if !message.isEmpty {
                if code == .success {
                    print(message)
                } else {
                    StandardStreams.error(message + "\n")
                }
            }
            Foundation.exit(code.rawValue)
        }
    }
}
