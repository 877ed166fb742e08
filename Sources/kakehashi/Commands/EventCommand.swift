import ArgumentParser
import KakehashiClient
import KakehashiShared

struct EventCommand: CommandGroup {
    static let configuration = CommandConfiguration(
        commandName: "event", abstract: "Activity records (活動記録) on a case.",
        subcommands: [Add.self, List.self, Show.self, Set.self, Delete.self, Restore.self])

    struct Add: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record an activity on a case; prints its id.",
            discussion: "Kinds: \(Domains.eventKind.listing)")

        @OptionGroup var options: ClientOptions
        @Argument(help: "Case id.") var caseID: String
        @Option(help: "Kind of activity.", completion: .domain(Domains.eventKind)) var kind: String
        @Option(help: "What happened.") var body: String?
        @Option(help: "Read the body from a UTF-8 file.", completion: .file()) var bodyFile: String?
        @Option(help: "Date, YYYY-MM-DD (default: today in Japan).") var date: String?
        @Option(name: .customLong("participant"), help: "Advisor id or name (repeatable).") var participants: [String] =
            []
        @Option(help: "For a referral: the advisor referred to.") var referredTo: String?

        func execute() async throws {
            guard (body == nil) != (bodyFile == nil) else {
                throw KakehashiError(.usage, field: "body", "give the body with exactly one of --body or --body-file")
            }
            var values = ["case": caseID, "kind": kind]
            values["body"] = try bodyFile.map { try Output.readText($0, option: "body-file") } ?? body
            values["date"] = date
            values["referred_to"] = referredTo
            try Output.created(
                try options.client().create(.event, RecordInput(values: values, sets: ["participants": participants])),
                json: options.json)
        }
    }

    struct List: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a case's activity records, newest first, each in full.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Case id.") var caseID: String

        func execute() async throws {
            let client = try options.client()
            let caseRecord = try client.show(.case, id: caseID)
            let events = try client.list(.event, filter: .init(caseID: caseRecord.id))
            if options.json { return try Output.json(events) }
            guard !events.isEmpty else { return Output.note("(none)") }
            Output.line(
                RecordPresenter(names: try client.directoryNames()).eventBlocks(events, width: RecordCommands.width))
        }
    }
}

struct SeedCommand: CommandGroup {
    static let configuration = CommandConfiguration(
        commandName: "seed", abstract: "Seeds (シーズ): patents, open patents, research results, know-how.",
        subcommands: [Add.self, List.self, Show.self, Set.self, Delete.self, Restore.self])

    struct Add: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a seed; prints its id.", discussion: "Kinds: \(Domains.seedKind.listing)")
        @OptionGroup var options: ClientOptions
        @Option(help: "Title.") var title: String
        @Option(help: "Kind of seed.", completion: .domain(Domains.seedKind)) var kind: String
        @Option(help: "Description.") var description: String?
        @Option(help: "Read the description from a UTF-8 file.", completion: .file()) var descriptionFile: String?
        @Option(help: "Holder organization id.") var holder: String?
        @Option(name: .customLong("patent"), help: "Patent number, e.g. 特許第6543210号 (repeatable).") var patents:
            [String] = []
        @Option(name: .customLong("tag"), help: "Tag (repeatable).") var tags: [String] = []
        @Option(help: "Open to licensing: true or false (default true).", completion: .list(["true", "false"]))
        var licensable: String?

        func execute() async throws {
            var values = ["title": title, "kind": kind]
            values["description"] =
                try descriptionFile.map { try Output.readText($0, option: "description-file") } ?? description
            values["holder"] = holder
            values["licensable"] = licensable
            try Output.created(
                try options.client().create(
                    .seed, RecordInput(values: values, sets: ["patent_numbers": patents, "tags": tags])),
                json: options.json)
        }
    }

    struct List: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "List seeds.")
        @OptionGroup var options: ClientOptions

        func execute() async throws {
            let client = try options.client()
            try RecordOutput.list(
                client.list(.seed), columns: ["title", "kind", "holder", "licensable"], client: client,
                json: options.json)
        }
    }
}

struct NeedCommand: CommandGroup {
    static let configuration = CommandConfiguration(
        commandName: "need", abstract: "Needs (ニーズ) of companies.",
        subcommands: [Add.self, List.self, Show.self, Set.self, Delete.self, Restore.self])

    struct Add: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Add a need; prints its id.")
        @OptionGroup var options: ClientOptions
        @Option(help: "Title.") var title: String
        @Option(help: "Description.") var description: String?
        @Option(help: "Read the description from a UTF-8 file.", completion: .file()) var descriptionFile: String?
        @Option(help: "Organization id.") var org: String?
        @Option(name: .customLong("tag"), help: "Tag (repeatable).") var tags: [String] = []

        func execute() async throws {
            var values = ["title": title]
            values["description"] =
                try descriptionFile.map { try Output.readText($0, option: "description-file") } ?? description
            values["organization"] = org
            try Output.created(
                try options.client().create(.need, RecordInput(values: values, sets: ["tags": tags])),
                json: options.json)
        }
    }

    struct List: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "List needs.")
        @OptionGroup var options: ClientOptions

        func execute() async throws {
            let client = try options.client()
            try RecordOutput.list(
                client.list(.need), columns: ["title", "organization", "tags"], client: client, json: options.json)
        }
    }
}

struct AdvisorCommand: CommandGroup {
    static let configuration = CommandConfiguration(
        commandName: "advisor", abstract: "The advisor directory (kept by the administrators).",
        subcommands: [List.self])

    struct List: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "List advisors of every program.")
        @OptionGroup var options: ClientOptions

        func execute() async throws {
            let client = try options.client()
            try RecordOutput.list(
                client.list(.advisor), columns: ["name", "role", "program", "prefecture", "active"], client: client,
                json: options.json)
        }
    }
}
