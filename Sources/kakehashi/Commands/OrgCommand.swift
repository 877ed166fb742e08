import ArgumentParser
import KakehashiClient
import KakehashiShared

struct OrgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "Organizations supported or partnered with (支援先・連携先).",
        subcommands: [Add.self, List.self, Show.self])

    struct Add: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an organization; prints its id.",
            discussion: "Kinds: \(Domains.organizationKind.listing)")

        @OptionGroup var options: ClientOptions
        @Option(help: "Name, e.g. 株式会社川崎精密製作所") var name: String
        @Option(help: "Kind (value or Japanese label).") var kind: String
        @Option(help: "Prefecture, e.g. kanagawa or 神奈川県.") var prefecture: String?
        @Option(help: "Corporate number (法人番号, 13 digits).") var corporateNumber: String?
        @Option(help: "SME type: ip-challenging (知財活用挑戦型) or ip-developing (知財活用途上型).") var smeType: String?
        @Option(help: "Notes.") var notes: String?

        func execute() async throws {
            var values = ["name": name, "kind": kind]
            values["prefecture"] = prefecture
            values["corporate_number"] = corporateNumber
            values["sme_type"] = smeType
            values["notes"] = notes
            try Output.created(
                try options.client().create(.organization, RecordInput(values: values)), json: options.json)
        }
    }

    struct List: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "List organizations.")
        @OptionGroup var options: ClientOptions

        func execute() async throws {
            let client = try options.client()
            try RecordOutput.list(
                client.list(.organization), columns: ["name", "kind", "prefecture", "corporate_number"], client: client,
                json: options.json)
        }
    }

    struct Show: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an organization and every case touching it that you may see.",
            discussion:
                "For other programs' confidential cases the stub shows who else is already supporting this company.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Organization id.") var id: String

        func execute() async throws {
            let client = try options.client()
            let organization = try client.show(.organization, id: id)
            let cases = try client.list(.case, filter: .init(organization: organization.id))
            if options.json {
                struct Document: Encodable {
                    let organization: RecordView
                    let cases: [RecordView]
                }
                try Output.json(Document(organization: organization, cases: cases))
                return
            }
            try RecordOutput.detail(organization, client: client, json: false)
            Output.line("\n案件 (\(cases.count))")
            if !cases.isEmpty {
                try RecordOutput.list(
                    cases, columns: ["title", "program", "owner", "stage", "level"], client: client, json: false)
            }
        }
    }
}
