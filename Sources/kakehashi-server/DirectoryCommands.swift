import ArgumentParser
import KakehashiServer
import KakehashiShared

struct ProgramCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "program", abstract: "Manage programs.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a program (written through the change log).")
        @OptionGroup var store: StoreOptions
        @Option(help: "Slug id, e.g. regional-innovation.") var id: String
        @Option(help: "Name, e.g. 地域イノベーション支援.") var name: String
        @Option(help: "Ministry: meti, mext, cao, other.") var ministry: String

        func run() async throws {
            try await Main.withStore(store) { _, admin in
                try await admin.addProgram(id: id, name: name, ministry: ministry)
                print(id)
            }
        }
    }
}

struct Programs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List programs.")
    @OptionGroup var store: StoreOptions
    @Flag(help: "Print one JSON document.") var json = false

    func run() async throws {
        try await Main.withStore(store) { _, admin in
            let programs = try await admin.programList()
            if json { return try Main.printJSON(programs) }
            print(
                TextTable.render(
                    header: ["ID", "名称", "所管"],
                    rows: programs.map { [$0.id, $0.name, Domains.ministry.label(of: $0.ministry) ?? $0.ministry] }))
        }
    }
}

struct AdvisorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advisor", abstract: "Manage the advisor directory.", subcommands: [Add.self, Deactivate.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an advisor; prints the new id.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Full name, e.g. 山田太郎.") var name: String
        @Option(help: "Role: business-producer, matching-planner, ip-advisor, ip-producer, coordinator, admin.")
        var role: String
        @Option(help: "Program id (see `programs`).") var program: String
        @Option(help: "Prefecture, e.g. kanagawa or 神奈川県.") var prefecture: String?
        @Option(help: "Contact (e-mail or phone).") var contact: String?

        func run() async throws {
            try await Main.withStore(store) { _, admin in
                print(
                    try await admin.addAdvisor(
                        name: name, role: role, program: program, prefecture: prefecture, contact: contact))
            }
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deactivate an advisor: their devices get 401 revoked and wipe their data.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Advisor id.") var advisor: String

        func run() async throws {
            try await Main.withStore(store) { _, admin in try await admin.deactivateAdvisor(advisor) }
        }
    }
}

struct Advisors: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List advisors.")
    @OptionGroup var store: StoreOptions
    @Flag(help: "Print one JSON document.") var json = false

    func run() async throws {
        try await Main.withStore(store) { _, admin in
            let advisors = try await admin.advisorList()
            if json { return try Main.printJSON(advisors) }
            print(
                TextTable.render(
                    header: ["ID", "氏名", "役割", "事業", "都道府県", "有効"],
                    rows: advisors.map {
                        [
                            $0.id, $0.name, Domains.advisorRole.label(of: $0.role) ?? $0.role, $0.program,
                            $0.prefecture.flatMap(Domains.prefecture.label(of:)) ?? "", $0.active ? "yes" : "no",
                        ]
                    }))
        }
    }
}
