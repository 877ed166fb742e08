import CSV
import Foundation
import KakehashiShared

/// A seed list read from CSV (`kakehashi-server import seeds FILE.csv`): an open-patent list
/// (開放特許) or a university's seed list, one seed per row.
///
/// Columns, by English or Japanese header, in any order: `title` (名称, required), `description`
/// (説明), `holder` (保有機関: an organization's name), `holder_kind` and `holder_prefecture`
/// (used when the holder is new), `kind` (種別, default `open-patent`), `patent_numbers`
/// (特許番号), `licensable` (ライセンス可, default yes), `tags` (タグ). Several patent numbers
/// or tags in one cell are separated by `;`, `、` or `,`. The file is UTF-8 (a BOM is fine) or
/// Shift_JIS, as Excel saves it.
public struct SeedFile: Sendable {
    public struct Row: Sendable, Hashable {
        /// The line of the file the row starts on (the header is line 1).
        public let line: Int
        public let title: FieldValue
        public let description: FieldValue
        public let holder: String?
        public let holderKind: String?
        public let holderPrefecture: String?
        public let kind: FieldValue
        public let patentNumbers: [String]
        public let licensable: Bool
        public let tags: [String]
    }

    /// A row that cannot be imported, and why.
    public struct Problem: Sendable, Hashable, Encodable, CustomStringConvertible {
        public let line: Int
        public let field: String?
        public let reason: String

        public var description: String { "line \(line): " + (field.map { "\($0): " } ?? "") + reason }
    }

    public let rows: [Row]
    public let problems: [Problem]
    /// Lines whose seed repeats an earlier row's title and holder (a list with one row per
    /// patent): their patent numbers and tags were merged into that row.
    public let mergedLines: [Int]

    /// The columns by their canonical name, with the headers accepted for each.
    static let columns: KeyValuePairs<String, [String]> = [
        "title": ["title", "name", "名称", "シーズ名", "発明の名称", "タイトル"],
        "description": ["description", "summary", "説明", "概要"],
        "holder": ["holder", "保有機関", "保有者", "権利者", "特許権者"],
        "holder_kind": ["holder_kind", "保有機関種別"],
        "holder_prefecture": ["holder_prefecture", "保有機関都道府県", "都道府県"],
        "kind": ["kind", "種別"],
        "patent_numbers": ["patent_numbers", "patent_number", "patents", "特許番号"],
        "licensable": ["licensable", "ライセンス可", "ライセンス可否", "実施許諾"],
        "tags": ["tags", "tag", "keywords", "タグ", "キーワード"],
    ]

    static let yes: Set<String> = ["true", "yes", "y", "1", "はい", "可", "○", "〇"]
    static let no: Set<String> = ["false", "no", "n", "0", "いいえ", "不可", "×"]

