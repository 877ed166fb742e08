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
        let client = try options.client()
        let hits = try client.search(words.joined(separator: " "), limit: limit)
        if try client.identity().indexPending {
            // A first sync that stopped before its last page: the index is built at its end.
            Output.note("最初の同期が途中のため、検索の索引はまだ作成されていません。sync を完了すると作成されます")
        }
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
            guard !conflicts.isEmpty else { return Output.note("競合はありません") }
            let text = ReviewText(names: try client.directoryNames())
            let width = Terminal.wide ? Int.max / 4 : Terminal.width()
            var lines: [String] = []
            for conflict in conflicts {
                let ref = RecordRef(entity: conflict.entity, record: conflict.record)
                let subject = text.subject(ref, title: try client.recordTitle(ref))
                let field = text.fieldLabel(conflict.entity, conflict.field)
                if !lines.isEmpty { lines.append("") }
                lines.append(DisplayWidth.truncate("\(conflict.id)  \(field)  \(subject)", to: width))
                for (label, side) in [("現在の値", conflict.current), ("他方の値", conflict.other)] {
                    let value = text.conflictValue(side.value, entity: conflict.entity, field: conflict.field)
                    let who = (text.names[side.author] ?? ShortID.of(side.author)) + (side.mine ? "（あなた）" : "")
                    let when = HLC(side.hlc).map { JapanTime.text(millis: $0.millis) } ?? side.time
                    lines += text.block(label, [value, "\(who)  \(when)"], width: width)
                }
            }
            Output.line(lines.joined(separator: "\n"))
            Output.note("解決: kakehashi conflicts resolve ID --keep mine|theirs（または --value 値）")
        }
    }

    struct Resolve: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settle a conflict with a new change that supersedes both sides; it syncs like any edit.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Conflict id from `kakehashi conflicts`.") var id: String
        @Option(help: "Keep 'mine' (the side you wrote) or 'theirs'.", completion: .list(["mine", "theirs"]))
        var keep: String?
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
        commandName: "log", abstract: "Show every change to a record: field, old → new, author, device, time.",
        discussion: "Times are Japan time (JST); with --json, ISO 8601 with the +09:00 offset.")
    @OptionGroup var options: ClientOptions
    @Argument(help: "Record id (short id or unique prefix).") var id: String

    func execute() async throws {
        let client = try options.client()
        let history = try client.history(id)
        let incomplete = """
            履歴の一部はまだこの端末に届いていません。続きは次の sync で届きます
            （最初の同期は、記録の最新の状態だけを受信します）
            """
        if options.json {
            if !history.complete { Output.note(incomplete) }
            return try Output.json(history.entries)
        }
        let text = ReviewText(names: try client.directoryNames())
        let ref = try client.resolveRecord(id)
        let heading = "\(ShortID.of(ref.record))  \(text.subject(ref, title: try client.recordTitle(ref)))"
        Output.line(Terminal.wide ? heading : DisplayWidth.truncate(heading, to: Terminal.width()))
        var table = TextTable(headers: ["日時 (JST)", "項目", "変更前", "変更後", "記入者", "端末", "状態"])
        table.fixedColumns = [0, 6]
        table.keptColumns = [4, 5]
        for entry in history.entries {
            let (old, new) = text.historyValues(entry, entity: history.entity)
            table.append([
                HLC(entry.hlc).map { String(JapanTime.text(millis: $0.millis).dropLast(4)) } ?? entry.time,
                text.fieldLabel(history.entity, entry.field, withName: false), old, new,
                text.names[entry.author] ?? ShortID.of(entry.author), String(entry.device.dropFirst(2).prefix(6)),
                ReviewText.status(entry.status),
            ])
        }
        Output.table(table)
        if !history.complete { Output.line(incomplete) }
    }
}

/// Records, fields and values as people read them in `conflicts` and `log`: Japanese labels,
/// names instead of ids, はい/いいえ.
struct ReviewText {
    let names: [String: String]

    /// `案件「精密加工技術の試作マッチング」`, or the kind and short id when the laptop has no title.
    func subject(_ ref: RecordRef, title: String?) -> String {
        let label = ref.entity.schema.label
        guard let title, !title.isEmpty else { return "\(label) \(ShortID.of(ref.record))" }
        return "\(label)「\(title)」"
    }

    /// `概要 (summary)`, `参加者 (participants)`, `削除・復元` for `summary`, `participants[…]`,
    /// `(deleted)`: the label, and the name `set` takes.
    func fieldLabel(_ entity: Entity, _ field: String, withName: Bool = true) -> String {
        if field == "(deleted)" || field.isEmpty { return "削除・復元" }
        let name = field.split(separator: "[").first.map(String.init) ?? field
        guard let label = try? entity.schema.field(name).label else { return field }
        return withName ? "\(label) (\(name))" : label
    }

    /// A scalar value as a person reads it.
    func value(_ value: FieldValue, entity: Entity, field: String) -> String {
        guard !value.isNull else { return "（空）" }
        let text = value.displayText
        guard let spec = try? entity.schema.field(field) else { return text }
        switch spec.kind {
        case .enumeration(let domain): return domain.label(of: text) ?? text
        case .bool: return value == .bool(true) ? "はい" : "いいえ"
        case .reference, .referenceSet: return names[text] ?? text
        case .yen: return value.integerValue.map(RecordPresenter.groupedYen) ?? text
        default: return text
        }
    }

    /// A conflict side: a value, `+element`/`−element` of a set, or `(deleted)`.
    func conflictValue(_ value: FieldValue, entity: Entity, field: String) -> String {
        let text = value.displayText
        if text == "(deleted)" { return "（削除）" }
        if let sign = text.first, sign == "+" || sign == "−", (try? entity.schema.field(field))?.isSet == true {
            let element = String(text.dropFirst())
            return (sign == "+" ? "追加: " : "削除: ") + (names[element] ?? element)
        }
        return self.value(value, entity: entity, field: field)
    }

    /// Old and new of a history entry: set elements as present or not, deletes as 削除/復元.
    func historyValues(_ entry: FieldClient.HistoryEntry, entity: Entity) -> (String, String) {
        if entry.op == "delete" {
            return (entry.old == .bool(true) ? "削除" : "", entry.new == .bool(true) ? "削除" : "復元")
        }
        if let open = entry.field.firstIndex(of: "["), entry.field.hasSuffix("]") {
            let element = String(
                entry.field[entry.field.index(after: open)..<entry.field.index(before: entry.field.endIndex)])
            let name = names[element] ?? element
            return (entry.old == .bool(true) ? name : "", entry.new == .bool(true) ? name : "（外す）")
        }
        return (
            value(entry.old, entity: entity, field: entry.field).replacingOccurrences(of: "（空）", with: ""),
            value(entry.new, entity: entity, field: entry.field)
        )
    }

    static func status(_ status: String) -> String {
        ChangeStatus(rawValue: status)?.label ?? status
    }

    /// `  現在の値  text…` with the text wrapped under itself to `width`.
    func block(_ label: String, _ paragraphs: [String], width: Int) -> [String] {
        let head = "  " + label + "  "
        let indent = DisplayWidth.of(head)
        var lines: [String] = []
        for paragraph in paragraphs {
            for piece in DisplayWidth.wrap(paragraph, to: max(10, width - indent)) {
                lines.append((lines.isEmpty ? head : String(repeating: " ", count: indent)) + piece)
            }
        }
        return lines
    }
}
