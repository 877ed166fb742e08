import ArgumentParser
import KakehashiServer
import KakehashiShared

struct CaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case", abstract: "The administrators' changes to cases.", subcommands: [Reassign.self])

    struct Reassign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hand a case to a new owner (案件の担当者変更).",
            discussion: """
                Only a case's owner may change its owner, level, program or participants. When the \
                owner leaves (or was deactivated), an administrator hands the case to another \
                active advisor with this command; the case keeps its level, program and \
                participants, and every laptop learns the new owner at its next sync.
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "The case's id.") var caseID: String
        @Argument(help: "The new owner's advisor id (see `advisors`).") var advisor: String

        func run() async throws {
            try await Main.withStore(store) { _, admin in try await admin.reassignCase(caseID, to: advisor) }
        }
    }
}