    /// Reads and checks every row. Problems with single rows are collected, not thrown.
    /// - Throws: `KakehashiError` (`.invalidData`, field `file`) when the file as a whole cannot be
    ///   read: not UTF-8 or Shift_JIS, no header, no title column, an unknown column.
    public init(data: Data, name: String) throws(KakehashiError) {
        let text = try Self.decode(data, name: name)
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: true)
        } catch {
            throw KakehashiError.invalid("file", "\(name) is not a CSV file with a header row")
        }
        guard let header = reader.headerRow, header.contains(where: { !$0.isEmpty }) else {
            throw KakehashiError.invalid("file", "\(name) is empty; the first line must name the columns")
        }
        var index: [String: Int] = [:]
        for (position, cell) in header.enumerated() where !TextNormalization.normalize(cell).isEmpty {
            let key = TextNormalization.normalize(cell).lowercased().replacingOccurrences(of: " ", with: "_")
                .replacingOccurrences(of: "-", with: "_")
            guard let column = Self.columns.first(where: { $0.value.contains(key) })?.key else {
                throw KakehashiError.invalid(
                    "file",
                    "\(name): unknown column '\(cell)'; known columns: \(Self.columns.map(\.key).joined(separator: ", "))"
                )
            }
            if index[column] != nil {
                throw KakehashiError.invalid("file", "\(name): column '\(column)' appears twice")
            }
            index[column] = position
        }
        guard index["title"] != nil else {
            throw KakehashiError.invalid("file", "\(name): no title column (title or 名称)")
        }

        var rows: [Row] = []
        var problems: [Problem] = []
        var merged: [Int] = []
        var seen: [String: Int] = [:]
        var line = 1 + Self.lineBreaks(in: header) + 1
        while let cells = reader.next() {
            let start = line
            line += 1 + Self.lineBreaks(in: cells)
            if cells.allSatisfy({ TextNormalization.normalize($0).isEmpty }) { continue }
            func cell(_ column: String) -> String {
                guard let position = index[column], position < cells.count else { return "" }
                return cells[position]
            }
            if cells.count > header.count, cells[header.count...].contains(where: { !$0.isEmpty }) {
                problems.append(
                    Problem(
                        line: start, field: nil, reason: "\(cells.count) cells but the header names \(header.count)"))
                continue
            }
            do {
                let row = try Self.row(line: start, cell)
                let key = (row.title.stringValue ?? "") + "\u{0}" + (row.holder ?? "")
                if let index = seen[key] {
                    rows[index] = rows[index].merging(row)
                    merged.append(start)
                    continue
                }
                seen[key] = rows.count
                rows.append(row)
            } catch {
                problems.append(Problem(line: start, field: error.field, reason: error.message))
            }
        }
        if let error = reader.error {
            throw KakehashiError.invalid("file", "\(name) cannot be read as CSV near line \(line): \(error)")
        }
        self.rows = rows
        self.problems = problems
        self.mergedLines = merged
    }

    private static func row(line: Int, _ cell: (String) -> String) throws(KakehashiError) -> Row {
        let schema = Entity.seed.schema
        let title = try schema.field("title").parse(cell("title"))
        guard !title.isNull else { throw KakehashiError.invalid("title", "is required") }
        let organization = Entity.organization.schema
        let holder = try optional(cell("holder"), organization.field("name"), as: "holder") ?? ""
        let holderKind = try optional(cell("holder_kind"), organization.field("kind"), as: "holder_kind")
        let holderPrefecture = try optional(
            cell("holder_prefecture"), organization.field("prefecture"), as: "holder_prefecture")
        if holder.isEmpty, holderKind != nil || holderPrefecture != nil {
            throw KakehashiError.invalid("holder", "is empty but holder_kind or holder_prefecture is given")
        }
        let kindText = TextNormalization.normalize(cell("kind"))
        let licensableText = TextNormalization.normalize(cell("licensable")).lowercased()
        let licensable: Bool
        if licensableText.isEmpty || yes.contains(licensableText) {
            licensable = true
        } else if no.contains(licensableText) {
            licensable = false
        } else {
            throw KakehashiError.invalid(
                "licensable",
                "'\(cell("licensable"))' is not yes or no (valid values: true, false, yes, no, はい, いいえ, 可, 不可)")
        }
        return Row(
            line: line, title: title,
            description: try optional(cell("description"), schema.field("description"), as: "description")
                .map(FieldValue.string) ?? .null,
            holder: holder.isEmpty ? nil : holder, holderKind: holderKind, holderPrefecture: holderPrefecture,
            kind: try schema.field("kind").parse(kindText.isEmpty ? "open-patent" : kindText),
            patentNumbers: try elements(cell("patent_numbers"), schema.field("patent_numbers")),
            licensable: licensable, tags: try elements(cell("tags"), schema.field("tags")))
    }

    /// An optional cell's value checked by `spec`, with errors naming the CSV column.
    static func optional(_ text: String, _ spec: FieldSpec, as column: String) throws(KakehashiError) -> String? {
        guard !TextNormalization.normalize(text).isEmpty else { return nil }
        do {
            return try spec.parse(text).stringValue
        } catch {
            var renamed = error
            renamed.field = column
            throw renamed
        }
    }

    /// The elements of a set cell: split on `;`, `、`, `,` (and their full-width forms) or line
    /// breaks, each validated, duplicates dropped.
    static func elements(_ text: String, _ spec: FieldSpec) throws(KakehashiError) -> [String] {
        var out: [String] = []
        let separators: Set<Character> = [";", "；", "、", ",", "，", "\n", "\r\n", "\r"]
        for part in text.split(whereSeparator: { separators.contains($0) }) {
            let trimmed = TextNormalization.normalize(String(part))
            guard !trimmed.isEmpty else { continue }
            let element = try spec.parseElement(trimmed)
            if !out.contains(element) { out.append(element) }
        }
        return out
    }

    static func decode(_ data: Data, name: String) throws(KakehashiError) -> String {
        var bytes = data
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        if let text = String(data: bytes, encoding: .shiftJIS) { return text }
        throw KakehashiError.invalid("file", "\(name) is neither UTF-8 nor Shift_JIS text; save it as CSV UTF-8")
    }

    static func lineBreaks(in cells: [String]) -> Int {
        cells.reduce(0) { total, cell in
            total + cell.unicodeScalars.filter { $0 == "\n" }.count
                + cell.replacingOccurrences(of: "\r\n", with: "\n").unicodeScalars.filter { $0 == "\r" }.count
        }
    }

    /// An organization kind guessed from a holder's name, for holders not yet in the store.
    static func guessKind(ofHolder name: String) -> String {
        if name.contains("高等専門学校") || name.contains("高専") { return "kosen" }
        if name.contains("大学") || name.localizedCaseInsensitiveContains("university") { return "university" }
        if name.localizedCaseInsensitiveContains("TLO") || name.contains("技術移転") { return "tlo" }
        if name.contains("試験場") || name.contains("技術センター") || name.contains("産業技術") { return "public-lab" }
        if name.contains("研究所") || name.contains("研究機構") || name.contains("研究開発法人") { return "research-institute" }
        return "other"
    }
}

extension SeedFile.Row {
    /// This row with `other`'s patent numbers and tags added, and its description when this one
    /// has none.
    func merging(_ other: SeedFile.Row) -> SeedFile.Row {
        SeedFile.Row(
            line: line, title: title, description: description.isNull ? other.description : description,
            holder: holder, holderKind: holderKind ?? other.holderKind,
            holderPrefecture: holderPrefecture ?? other.holderPrefecture, kind: kind,
            patentNumbers: patentNumbers + other.patentNumbers.filter { !patentNumbers.contains($0) },
            licensable: licensable, tags: tags + other.tags.filter { !tags.contains($0) })
    }
}
