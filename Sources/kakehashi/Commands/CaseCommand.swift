import ArgumentParser
import KakehashiClient
import KakehashiShared

struct CaseCommand: CommandGroup {
    static let configuration = CommandConfiguration(
        commandName: "case", abstract: "Cases (案件): create, list, change, share and refer.",
        discussion: """
            Who may change what: the owner, participants and advisors of the case's program change \
            its content, stage and events; only the owner changes level, program, owner and \
            participants (share, unshare) or deletes it; the owner and participants refer it. \
            Other programs read an open case but never change it. Administrators hand a case to a \
            new owner with `kakehashi-server case reassign`.
            """,
        subcommands: [
            Add.self, List.self, Show.self, Set.self, Stage.self, Delete.self, Restore.self, Share.self, Unshare.self,
            Refer.self,
        ])

    struct Add: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a case; prints its id.",
            discussion: """
                Kinds: \(Domains.caseKind.listing)
                Stages: \(Domains.caseStage.listing)
                Levels: \(Domains.level.listing)
                """)

        @OptionGroup var options: ClientOptions
        @Option(help: "Title (件名), at most 200 characters.") var title: String
        @Option(help: "Kind of case.", completion: .domain(Domains.caseKind)) var kind: String
        @Option(name: .customLong("org"), help: "Organization id (repeatable).") var orgs: [String] = []
        @Option(help: "Confidentiality level (default: confidential 秘).", completion: .domain(Domains.level))
        var level: String?
        @Option(help: "Stage (default: intake 受付).", completion: .domain(Domains.caseStage)) var stage: String?
        @Option(name: .customLong("participant"), help: "Advisor id or name (repeatable).") var participants: [String] =
            []
        @Option(help: "Summary (概要).") var summary: String?
        @Option(help: "Read the summary from a UTF-8 file.", completion: .file()) var summaryFile: String?
        @Option(name: .customLong("tag"), help: "Tag (repeatable).") var tags: [String] = []
        @Option(help: "Your own program (the default); a case of another program is refused: refer it instead.")
        var program: String?

        func execute() async throws {
            var values = ["title": title, "kind": kind]
            values["level"] = level
            values["stage"] = stage
            values["program"] = program
            values["summary"] = try summaryFile.map { try Output.readText($0, option: "summary-file") } ?? summary
            let input = RecordInput(
                values: values, sets: ["organizations": orgs, "participants": participants, "tags": tags])
            try Output.created(try options.client().create(.case, input), json: options.json)
        }
    }

    struct List: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "List cases, newest first.")
        @OptionGroup var options: ClientOptions
        @Option(help: "Only cases at this stage.", completion: .domain(Domains.caseStage)) var stage: String?
        @Option(help: "Only cases with this organization.") var org: String?
        @Flag(help: "Only cases you own or take part in.") var mine = false

        func execute() async throws {
            let client = try options.client()
            let cases = try client.list(.case, filter: .init(stage: stage, organization: org, mine: mine))
            try RecordOutput.list(
                cases, columns: ["title", "stage", "kind", "level", "owner"], client: client, json: options.json)
        }
    }

    struct Show: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Show a case and its activity records.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Case id.") var id: String

        func execute() async throws {
            let client = try options.client()
            let record = try client.show(.case, id: id)
            if options.json || record.isStub {
                return try RecordOutput.detail(record, client: client, json: options.json)
            }
            let presenter = RecordPresenter(names: try client.directoryNames())
            Output.line(presenter.fullDetail(record, width: RecordCommands.width))
            let events = try client.list(.event, filter: .init(caseID: record.id))
            Output.line("\n活動記録 (\(events.count))")
            if !events.isEmpty { Output.line(presenter.eventBlocks(events, width: RecordCommands.width)) }
        }
    }

    struct Set: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change fields: case set ID FIELD=VALUE...",
            discussion:
                "Fields: \(Entity.case.schema.fieldNames.joined(separator: ", ")). A set field takes a comma-separated list that replaces it (tags=知財,試作). Only the owner may set level, program, owner or participants."
        )
        @OptionGroup var options: ClientOptions
        @Argument(help: "Case id.") var id: String
        @Argument(help: "FIELD=VALUE assignments.") var assignments: [String]

        func execute() async throws {
            try options.client().update(.case, id: id, RecordInput.assignments(assignments, entity: .case))
        }
    }

    struct Stage: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a case to a stage.", discussion: "Stages: \(Domains.caseStage.listing)")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Case id.") var id: String
        @Argument(help: "Stage (value or Japanese label).", completion: .domain(Domains.caseStage)) var stage: String

        func execute() async throws {
            try options.client().update(.case, id: id, RecordInput(values: ["stage": stage]))
        }
    }

    struct Delete: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a case (an edit elsewhere that you had not seen revives it); owner only.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Case id.") var id: String

        func execute() async throws { try options.client().delete(.case, id: id) }
    }

    struct Share: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an advisor as a participant of a case; owner only.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Case id.") var id: String
        @Argument(help: "Advisor id or name.") var advisor: String

        func execute() async throws {
            try options.client().changeSet(.case, id: id, field: "participants", element: advisor, add: true)
        }
    }

    struct Unshare: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an advisor from a case's participants; owner only.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Case id.") var id: String
        @Argument(help: "Advisor id or name.") var advisor: String

        func execute() async throws {
            try options.client().changeSet(.case, id: id, field: "participants", element: advisor, add: false)
        }
    }

    struct Refer: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hand a case to an advisor of another program; prints the referral event's id.",
            discussion: """
                Adds the advisor as a participant and records a referral (紹介・引継ぎ) event with \
                the note. The owner and participants may refer a case, to an active advisor of \
                another program.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "Case id.") var id: String
        @Argument(help: "Advisor id or name.") var advisor: String
        @Option(help: "What the other advisor should know.") var note: String

        func execute() async throws {
            try Output.created(try options.client().refer(caseID: id, to: advisor, note: note), json: options.json)
        }
    }
}
