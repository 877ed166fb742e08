import ArgumentParser
import KakehashiServer
import KakehashiShared

struct CaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case", abstract: "The administrators' changes to cases.", subcommands: [List.self, Reassign.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the cases an advisor owns (ids, levels, programs and stages; never their content).")
        @OptionGroup var store: StoreOptions
        @Option(help: "The owner's advisor id (see `advisors`).") var owner: String
        @Flag(help: "Print one JSON document.") var json = false

        func run() async throws {
            try await Main.withStore(store) { _, admin in
                let cases = try await admin.cases(ownedBy: owner)
                if json { return try Main.printJSON(cases) }
                print(
                    TextTable.render(
                        header: ["ID", "秘密区分", "事業", "段階"],
                        rows: cases.map {
                            [
                                $0.id, Domains.level.label(of: $0.level) ?? $0.level, $0.program ?? "",
                                $0.stage.flatMap(Domains.caseStage.label(of:)) ?? "",
                            ]
                        }))
            }
        }
    }

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
