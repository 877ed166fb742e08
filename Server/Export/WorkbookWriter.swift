import CXlsxWriter
import Foundation
import KakehashiShared

/// One export workbook written a row at a time through libxlsxwriter: an information sheet, then
/// a sheet per table with typed cells (ids and 法人番号 as text, dates as dates, yen as numbers
/// with a yen format, booleans as booleans), a bold frozen header row with a filter, and columns
/// as wide as their widest cell. Both export paths write workbooks with it: the streaming one
/// fills the events sheet as the store reads the events (`rows(of:)`), the in-memory one writes
/// whole tables (`write`).
///
/// The workbook is in libxlsxwriter's `constant_memory` mode, whose rules this type keeps:
/// - Each sheet's rows are written in ascending order: libxlsxwriter holds only the row being
///   written and writes it to the sheet's temporary file when the next one starts. `append`
///   numbers the rows itself, so a row can neither be skipped nor written twice.
/// - Text is written inline in its cell (`inlineStr`), not to a shared string table.
/// - Sheets are independent: each has its own temporary file, so a sheet may be filled after a
///   later one (the events sheet is filled first when streaming).
/// - What is known only once every row is written is given at `close`: the information sheet
///   (first in the workbook, filled last, with each sheet's row count), each data sheet's column
///   widths, frozen header and filter range, and the document properties. libxlsxwriter keeps
///   them apart from the rows and writes them into the sheets' XML when the workbook is closed.
///
/// The same tables and information give the same bytes: the workbook's creation time is the
/// log's newest change, never the clock (libxlsxwriter dates the zip entries 1980-01-01).
final class WorkbookWriter {
    /// Where the workbook is written when it is closed.
    let path: String
    let labels: ExportTable.Labels
    private let workbook: UnsafeMutablePointer<lxw_workbook>
    /// libxlsxwriter's temporary files (each sheet's rows until the workbook is closed, then the
    /// parts of the zip): a directory of their own, removed when the workbook is closed.
    private let scratch: String
    /// The scratch directory's C string, kept until the workbook is closed.
    private let scratchPath: UnsafeMutablePointer<CChar>
    private let formats: Formats
    private let informationSheet: UnsafeMutablePointer<lxw_worksheet>
    private var sheets: [Sheet]
    private let sheetIndex: [String: Int]
    /// Set once libxlsxwriter has been asked to close the workbook (it is then freed).
    private var closed = false
    /// Set once the workbook is written whole at `path`.
    private var written = false

