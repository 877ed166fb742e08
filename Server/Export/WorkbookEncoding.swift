import CXlsxWriter
import Foundation
import KakehashiShared

/// Writes an export's tables as one Excel workbook through libxlsxwriter: a sheet per table after
/// an information sheet, typed cells (ids and 法人番号 as text, dates as dates, yen as numbers
/// with a yen format, booleans as booleans), a bold frozen header row with a filter, and columns
/// as wide as their widest cell.
///
/// The same tables and information give the same bytes: the workbook's creation time is the
/// log's newest change, never the clock (libxlsxwriter dates the zip entries 1980-01-01).
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

    /// The workbook's bytes.
    /// - Throws: `KakehashiError` (`.internalFailure`) when libxlsxwriter refuses a cell or the
    ///   file (the message names its error).
    public static func encode(_ tables: [ExportTable], information: Information) throws -> Data {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kakehashi-xlsx-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw KakehashiError(.internalFailure, "cannot create \(directory.path): \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("export.xlsx").path

        var writer = try Writer(path: path, temporaryDirectory: directory.path, information: information)
        do {
            try writer.information(tables)
            for table in tables { try writer.sheet(table) }
            try writer.close()
        } catch {
            // Frees libxlsxwriter's workbook; the half-written file goes with the directory.
            try? writer.close()
            throw error
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw KakehashiError(.internalFailure, "cannot read the workbook back: \(error.localizedDescription)")
        }
    }

    /// One workbook being written. libxlsxwriter keeps the sheets in memory until `close`.
    private struct Writer {
        let workbook: UnsafeMutablePointer<lxw_workbook>
        let information: Information
        let labels: ExportTable.Labels
        let header: UnsafeMutablePointer<lxw_format>
        let date: UnsafeMutablePointer<lxw_format>
        let yen: UnsafeMutablePointer<lxw_format>
        let integer: UnsafeMutablePointer<lxw_format>
        let plainInteger: UnsafeMutablePointer<lxw_format>
        /// The temporary directory's C string, kept until the workbook is closed (libxlsxwriter
        /// writes its temporary files there when closing).
        let temporaryDirectory: UnsafeMutablePointer<CChar>
        var closed = false

        init(path: String, temporaryDirectory: String, information: Information) throws {
            var options = lxw_workbook_options()
            self.temporaryDirectory = strdup(temporaryDirectory)
            options.tmpdir = self.temporaryDirectory
            guard let workbook = workbook_new_opt(path, &options) else {
                free(self.temporaryDirectory)
                throw KakehashiError(.internalFailure, "libxlsxwriter cannot create a workbook at \(path)")
            }
            self.workbook = workbook
            self.information = information
            labels = information.labels

            func format(_ configure: (UnsafeMutablePointer<lxw_format>) -> Void) -> UnsafeMutablePointer<lxw_format> {
                let format = workbook_add_format(workbook)!
                configure(format)
                return format
            }
            header = format {
                format_set_bold($0)
                format_set_bg_color($0, 0xDDE7F3)
                format_set_border($0, UInt8(LXW_BORDER_THIN.rawValue))
            }
            date = format { format_set_num_format($0, "yyyy/mm/dd") }
            yen = format { format_set_num_format($0, "\"¥\"#,##0") }
            integer = format { format_set_num_format($0, "#,##0") }
            plainInteger = format { format_set_num_format($0, "0") }

            // Document properties: strings are copied by libxlsxwriter; the creation time is the
            // log's, so the bytes do not depend on when the export ran.
            let title = strdup("Kakehashi \(information.profile.rawValue)")
            let author = strdup(information.generator)
            defer {
                free(title)
                free(author)
            }
            var properties = lxw_doc_properties()
            properties.title = title
            properties.author = author
            properties.created = time_t(max(information.asOfMillis / 1000, 946_684_800))
            let error = workbook_set_properties(workbook, &properties)
            guard error == LXW_NO_ERROR else {
                workbook_close(workbook)
                free(self.temporaryDirectory)
                try Self.check(error, "document properties")
                return
            }
        }

        static func check(_ error: lxw_error, _ what: @autoclosure () -> String) throws {
            guard error != LXW_NO_ERROR else { return }
            let reason = String(cString: lxw_strerror(error))
            throw KakehashiError(.internalFailure, "libxlsxwriter refused \(what()): \(reason)")
        }

        func addSheet(_ name: String) throws -> UnsafeMutablePointer<lxw_worksheet> {
            guard let sheet = workbook_add_worksheet(workbook, name) else {
                throw KakehashiError(.internalFailure, "libxlsxwriter refused the sheet name \(name)")
            }
            return sheet
        }

        /// The information sheet: what the export is, and how many rows each sheet holds.
        mutating func information(_ tables: [ExportTable]) throws {
            let sheet = try addSheet(WorkbookEncoding.informationSheetName(labels))
            let ja = labels == .ja
            let info = information
            var rows: [(String, ExportTable.Cell)] = [
                (ja ? "プロファイル" : "profile", profileCell(info.profile)),
                (ja ? "年度" : "fiscal_year", info.fiscalYear.map { .text(String($0)) } ?? .text(ja ? "全年度" : "all")),
                (ja ? "差分" : "incremental", .bool(info.incremental)),
                (ja ? "ログ位置（から）" : "cursor_from", .text(String(info.cursor.from))),
                (ja ? "ログ位置（まで）" : "cursor_to", .text(String(info.cursor.to))),
                (ja ? "基準日（ログの最新の変更）" : "as_of", .date(info.asOf)),
                (ja ? "ログの最新の変更の日時" : "as_of_time", .text(Exporter.timestamp(millis: info.asOfMillis))),
                (ja ? "表示" : "labels", .text(labels.rawValue)),
                (ja ? "作成元" : "generator", .text(info.generator)),
                (ja ? "スキーマ版" : "schema_version", .integer(Int64(Exporter.schemaVersion))),
            ]
            if ja {
                rows.append(("非開示", .text("非開示が TRUE の行は、秘密区分により件名・概要・名称などを空欄にしています。")))
            }
            var widths = [0.0, 0.0, 0.0]
            try writeHeader(sheet, [ja ? "項目" : "item", ja ? "値" : "value"], widths: &widths)
            var row: lxw_row_t = 1
            for (label, cell) in rows {
                try write(sheet, row, 0, .text(label), width: &widths[0])
                try write(sheet, row, 1, cell, width: &widths[1])
                row += 1
            }
            row += 1
            let sheetHeader = ja ? ["シート", "行数"] : ["sheet", "rows"]
            for (column, text) in sheetHeader.enumerated() {
                try Self.check(
                    worksheet_write_string(sheet, row, lxw_col_t(column), text, header), "a header cell")
            }
            row += 1
            for table in tables {
                try write(sheet, row, 0, .text(WorkbookEncoding.sheetName(table.name, labels)), width: &widths[0])
                try write(sheet, row, 1, .integer(Int64(table.rows.count)), width: &widths[1])
                row += 1
            }
            if let withdrawn = info.withdrawn {
                row += 1
                let withdrawnHeader = ja ? ["取り下げた行のシート", "キー"] : ["withdrawn_from", "key"]
                for (column, text) in withdrawnHeader.enumerated() {
                    try Self.check(
                        worksheet_write_string(sheet, row, lxw_col_t(column), text, header), "a header cell")
                }
                row += 1
                for table in tables {
                    for key in withdrawn[table.name] ?? [] {
                        try write(
                            sheet, row, 0, .text(WorkbookEncoding.sheetName(table.name, labels)), width: &widths[0])
                        try write(sheet, row, 1, .text(key), width: &widths[1])
                        row += 1
                    }
                }
            }
            try setWidths(sheet, widths)
        }

        private func profileCell(_ profile: ExportProfile) -> ExportTable.Cell {
            let name =
                switch profile {
                case .cabinetOffice: "内閣府（全事業）"
                case .meti: "経済産業省"
                case .mext: "文部科学省"
                }
            return .code(profile.rawValue, label: name)
        }

        /// A data sheet: header, typed rows, frozen header, a filter, fitted widths.
        mutating func sheet(_ table: ExportTable) throws {
            let sheet = try addSheet(WorkbookEncoding.sheetName(table.name, labels))
            var widths = [Double](repeating: 0, count: table.columns.count)
            try writeHeader(sheet, table.header(labels), widths: &widths)
            let yenColumns = Set(table.columns.indices.filter { table.columns[$0].key.hasSuffix("_yen") })
            let plainColumns = Set(table.columns.indices.filter { table.columns[$0].key == "fiscal_year" })
            for (index, cells) in table.rows.enumerated() {
                let row = lxw_row_t(index + 1)
                for (column, cell) in cells.enumerated() {
                    let style: Style =
                        yenColumns.contains(column) ? .yen : plainColumns.contains(column) ? .plain : .standard
                    try write(sheet, row, lxw_col_t(column), cell, style: style, width: &widths[column])
                }
            }
            worksheet_freeze_panes(sheet, 1, 0)
            if !table.columns.isEmpty {
                try Self.check(
                    worksheet_autofilter(
                        sheet, 0, 0, lxw_row_t(table.rows.count), lxw_col_t(table.columns.count - 1)),
                    "the filter of \(table.name)")
            }
            try setWidths(sheet, widths)
        }

        func writeHeader(
            _ sheet: UnsafeMutablePointer<lxw_worksheet>, _ texts: [String], widths: inout [Double]
        ) throws {
            for (column, text) in texts.enumerated() {
                try Self.check(worksheet_write_string(sheet, 0, lxw_col_t(column), text, header), "a header cell")
                // Bold text and the filter button need a little more room.
                widths[column] = max(widths[column], Double(WorkbookEncoding.displayWidth(text)) + 3)
            }
        }

        func setWidths(_ sheet: UnsafeMutablePointer<lxw_worksheet>, _ widths: [Double]) throws {
            for (column, width) in widths.enumerated() {
                let fitted = min(WorkbookEncoding.maximumColumnWidth, max(6, width + 1))
                try Self.check(
                    worksheet_set_column(sheet, lxw_col_t(column), lxw_col_t(column), fitted, nil), "a column width")
            }
        }

        enum Style { case standard, yen, plain }

        /// Writes one typed cell and widens its column to fit what Excel will show.
        func write(
            _ sheet: UnsafeMutablePointer<lxw_worksheet>, _ row: lxw_row_t, _ column: lxw_col_t,
            _ cell: ExportTable.Cell, style: Style = .standard, width: inout Double
        ) throws {
            let shown: String
            switch cell {
            case .null:
                return
            case .integer(let value):
                let format = style == .yen ? yen : style == .plain ? plainInteger : integer
                try Self.check(worksheet_write_number(sheet, row, column, Double(value), format), "a number")
                let digits = String(value.magnitude).count
                let separators = style == .plain ? 0 : (digits - 1) / 3
                let signs = (value < 0 ? 1 : 0) + (style == .yen ? 1 : 0)
                shown = String(repeating: "0", count: digits + separators + signs)
            case .bool(let value):
                try Self.check(worksheet_write_boolean(sheet, row, column, value ? 1 : 0, nil), "a boolean")
                shown = "FALSE"
            case .date(let day):
                var datetime = lxw_datetime(
                    year: Int32(day.year), month: Int32(day.month), day: Int32(day.day), hour: 0, min: 0, sec: 0)
                try Self.check(worksheet_write_datetime(sheet, row, column, &datetime, date), "a date")
                shown = "2026/11/21"
            default:
                let text = Self.clipped(cell.workbookText(labels))
                try Self.check(worksheet_write_string(sheet, row, column, text, nil), "a text cell")
                shown = text
            }
            width = max(width, Double(WorkbookEncoding.displayWidth(shown)))
        }

        /// Excel holds at most 32,767 characters in a cell; longer text ends with an ellipsis.
        static func clipped(_ text: String) -> String {
            let scalars = text.unicodeScalars
            guard scalars.count > WorkbookEncoding.maximumCellCharacters else { return text }
            var kept = String.UnicodeScalarView(scalars.prefix(WorkbookEncoding.maximumCellCharacters - 1))
            kept.append("…")
            return String(kept)
        }

        mutating func close() throws {
            guard !closed else { return }
            closed = true
            defer { free(temporaryDirectory) }
            try Self.check(workbook_close(workbook), "the workbook")
        }
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
