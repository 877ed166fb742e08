import KakehashiShared

/// One export file's content before it is written: named columns and typed cells, rendered as
/// CSV for Excel (Japanese headers and labels by default) or as JSON Lines (field names and
/// codes, for programs).
public struct ExportTable: Sendable {
    public struct Column: Sendable, Hashable {
        /// The English field name: the CSV header with `--labels en` and the JSON key.
        public let key: String
        /// The Japanese header.
        public let label: String

        public init(_ key: String, _ label: String) {
            self.key = key
            self.label = label
        }

        /// A column holding a field of `entity`, headed by the field's label in `Schema`, and keyed
        /// by the field's name unless `key` is given.
        init(_ field: String, of entity: Entity, key: String? = nil) {
            let spec = entity.schema.spec(field)
            self.init(key ?? spec.name, spec.label)
        }
    }

    public enum Cell: Sendable, Hashable {
        case text(String)
        case texts([String])
        /// A code (enum value, program id) with the Japanese label shown for it.
        case code(String, label: String)
        case codes([String], labels: [String])
        case integer(Int64)
        case bool(Bool)
        case date(CalendarDate)
        case null

        /// A code from an enum domain, labelled from the domain.
        public static func coded(_ value: String?, _ domain: EnumDomain) -> Cell {
            guard let value else { return .null }
            return .code(value, label: domain.label(of: value) ?? value)
        }
    }

    public enum Labels: String, Sendable, CommandLineChoice {
        case ja, en

        public static let optionName = "labels"
    }

    /// The file name without extension: `cases`, `events`, …
    public let name: String
    public let columns: [Column]
    /// The columns that identify a row (`id`), for incremental exports; empty for aggregate
    /// tables, which are always exported whole.
    public let keyColumns: [String]
    public private(set) var rows: [[Cell]] = []

    public init(name: String, columns: [Column], keyColumns: [String] = []) {
        precondition(keyColumns.allSatisfy { key in columns.contains { $0.key == key } }, "unknown key column")
        self.name = name
        self.columns = columns
        self.keyColumns = keyColumns
    }

    /// Appends a row given as column key → cell; missing keys are empty cells.
    public mutating func append(_ cells: [String: Cell]) {
        rows.append(row(cells))
    }

    /// A row given as column key → cell, in column order; missing keys are empty cells.
    func row(_ cells: [String: Cell]) -> [Cell] {
        assert(cells.keys.allSatisfy { key in columns.contains { $0.key == key } }, "unknown export column")
        return columns.map { cells[$0.key] ?? .null }
    }

    /// The rows that differ from `earlier` (new or changed), and the keys of `earlier`'s rows
    /// that are gone: what an incremental export holds.
    public func changes(since earlier: ExportTable) -> (table: ExportTable, withdrawn: [String]) {
        let key = key(of:)
        var before: [String: [Cell]] = [:]
        for row in earlier.rows { before[key(row)] = row }
        var changed = ExportTable(name: name, columns: columns, keyColumns: keyColumns)
        var present = Set<String>()
        for row in rows {
            let rowKey = key(row)
            present.insert(rowKey)
            if before[rowKey] != row { changed.rows.append(row) }
        }
        let withdrawn = earlier.rows.map(key).filter { !present.contains($0) }
        return (changed, withdrawn)
    }

    /// The key of a row (in column order) that an incremental export lists when the row is
    /// withdrawn: the texts of its key columns, joined by `/`.
    func key(of row: [Cell]) -> String {
        keyColumns.compactMap { key in columns.firstIndex { $0.key == key } }.map { index in
            if case .text(let text) = row[index] { return text }
            return ""
        }.filter { !$0.isEmpty }.joined(separator: "/")
    }

    /// The header row for `labels`.
    public func header(_ labels: Labels) -> [String] {
        columns.map { labels == .ja ? $0.label : $0.key }
    }
}

extension ExportTable.Cell {
    /// The text of this cell in a CSV file.
    ///
    /// Text that Excel would take for a formula (starting with `=`, `+`, `-`, `@`, a tab or a
    /// carriage return) is prefixed with an apostrophe, as OWASP advises against CSV injection.
    func csvText(_ labels: ExportTable.Labels) -> String {
        switch self {
        case .text(let text): Self.defuse(text)
        case .texts(let texts): texts.map(Self.defuse).joined(separator: "; ")
        case .code(let code, let name): labels == .ja ? name : code
        case .codes(let codes, let names): (labels == .ja ? names : codes).joined(separator: "; ")
        case .integer(let value): String(value)
        case .bool(let value): value ? "TRUE" : "FALSE"
        case .date(let date): date.description
        case .null: ""
        }
    }

    static func defuse(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return text }
        return "'" + text
    }
}

extension ExportTable.Cell: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .texts(let texts): try container.encode(texts)
        case .code(let code, _): try container.encode(code)
        case .codes(let codes, _): try container.encode(codes)
        case .integer(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .date(let date): try container.encode(date.description)
        case .null: try container.encodeNil()
        }
    }
}
