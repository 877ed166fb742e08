import ArgumentParser
import Foundation
import KakehashiClient
import KakehashiShared

struct RefusedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refused",
        abstract: "Your own changes the server refused, or that went with a case you lost, kept in full.",
        discussion: """
            The refused store (拒否・保管された変更) keeps what you typed when it cannot stay in your records: \
            changes the server refused (for example because the case was no longer shared with you when \
            you synced), and your own changes, sent or not, to a case or activity record that was removed \
            from this laptop because access to it was withdrawn. Each entry holds every change in full, \
            with the reason; the title of the record or its case is shown only while this laptop may \
            still see it. Entries stay on this laptop, are not synced, and are removed only by \
            `kakehashi refused clear`. `kakehashi sync` says when entries were added, \
            `kakehashi status` counts them.

              kakehashi refused                 list the entries
              kakehashi refused show ID         one entry with the whole text
              kakehashi refused export FILE     all entries to a JSON file
              kakehashi refused clear ID|--all  remove entries for good
            """,
        subcommands: [List.self, Show.self, Export.self, Clear.self], defaultSubcommand: List.self)

    struct List: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the kept changes, oldest first: one line per record.")
        @OptionGroup var options: ClientOptions

        func execute() async throws {
            let client = try options.client()
            let entries = try client.refused()
            if options.json { return try Output.json(entries) }
            guard !entries.isEmpty else { return Output.note("拒否・保管された変更はありません") }
            let text = RefusedText(names: try client.directoryNames())
            let rows = entries.map { entry in
                [
                    entry.id, RefusedText.shortTime(entry.keptAtMillis), RefusedText.causeLabel(entry),
                    text.subject(entry), text.summary(entry),
                ]
            }
            Output.table(RefusedText.table(rows))
            Output.note("全文は `kakehashi refused show ID`、ファイルへは `kakehashi refused export FILE`")
        }
    }

    struct Show: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one entry in full: every change, its whole text, the reason.",
            discussion: "ID is the id `kakehashi refused` lists, any unique prefix of it, or a change id.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Entry id from `kakehashi refused`.") var id: String

        func execute() async throws {
            let client = try options.client()
            let entry = try client.refused(id)
            if options.json { return try Output.json(entry) }
            Output.line(RefusedText(names: try client.directoryNames()).detail(entry))
        }
    }

    struct Export: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every entry to FILE as JSON.",
            discussion: """
                FILE is UTF-8 JSON: the array `kakehashi refused --json` prints. Each entry has id, \
                cause (rejected | withdrawn), code, reason, entity, record, case, title, keptAt and changes; \
                each change has change (its id), field, op, value (in full), hlc, writtenAt, onServer, code \
                and reason. Times are ISO 8601 in Japan time. The file is readable by you only. An existing \
                FILE is kept unless --force is given.
                """)
        @OptionGroup var options: ClientOptions
        @Argument(help: "The JSON file to write.", completion: .file(extensions: ["json"])) var file: String
        @Flag(help: "Replace FILE if it exists.") var force = false

        func execute() async throws {
            let entries = try options.client().refused()
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) {
                guard !isDirectory.boolValue else {
                    throw KakehashiError.invalid("file", "'\(file)' はディレクトリです。書き出すファイル名を指定してください")
                }
                guard force else {
                    throw KakehashiError.invalid("file", "'\(file)' は既にあります。上書きするには --force を付けてください")
                }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            var data = try encoder.encode(entries)
            data.append(UInt8(ascii: "\n"))
            do {
                try data.write(to: URL(fileURLWithPath: file), options: .atomic)
            } catch {
                throw KakehashiError.invalid("file", "'\(file)' に書き込めません (\(error.localizedDescription))")
            }
            Output.note("\(entries.count) 件を \(file) に書き出しました")
        }
    }

    struct Clear: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove entries for good: refused clear ID, or refused clear --all.",
            discussion: "What is removed cannot be recovered; export it first if you may need it.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "Entry id from `kakehashi refused`.") var id: String?
        @Flag(help: "Remove every entry.") var all = false

        func execute() async throws {
            let client = try options.client()
            switch (id, all) {
            case (let id?, false):
                let entry = try client.clearRefused(id)
                Output.note("\(entry.id) を削除しました")
            case (nil, true):
                Output.note("\(try client.clearAllRefused()) 件を削除しました")
            default:
                throw KakehashiError(.usage, field: "id", "ID か --all のどちらか一方を指定してください")
            }
        }
    }
}

/// How refused-store entries read in a terminal: Japanese labels, Japan time, full text on `show`.
struct RefusedText {
    let names: [String: String]