    /// Creates the workbook (written at `path` when it is closed) with an information sheet and,
    /// in this order, a sheet for each of `tables`.
    /// - Throws: `KakehashiError` (`.internalFailure`) when the scratch directory or the workbook
    ///   cannot be created.
    init(path: String, labels: ExportTable.Labels, tables: [String]) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kakehashi-xlsx-\(UUID().uuidString)"
        ).path
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        } catch {
            throw KakehashiError(.internalFailure, "cannot create \(scratch): \(error.localizedDescription)")
        }
        let scratchPath = strdup(scratch)!
        var options = lxw_workbook_options()
        options.constant_memory = UInt8(LXW_TRUE.rawValue)
        options.tmpdir = scratchPath
        guard let workbook = workbook_new_opt(path, &options) else {
            free(scratchPath)
            try? FileManager.default.removeItem(atPath: scratch)
            throw KakehashiError(.internalFailure, "libxlsxwriter cannot create a workbook at \(path)")
        }
        var sheets: [Sheet] = []
        var refused: String?
        let informationName = WorkbookEncoding.informationSheetName(labels)
        let informationSheet = workbook_add_worksheet(workbook, informationName)
        if informationSheet == nil { refused = informationName }
        for table in tables where refused == nil {
            let name = WorkbookEncoding.sheetName(table, labels)
            guard let worksheet = workbook_add_worksheet(workbook, name) else {
                refused = name
                break
            }
            sheets.append(Sheet(table: table, worksheet: worksheet))
        }
        guard let informationSheet, refused == nil else {
            _ = workbook_close(workbook)
            try? FileManager.default.removeItem(atPath: path)
            free(scratchPath)
            try? FileManager.default.removeItem(atPath: scratch)
            throw KakehashiError(.internalFailure, "libxlsxwriter refused the sheet name \(refused ?? "")")
        }
        self.path = path
        self.labels = labels
        self.workbook = workbook
        self.scratch = scratch
        self.scratchPath = scratchPath
        formats = Formats(workbook)
        self.informationSheet = informationSheet
        self.sheets = sheets
        sheetIndex = Dictionary(uniqueKeysWithValues: sheets.enumerated().map { ($1.table, $0) })
    }

    deinit { discard() }

    /// Writes the header of `table`'s sheet: once, before its rows.
    func start(_ table: ExportTable) throws {
        let index = try self.index(table.name)
        guard sheets[index].columns == nil else {
            throw KakehashiError(.internalFailure, "the sheet of \(table.name) was started twice")
        }
        var sheet = sheets[index]
        sheet.columns = table.columns.count
        sheet.styles = table.columns.map { column in
            column.key.hasSuffix("_yen") ? .yen : column.key == "fiscal_year" ? .plain : .standard
        }
        sheet.widths = [Double](repeating: 0, count: table.columns.count)
        try writeHeader(sheet.worksheet, table.header(labels), widths: &sheet.widths)
        sheets[index] = sheet
    }

    /// Writes the next row of `table`'s sheet, started with `start`: its cells in column order.
    func append(_ row: [ExportTable.Cell], to table: String) throws {
        let index = try self.index(table)
        guard let columns = sheets[index].columns, row.count == columns else {
            throw KakehashiError(.internalFailure, "a row of \(row.count) cells for the sheet of \(table)")
        }
        sheets[index].rows += 1
        let number = lxw_row_t(sheets[index].rows)
        let worksheet = sheets[index].worksheet
        for (column, cell) in row.enumerated() {
            try write(
                worksheet, number, lxw_col_t(column), cell, style: sheets[index].styles[column],
                width: &sheets[index].widths[column])
        }
    }

    /// Writes a whole table to its sheet: the header, then every row.
    func write(_ table: ExportTable) throws {
        try start(table)
        for row in table.rows { try append(row, to: table.name) }
    }

    /// Fills the information sheet, sets every data sheet's widths, frozen header and filter, and
    /// writes the workbook at `path`: the data sheets in order, with their titles and rows.
    /// - Throws: `KakehashiError` (`.internalFailure`) when a sheet was never started or
    ///   libxlsxwriter refuses a cell or the file (the message names its error).
    func close(_ information: WorkbookEncoding.Information) throws -> [ExportManifest.Sheet] {
        if let unstarted = sheets.first(where: { $0.columns == nil }) {
            throw KakehashiError(.internalFailure, "the sheet of \(unstarted.table) has no header")
        }
        try writeInformation(information)
        for sheet in sheets { try finish(sheet) }
        try setProperties(information)
        closed = true
        defer { removeScratch() }
        try Self.check(workbook_close(workbook), "the workbook")
        written = true
        return sheets.map {
            .init(name: $0.table, title: WorkbookEncoding.sheetName($0.table, labels), rows: $0.rows)
        }
    }

    /// Gives the workbook up: frees it and removes what was written of it. Does nothing once
    /// `close` has written the workbook.
    func discard() {
        guard !written else { return }
        if !closed {
            closed = true
            // libxlsxwriter frees a workbook (and closes its temporary files) only by closing
            // it, which writes the file: it is written, then removed.
            _ = workbook_close(workbook)
            removeScratch()
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    private func removeScratch() {
        free(scratchPath)
        try? FileManager.default.removeItem(atPath: scratch)
    }

    private func index(_ table: String) throws -> Int {
        guard let index = sheetIndex[table] else {
            throw KakehashiError(.internalFailure, "the workbook has no sheet for \(table)")
        }
        return index
    }

    /// A data sheet: its table, and what its cells have told so far.
    private struct Sheet {
        let table: String
        let worksheet: UnsafeMutablePointer<lxw_worksheet>
        /// The number of columns, once the header is written.
        var columns: Int?
        var styles: [Style] = []
        /// The widest cell of each column so far, in Excel's character units.
        var widths: [Double] = []
        /// The data rows written: the last row's number (the header is row 0).
        var rows = 0
    }

    /// How an integer cell is shown: with separators, as yen, or as plain digits (years).
    private enum Style { case standard, yen, plain }

    private struct Formats {
        let header: UnsafeMutablePointer<lxw_format>
        let date: UnsafeMutablePointer<lxw_format>
        let yen: UnsafeMutablePointer<lxw_format>
        let integer: UnsafeMutablePointer<lxw_format>
        let plainInteger: UnsafeMutablePointer<lxw_format>

        init(_ workbook: UnsafeMutablePointer<lxw_workbook>) {
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
        }
    }

    private static func check(_ error: lxw_error, _ what: @autoclosure () -> String) throws {
        guard error != LXW_NO_ERROR else { return }
        let reason = String(cString: lxw_strerror(error))
        throw KakehashiError(.internalFailure, "libxlsxwriter refused \(what()): \(reason)")
    }

    /// The frozen header, the filter over every row, and the fitted widths of a data sheet.
    private func finish(_ sheet: Sheet) throws {
        worksheet_freeze_panes(sheet.worksheet, 1, 0)
        if let columns = sheet.columns, columns > 0 {
            try Self.check(
                worksheet_autofilter(sheet.worksheet, 0, 0, lxw_row_t(sheet.rows), lxw_col_t(columns - 1)),
                "the filter of \(sheet.table)")
        }
        try setWidths(sheet.worksheet, sheet.widths)
    }

    /// Document properties: strings are copied by libxlsxwriter; the creation time is the log's,
    /// so the bytes do not depend on when the export ran.
    private func setProperties(_ information: WorkbookEncoding.Information) throws {
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
        try Self.check(workbook_set_properties(workbook, &properties), "document properties")
    }

    /// The information sheet: what the export is, and how many rows each sheet holds.
    private func writeInformation(_ info: WorkbookEncoding.Information) throws {
        let sheet = informationSheet
        let ja = labels == .ja
        var rows: [(String, ExportTable.Cell)] = [
            (ja ? "プロファイル" : "profile", Self.profileCell(info.profile)),
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
        try writeHeaderCells(sheet, row: row, ja ? ["シート", "行数"] : ["sheet", "rows"])
        row += 1
        for table in sheets {
            try write(sheet, row, 0, .text(WorkbookEncoding.sheetName(table.table, labels)), width: &widths[0])
            try write(sheet, row, 1, .integer(Int64(table.rows)), width: &widths[1])
            row += 1
        }
        if let withdrawn = info.withdrawn {
            row += 1
            try writeHeaderCells(sheet, row: row, ja ? ["取り下げた行のシート", "キー"] : ["withdrawn_from", "key"])
            row += 1
            for table in sheets {
                for key in withdrawn[table.table] ?? [] {
                    try write(sheet, row, 0, .text(WorkbookEncoding.sheetName(table.table, labels)), width: &widths[0])
                    try write(sheet, row, 1, .text(key), width: &widths[1])
                    row += 1
                }
            }
        }
        try setWidths(sheet, widths)
    }

    private static func profileCell(_ profile: ExportProfile) -> ExportTable.Cell {
        let name =
            switch profile {
            case .cabinetOffice: "内閣府（全事業）"
            case .meti: "経済産業省"
            case .mext: "文部科学省"
            }
        return .code(profile.rawValue, label: name)
    }

    private func writeHeader(
        _ sheet: UnsafeMutablePointer<lxw_worksheet>, _ texts: [String], widths: inout [Double]
    ) throws {
        try writeHeaderCells(sheet, row: 0, texts)
        for (column, text) in texts.enumerated() {
            // Bold text and the filter button need a little more room.
            widths[column] = max(widths[column], Double(WorkbookEncoding.displayWidth(text)) + 3)
        }
    }

    /// `texts` in the header format, from the first column of `row`.
    private func writeHeaderCells(
        _ sheet: UnsafeMutablePointer<lxw_worksheet>, row: lxw_row_t, _ texts: [String]
    ) throws {
        for (column, text) in texts.enumerated() {
            try Self.check(
                worksheet_write_string(sheet, row, lxw_col_t(column), text, formats.header), "a header cell")
        }
    }

    private func setWidths(_ sheet: UnsafeMutablePointer<lxw_worksheet>, _ widths: [Double]) throws {
        for (column, width) in widths.enumerated() {
            let fitted = min(WorkbookEncoding.maximumColumnWidth, max(6, width + 1))
            try Self.check(
                worksheet_set_column(sheet, lxw_col_t(column), lxw_col_t(column), fitted, nil), "a column width")
        }
    }

    /// Writes one typed cell and widens its column to fit what Excel will show.
    private func write(
        _ sheet: UnsafeMutablePointer<lxw_worksheet>, _ row: lxw_row_t, _ column: lxw_col_t,
        _ cell: ExportTable.Cell, style: Style = .standard, width: inout Double
    ) throws {
        let shown: String
        switch cell {
        case .null:
            return
        case .integer(let value):
            let format = style == .yen ? formats.yen : style == .plain ? formats.plainInteger : formats.integer
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
            try Self.check(worksheet_write_datetime(sheet, row, column, &datetime, formats.date), "a date")
            shown = "2026/11/21"
        default:
            let text = WorkbookEncoding.clipped(cell.workbookText(labels))
            try Self.check(worksheet_write_string(sheet, row, column, text, nil), "a text cell")
            shown = text
        }
        width = max(width, Double(WorkbookEncoding.displayWidth(shown)))
    }
}

extension WorkbookWriter {
    /// A started sheet of the workbook as an `ExportRowWriter`: the events sheet of a streaming
    /// export, filled as the store reads the events.
    struct SheetRows: ExportRowWriter {
        let workbook: WorkbookWriter
        /// The sheet's table: its columns; its rows stay empty.
        let table: ExportTable

        func append(_ cells: [String: ExportTable.Cell]) throws {
            try workbook.append(table.row(cells), to: table.name)
        }
    }

    /// Writes the header of `table`'s sheet and gives the sheet to fill a row at a time.
    func rows(of table: ExportTable) throws -> SheetRows {
        try start(table)
        return SheetRows(workbook: self, table: table)
    }
}
