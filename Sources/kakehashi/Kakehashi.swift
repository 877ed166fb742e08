import ArgumentParser
import Foundation
import KakehashiClient
import KakehashiShared

@main
struct Kakehashi: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kakehashi",
        abstract: "架け橋 Kakehashi — the offline-first field client for bridging and commercialization support staff.",
        discussion: """
            Works fully offline on this laptop: cases (案件), activity records
            (活動記録), organizations, seeds (シーズ) and needs (ニーズ) are stored
            locally and exchanged with the Cabinet Office server by `kakehashi sync`
            when a network is available.

            Data directory: --home DIR, else $KAKEHASHI_HOME, else
            $XDG_DATA_HOME/kakehashi.
            Exit codes: 0 success, 64 usage, 65 invalid data, 69 server unreachable,
            70 internal failure, 76 upgrade required (the server needs a newer
            kakehashi; nothing local changed), 77 not authorized.
            """,
        version: KakehashiVersion.current,
        subcommands: [
            InitCommand.self, StatusCommand.self, SyncCommand.self, OrgCommand.self, CaseCommand.self,
            EventCommand.self, SeedCommand.self, NeedCommand.self, MatchCommand.self, SearchCommand.self,
            ConflictsCommand.self, LogCommand.self, RefusedCommand.self, AdvisorCommand.self,
        ]
    )

    /// Parses with global options also before the subcommand (`GlobalOptions`), runs, and
    /// prints help and usage errors wrapped by display width (`Terminal.rewrap`).
    static func main() async {
        let arguments = GlobalOptions.reorder(Array(CommandLine.arguments.dropFirst()))
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let message = Terminal.rewrap(fullMessage(for: error, columns: 10_000), width: Terminal.width())
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
