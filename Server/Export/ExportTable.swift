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

    public enum Labels: String, Sendable, CaseIterable {
        case ja, en
    }

    /// The file name without extension: `cases`, `events`, …
    public let name: String
    public let columns: [Column]
    public private(set) var rows: [[Cell]] = []

    public init(name: String, columns: [Column]) {
        self.name = name
        self.columns = columns
    }

    /// Appends a row given as column key → cell; missing keys are empty cells.
    public mutating func append(_ cells: [String: Cell]) {
        precondition(cells.keys.allSatisfy { key in columns.contains { $0.key == key } }, "unknown export column")
        rows.append(columns.map { cells[$0.key] ?? .null })
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
