import ArgumentParser
import KakehashiClient
import KakehashiShared

struct OrgCommand: CommandGroup {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "Organizations supported or partnered with (支援先・連携先).",
        discussion: """
            One company is one organization: organizations with the same 法人番号, or joined by \
            `org merge`, show as one, and the cases of each are the company's cases.
            """,
        subcommands: [Add.self, List.self, Show.self, Set.self, Delete.self, Restore.self, Merge.self])

    struct Add: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an organization; prints its id.",
            discussion: """
                Kinds: \(Domains.organizationKind.listing)
                With a 法人番号 that is already on this laptop nothing is added: the existing \
                organization's id is printed, with a note on stderr. A name like an existing \
                organization's gets a warning.
                """)

        @OptionGroup var options: ClientOptions
        @Option(help: "Name, e.g. 株式会社川崎精密製作所") var name: String
        @Option(help: "Kind (value or Japanese label).", completion: .domain(Domains.organizationKind)) var kind: String
        @Option(help: "Prefecture, e.g. kanagawa, 神奈川県 or 神奈川.", completion: .domain(Domains.prefecture))
        var prefecture: String?
        @Option(help: "Corporate number (法人番号, 13 digits).") var corporateNumber: String?
        @Option(
            help: "SME type: ip-challenging (知財活用挑戦型) or ip-developing (知財活用途上型).", completion: .domain(Domains.smeType)
        )
        var smeType: String?
        @Option(help: "Notes.") var notes: String?

        func execute() async throws {
            var values = ["name": name, "kind": kind]
            values["prefecture"] = prefecture
            values["corporate_number"] = corporateNumber
            values["sme_type"] = smeType
            values["notes"] = notes
            let client = try options.client()
            let added = try client.addOrganization(RecordInput(values: values))
            let names = try client.directoryNames()
            if let existing = added.existing {
                let number = existing.text("corporate_number")
                // Nothing typed disappears silently: the fields that were not applied are named.
                let typed = values.keys.filter { $0 != "corporate_number" }.sorted().compactMap { name in
                    (try? Entity.organization.schema.field(name)).map { "\($0.label)（\(name)）" }
                }
                Output.note(
                    "法人番号 \(number) の組織は既に登録されています: \(names[existing.id] ?? existing.text("name")) "
                        + "[\(ShortID.of(existing.id))]。新しい組織は作らず、その ID を表示します。"
                        + "入力した \(typed.joined(separator: "、")) は反映していません。"
                        + "内容を直すには kakehashi org set \(ShortID.of(existing.id)) FIELD=VALUE")
            }
            for similar in added.similar {
                Output.note(
                    "注意: 名称の似た組織があります: \(similar.text("name")) [\(ShortID.of(similar.id))]。"
                        + "同じ会社なら kakehashi org merge \(ShortID.of(similar.id)) \(ShortID.of(added.id)) で統合できます")
            }
            try Output.created(added.id, json: options.json)
        }
    }

    struct List: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "List organizations.")
        @OptionGroup var options: ClientOptions

        func execute() async throws {
            let client = try options.client()
            try RecordOutput.list(
                client.organizations(), columns: ["name", "kind", "prefecture", "corporate_number"], client: client,
                json: options.json)
        }
    }

    struct Show: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an organization and every case touching it that you may see.",
            discussion: """
                For other programs' confidential cases the stub shows who else is already supporting \
                this company. The organization may be given by its id or its 法人番号; other records of \
                the same company (same 法人番号, or merged) are listed, and their cases shown too.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "Organization id or 法人番号.") var id: String

        func execute() async throws {
            let client = try options.client()
            let company = try client.company(id)
            let organization = company.record
            let cases = try client.list(.case, filter: .init(organization: organization.id))
            if options.json {
                struct Document: Encodable {
                    let organization: RecordView
                    let sameCompany: [RecordView]
                    let cases: [RecordView]
                }
                try Output.json(Document(organization: organization, sameCompany: company.others, cases: cases))
                return
            }
            Output.line(
                RecordPresenter(names: try client.directoryNames()).fullDetail(
                    organization, width: RecordCommands.width))
            if !company.others.isEmpty {
                Output.line("\n同じ会社の記録 (\(company.others.count))")
                for other in company.others {
                    Output.line("  [\(ShortID.of(other.id))]  \(other.text("name"))")
                }
            }
            Output.line("\n案件 (\(cases.count))")
            if !cases.isEmpty {
                try RecordOutput.list(
                    cases, columns: ["title", "program", "owner", "stage", "level"], client: client, json: false)
            }
        }
    }
}