    static let timeFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Tokyo")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter
    }()

    static func time(_ millis: Int64) -> String {
        timeFormatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000)) + " JST"
    }

    /// `05-01 10:00`: enough to tell entries apart in a list.
    static func shortTime(_ millis: Int64) -> String {
        String(time(millis).dropFirst(5).prefix(11))
    }

    static func causeLabel(_ entry: FieldClient.RefusedEntry) -> String {
        guard entry.cause == "rejected" else { return "アクセス喪失" }
        switch entry.code {
        case "forbidden": return "権限なし"
        case "invalid": return "無効な変更"
        case "clock-skew": return "時刻のずれ"
        default: return "拒否"
        }
    }

    static func causeSentence(_ entry: FieldClient.RefusedEntry) -> String {
        entry.cause == "rejected"
            ? "サーバーが受け付けませんでした [\(entry.code)]: \(entry.reason)"
            : "この案件へのアクセスがなくなったため、端末から消える前に保管しました"
    }

    /// `活動記録「精密加工技術の試作マッチング」`: the record's kind and the title it is known by
    /// (no title once the laptop lost the case: `show` gives its id).
    func subject(_ entry: FieldClient.RefusedEntry) -> String {
        let label = entry.entity.schema.label
        guard let title = entry.title, !title.isEmpty else { return label }
        return "\(label)「\(title)」"
    }

    /// The kept text in one line: free-text fields first, then the other values.
    func summary(_ entry: FieldClient.RefusedEntry) -> String {
        let schema = entry.entity.schema
        var texts: [String] = []
        var others: [String] = []
        for item in entry.changes {
            guard let name = item.field, let spec = try? schema.field(name) else {
                others.append(item.value == .bool(false) ? "復元" : "削除")
                continue
            }
            if case .reference = spec.kind, item.op == .set { continue }
            let value = display(item.value, spec)
            switch item.op {
            case .add: others.append("\(spec.label)+\(value)")
            case .remove: others.append("\(spec.label)−\(value)")
            default:
                if spec.searchable, !spec.isSet { texts.append(value) } else { others.append("\(spec.label)=\(value)") }
            }
        }
        return (texts + others).joined(separator: " / ")
    }

    /// Every change of the entry with its value in full, never shortened.
    func detail(_ entry: FieldClient.RefusedEntry) -> String {
        var head: [(String, String)] = [
            ("ID", entry.id),
            ("理由", Self.causeSentence(entry)),
            ("保管日時", Self.time(entry.keptAtMillis)),
            ("対象", "\(entry.entity.schema.label) \(entry.record)"),
        ]
        if let caseID = entry.caseID, entry.entity != .case || entry.title != nil {
            head.append(("案件", (entry.title.map { "\($0) " } ?? "") + "(\(caseID))"))
        } else if let title = entry.title {
            head.append(("名称", title))
        }
        let sent = entry.changes.filter(\.onServer).count
        head.append(
            (
                "サーバー",
                sent == 0
                    ? "この変更はサーバーにありません"
                    : sent == entry.changes.count
                        ? "サーバーには届いています（この端末では見られなくなりました）"
                        : "\(entry.changes.count) 件中 \(sent) 件はサーバーに届いています"
            ))
        let width = head.map { DisplayWidth.of($0.0) }.max() ?? 0
        var lines = head.map { DisplayWidth.pad($0.0, to: width) + "  " + $0.1 }
        lines.append("")
        lines.append("変更 \(entry.changes.count) 件:")
        let schema = entry.entity.schema
        for item in entry.changes {
            let spec = item.field.flatMap { try? schema.field($0) }
            let what: String
            switch (item.op, spec) {
            case (.set, let spec?): what = "\(spec.label) (\(spec.name)) を設定"
            case (.add, let spec?): what = "\(spec.label) (\(spec.name)) に追加"
            case (.remove, let spec?): what = "\(spec.label) (\(spec.name)) から削除"
            default: what = item.value == .bool(false) ? "レコードを復元" : "レコードを削除"
            }
            var line = "- \(what) — \(HLC(item.hlc).map { Self.time($0.millis) } ?? item.hlc), \(item.change)"
            if item.reason != entry.reason { line += " [\(item.code)] \(item.reason)" }
            lines.append(line)
            guard let spec, item.op != .delete else { continue }
            var value = display(item.value, spec)
            if spec.name == "case", let title = entry.title, item.value.stringValue == entry.caseID {
                value = "\(title) (\(item.value.displayText))"
            }
            for text in value.split(separator: "\n", omittingEmptySubsequences: false) {
                lines.append("    " + text)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A value as people read it: enum labels with their value, names of advisors, the text as is.
    func display(_ value: FieldValue, _ spec: FieldSpec) -> String {
        let text = value.displayText
        switch spec.kind {
        case .enumeration(let domain):
            return domain.label(of: text).map { "\($0) (\(text))" } ?? text
        case .reference, .referenceSet:
            return names[text].map { "\($0) (\(text))" } ?? text
        case .yen:
            return value.integerValue.map(RecordPresenter.groupedYen) ?? text
        default:
            return value.isNull ? "（空）" : text
        }
    }

    /// The list as a table; `Output.table` fits it to the terminal, the subject and summary
    /// giving way (`--wide`: nothing is shortened).
    static func table(_ rows: [[String]]) -> TextTable {
        var table = TextTable(headers: ["ID", "保管日時(JST)", "理由", "対象", "内容"])
        table.fixedColumns = [0, 1, 2]
        for row in rows { table.append(row) }
        return table
    }
}
