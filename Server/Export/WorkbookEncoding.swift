import KakehashiShared

/// What an export workbook holds and how it names it: the file and sheet names, the information
/// sheet's facts, and how a cell's text is shown and measured. `WorkbookWriter` writes it.
public enum WorkbookEncoding {
    /// What the information sheet says about the export.
    public struct Information: Sendable {
        public var profile: ExportProfile
        public var labels: ExportTable.Labels
        public var fiscalYear: Int?
        public var cursor: ExportManifest.CursorRange
        public var incremental: Bool
        public var asOf: CalendarDate
        /// The wall time (Unix milliseconds) of the log's newest change: the workbook's
        /// creation time in its document properties.
        public var asOfMillis: Int64
        public var generator: String
        /// Per table name, the keys of rows withdrawn since the cursor (incremental exports).
        public var withdrawn: [String: [String]]?
    }

    /// The file name of a profile's workbook.
    public static func fileName(_ profile: ExportProfile) -> String { "kakehashi-\(profile.rawValue).xlsx" }

    /// The sheet a table is written to.
    public static func sheetName(_ table: String, _ labels: ExportTable.Labels) -> String {
        guard labels == .ja else { return table }
        return switch table {
        case "cases": "案件"
        case "events": "活動"
        case "organizations": "支援先"
        case "indicators": "指標"
        case "referrals": "事業間紹介"
        case "good-practices": "好事例"
        default: table
        }
    }

    public static func informationSheetName(_ labels: ExportTable.Labels) -> String {
        labels == .ja ? "情報" : "info"
    }

    /// Excel's limit on the characters of one cell.
    static let maximumCellCharacters = 32_767
    /// The widest a column is set, in Excel's character units.
    static let maximumColumnWidth = 60.0

    /// Excel holds at most 32,767 characters in a cell; longer text ends with an ellipsis.
    static func clipped(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > maximumCellCharacters else { return text }
        var kept = String.UnicodeScalarView(scalars.prefix(maximumCellCharacters - 1))
        kept.append("…")
        return String(kept)
    }

    /// The width of `text` in Excel's character units: East Asian wide and fullwidth characters
    /// count two, others one; of a multi-line text, its longest line.
    static func displayWidth(_ text: String) -> Int {
        var widest = 0
        var current = 0
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                widest = max(widest, current)
                current = 0
            } else {
                current += isWide(scalar) ? 2 : 1
            }
        }
        return max(widest, current)
    }

    static func isWide(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x3FFFD:
            true
        default: false
        }
    }
}

extension ExportTable.Cell {
    /// The text of a text-like cell in a workbook: as in CSV but never defused, since a workbook
    /// cell written as a string is never read as a formula.
    func workbookText(_ labels: ExportTable.Labels) -> String {
        switch self {
        case .text(let text): text
        case .texts(let texts): texts.joined(separator: "; ")
        case .code(let code, let name): labels == .ja ? name : code
        case .codes(let codes, let names): (labels == .ja ? names : codes).joined(separator: "; ")
        case .integer(let value): String(value)
        case .bool(let value): value ? "TRUE" : "FALSE"
        case .date(let date): date.description
        case .null: ""
        }
    }
}
