import ArgumentParser
import Foundation
import KakehashiClient
import KakehashiShared

/// Reading one record in full, correcting it and removing it, the same way for every kind of
/// record (`event`, `org`, `seed`, `need`; `case` has its own): through the same change path as
/// cases, so every edit has its history in `log`, syncs, and meets concurrent edits as conflicts.
enum RecordCommands {
    /// The width long texts are wrapped to (`Terminal.width`); with `--wide`, no wrapping.
    static var width: Int { Terminal.wide ? Int.max / 4 : Terminal.width() }

    static func show(_ entity: Entity, _ id: String, options: ClientOptions) throws {
        let client = try options.client()
        let record = try client.show(entity, id: id)
        if options.json { return try Output.json(record) }
        Output.line(RecordPresenter(names: try client.directoryNames()).fullDetail(record, width: width))
    }

    static func set(_ entity: Entity, _ id: String, _ assignments: [String], options: ClientOptions) throws {
        guard !assignments.isEmpty else {
            throw KakehashiError(
                .usage, field: "assignment",
                "変更する項目を FIELD=VALUE で指定してください。項目: \(entity.schema.fieldNames.joined(separator: ", "))")
        }
        try options.client().update(entity, id: id, RecordInput.assignments(assignments, entity: entity))
    }

    static func delete(_ entity: Entity, _ id: String, options: ClientOptions) throws {
        try options.client().delete(entity, id: id)
    }

    static func restore(_ entity: Entity, _ id: String, options: ClientOptions) throws {
        try Output.created(try options.client().restore(entity, id: id), json: options.json)
    }

    static func setDiscussion(_ entity: Entity, example: String) -> String {
        """
        Fields: \(entity.schema.fieldNames.joined(separator: ", ")). A set field takes a comma-separated \
        list that replaces it. Example: \(example)
        """
    }
}

extension CaseCommand {
    struct Restore: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring back a deleted case (its history stays in log); owner only; prints its id.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Id of the deleted case (short id or prefix).") var id: String
        func execute() async throws { try RecordCommands.restore(.case, id, options: options) }
    }
}

extension EventCommand {
    struct Restore: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring back a deleted activity record (its history stays in log); prints its id.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Id of the deleted activity record (short id or prefix).") var id: String
        func execute() async throws { try RecordCommands.restore(.event, id, options: options) }
    }

    struct Show: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Show an activity record in full.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Activity record id (short id or prefix).") var id: String
        func execute() async throws { try RecordCommands.show(.event, id, options: options) }
    }

    struct Set: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct an activity record: event set ID FIELD=VALUE...",
            discussion: RecordCommands.setDiscussion(.event, example: "event set ID date=2025-06-03 body=訪問し課題を聴取"))
        @OptionGroup var options: ClientOptions
        @Argument(help: "Activity record id.") var id: String
        @Argument(help: "FIELD=VALUE assignments.") var assignments: [String] = []
        func execute() async throws { try RecordCommands.set(.event, id, assignments, options: options) }
    }

    struct Delete: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an activity record (a referral: only its author or the case owner).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Activity record id.") var id: String
        func execute() async throws { try RecordCommands.delete(.event, id, options: options) }
    }
}

extension SeedCommand {
    struct Restore: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring back a deleted seed (its history stays in log); prints its id.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Id of the deleted seed (short id or prefix).") var id: String
        func execute() async throws { try RecordCommands.restore(.seed, id, options: options) }
    }

    struct Show: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Show a seed in full.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Seed id (short id or prefix).") var id: String
        func execute() async throws { try RecordCommands.show(.seed, id, options: options) }
    }

    struct Set: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct a seed: seed set ID FIELD=VALUE...",
            discussion: RecordCommands.setDiscussion(.seed, example: "seed set ID licensable=いいえ tags=接合,表面処理"))
        @OptionGroup var options: ClientOptions
        @Argument(help: "Seed id.") var id: String
        @Argument(help: "FIELD=VALUE assignments.") var assignments: [String] = []
        func execute() async throws { try RecordCommands.set(.seed, id, assignments, options: options) }
    }

    struct Delete: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a seed.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Seed id.") var id: String
        func execute() async throws { try RecordCommands.delete(.seed, id, options: options) }
    }
}

extension NeedCommand {
    struct Restore: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring back a deleted need (its history stays in log); prints its id.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Id of the deleted need (short id or prefix).") var id: String
        func execute() async throws { try RecordCommands.restore(.need, id, options: options) }
    }

    struct Show: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Show a need in full.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Need id (short id or prefix).") var id: String
        func execute() async throws { try RecordCommands.show(.need, id, options: options) }
    }

    struct Set: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct a need: need set ID FIELD=VALUE...",
            discussion: RecordCommands.setDiscussion(.need, example: "need set ID title=塗装はがれの防止"))
        @OptionGroup var options: ClientOptions
        @Argument(help: "Need id.") var id: String
        @Argument(help: "FIELD=VALUE assignments.") var assignments: [String] = []
        func execute() async throws { try RecordCommands.set(.need, id, assignments, options: options) }
    }

    struct Delete: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a need.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Need id.") var id: String
        func execute() async throws { try RecordCommands.delete(.need, id, options: options) }
    }
}

