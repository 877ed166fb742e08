import ArgumentParser
import KakehashiClient
import KakehashiShared

struct SearchCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Full-text search in Japanese or English, offline.",
        discussion: "Every word must occur: kakehashi search 知財 マッチング")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Words to search for.") var words: [String]
    @Option(help: "At most this many results.") var limit = 50

    func execute() async throws {
        guard limit > 0 else { throw KakehashiError(.usage, field: "limit", "must be at least 1") }
        let hits = try options.client().search(words.joined(separator: " "), limit: limit)
        if options.json { return try Output.json(hits) }
        guard !hits.isEmpty else { return Output.note("no matches") }
        var table = TextTable(headers: ["種別", "ID", "件名・名称", "抜粋"])
        table.fixedColumns = [0, 1]
        for hit in hits { table.append([hit.entity.schema.label, ShortID.of(hit.id), hit.title, hit.excerpt]) }
        Output.table(table)
    }
}

struct MatchCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "match", abstract: "Rank seeds (シーズ) for a need (ニーズ) and show the matched terms.",
        discussion: """
            Keywords are the need's words (MeCab) and tags, and words that mean the same thing \
            (≈バリ除去 for バリ取り); widths, case and the long-vowel mark do not matter. Seeds that share \
            no word come last, marked as such, so the list always shows what this laptop has. \
            ライセンス says whether a seed is open to licensing.
            """)
    @OptionGroup var options: ClientOptions
    @Argument(help: "Need id (short id or unique prefix).") var need: String
    @Option(help: "At most this many seeds.") var limit = 10

    func execute() async throws {
        guard limit > 0 else { throw KakehashiError(.usage, field: "limit", "must be at least 1") }
        let result = try options.client().match(need: need, limit: limit)
        if options.json { return try Output.json(result.hits) }
        let keywords = DisplayWidth.wrap(
            "キーワード: " + result.keywords.joined(separator: " "), to: Terminal.wide ? Int.max / 4 : Terminal.width())
        Output.note(keywords.joined(separator: "\n"))
        guard !result.hits.isEmpty else { return Output.note("この端末にはシーズがありません") }
        var table = TextTable(headers: ["順位", "スコア", "ID", "シーズ", "ライセンス", "一致した語"])
        table.fixedColumns = [0, 1, 2, 4]
        for (rank, hit) in result.hits.enumerated() {
            table.append([
                String(rank + 1), String(format: "%.2f", hit.score), ShortID.of(hit.id), hit.title,
                hit.licensable.map { $0 ? "可" : "不可" } ?? "", hit.matched.joined(separator: " "),
            ])
        }
        Output.table(table)
    }
}

struct ConflictsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: "Review concurrent edits that disagreed, and settle them.",
        subcommands: [List.self, Resolve.self], defaultSubcommand: List.self)

    struct List: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "List conflicts with both values, authors and times.")
        @OptionGroup var options: ClientOptions

        func execute() async throws {
            let client = try options.client()
            let conflicts = try client.conflicts()
            if options.json { return try Output.json(conflicts) }
            guard !conflicts.isEmpty else { return Output.note("no conflicts") }
            let names = try client.directoryNames()
            var table = TextTable(headers: [
                "ID", "record", "field", "current value", "by", "at", "other value", "by", "at",
            ])
            for conflict in conflicts {
                let current = conflict.current
                let other = conflict.other
                table.append([
                    conflict.id, "\(conflict.entity.rawValue) \(conflict.record)", conflict.field,
                    current.value.displayText,
                    (names[current.author] ?? current.author) + (current.mine ? " (you)" : ""),
                    current.time, other.value.displayText,
                    (names[other.author] ?? other.author) + (other.mine ? " (you)" : ""),
                    other.time,
                ])
            }
            Output.table(table)
        }
    }

    struct Resolve: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settle a conflict with a new change that supersedes both sides; it syncs like any edit.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Conflict id from `kakehashi conflicts`.") var id: String
        @Option(help: "Keep 'mine' (the side you wrote) or 'theirs'.") var keep: String?
        @Option(help: "Write this value instead.") var value: String?

        func execute() async throws {
            let resolution: FieldClient.Resolution
            switch (keep, value) {
            case ("mine", nil): resolution = .mine
            case ("theirs", nil): resolution = .theirs
            case (nil, let value?): resolution = .value(value)
            case (let other?, nil):
                throw KakehashiError(
                    .usage, field: "keep", "'\(other)' is not mine or theirs", validValues: ["mine", "theirs"])
            default:
                throw KakehashiError(.usage, field: "keep", "give exactly one of --keep mine|theirs or --value V")
            }
            try options.client().resolve(id, resolution)
        }
    }
}

struct LogCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Show every change to a record: field, old → new, author, device, time.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Record id.") var id: String

    func execute() async throws {
        let client = try options.client()
        let history = try client.history(id)
        if options.json { return try Output.json(history.entries) }
        let names = try client.directoryNames()
        var table = TextTable(headers: ["time (JST)", "field", "old", "new", "author", "device", "status"])
        table.fixedColumns = [0]
        for entry in history.entries {
            table.append([
                entry.time, entry.field, entry.old.displayText, entry.new.displayText,
                names[entry.author] ?? entry.author,
                entry.device, entry.status,
            ])
        }
        Output.table(table)
    }
}