extension OrgCommand {
    struct Restore: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring back a deleted organization (its history stays in log); prints its id.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Id of the deleted organization (short id or prefix).") var id: String
        func execute() async throws { try RecordCommands.restore(.organization, id, options: options) }
    }

    struct Set: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct an organization: org set ID FIELD=VALUE...",
            discussion: RecordCommands.setDiscussion(.organization, example: "org set ID prefecture=神奈川県"))
        @OptionGroup var options: ClientOptions
        @Argument(help: "Organization id.") var id: String
        @Argument(help: "FIELD=VALUE assignments.") var assignments: [String] = []

        func execute() async throws {
            try RecordCommands.set(.organization, id, assignments, options: options)
            // A 法人番号 or merge that makes it one company with another is said, not left to be
            // discovered when the record no longer shows in org list.
            let client = try options.client()
            let record = try client.show(.organization, id: id)
            let company = try client.company(record.id)
            if company.record.id != record.id {
                Output.note(
                    "この組織は \(company.record.text("name")) [\(ShortID.of(company.record.id))] と同じ会社として"
                        + "表示されます（法人番号または統合）。一覧には \(ShortID.of(company.record.id)) が出ます")
            }
        }
    }

    struct Delete: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an organization record.",
            discussion: "Cases linked to it keep the link; for a duplicate of a company, use org merge instead.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Organization id.") var id: String
        func execute() async throws { try RecordCommands.delete(.organization, id, options: options) }
    }

    struct Merge: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join two records of one company: org merge KEEP DUPLICATE.",
            discussion: """
                The duplicate is merged into the organization kept (merged_into): both show as one \
                organization, and the cases of both are its cases. Fields the kept one lacks \
                (prefecture, 法人番号, SME type, notes) are taken from the duplicate. Organizations with \
                different 法人番号 are different companies and cannot be merged. Organizations with the \
                same 法人番号 are one company without a merge.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The organization to keep (id or 法人番号).") var keep: String
        @Argument(help: "The duplicate record of the same company (id or 法人番号).") var duplicate: String

        func execute() async throws {
            let result = try options.client().mergeOrganizations(keep: keep, duplicate: duplicate)
            if options.json {
                struct Document: Encodable {
                    let id: String
                    let merged: Bool
                    let filled: [String]
                }
                return try Output.json(Document(id: result.id, merged: result.merged, filled: result.filled))
            }
            if !result.merged { Output.note("この 2 件は既に同じ組織です。変更はありません") }
            if !result.filled.isEmpty {
                Output.note("統合先に引き継いだ項目: \(result.filled.joined(separator: ", "))")
            }
            Output.line(result.id)
        }
    }
}

/// A command made of subcommands (`org`, `case`, …): a word after it that is none of them is
/// answered with "unknown subcommand" and the valid ones (exit 64), whatever options follow it
/// (without this, `org set …` on a release without `org set` said "Unknown option '--home'").
protocol CommandGroup: AsyncParsableCommand {}

extension CommandGroup {
    /// Runs when the group itself has been parsed, before its subcommand is looked for: checks
    /// the word after the group's name on the command line.
    func validate() throws {
        let group = Self.configuration.commandName ?? Self._commandName
        let names = Self.configuration.subcommands.map { $0._commandName }
        let root = group == "kakehashi"
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let word = root ? Self.firstWord(arguments) : Self.wordAfter(group, in: arguments),
            !names.contains(word), !(root && word == "help")
        else { return }
        let command = root ? "kakehashi" : "kakehashi \(group)"
        throw ValidationError(
            "unknown subcommand '\(word)' for \(command); valid subcommands: \(names.joined(separator: ", "))")
    }

    /// Options that take a value: the value is not a subcommand.
    static var valuedOptions: Swift.Set<String> { ["--home", "--generate-completion-script"] }

    /// The first word that is not an option (nor an option's value).
    static func firstWord(_ arguments: [String]) -> String? {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { return nil }
            index += valuedOptions.contains(argument) ? 2 : 1
            if !argument.hasPrefix("-") { return argument }
        }
        return nil
    }

    /// The first word after `group` that is not an option (nor an option's value).
    static func wordAfter(_ group: String, in arguments: [String]) -> String? {
        guard firstWord(arguments) == group, let start = arguments.firstIndex(of: group) else { return nil }
        return firstWord(Array(arguments[(start + 1)...]))
    }
}

extension Kakehashi: CommandGroup {}
extension ConflictsCommand: CommandGroup {}
extension RefusedCommand: CommandGroup {}
