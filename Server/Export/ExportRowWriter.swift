import KakehashiShared

/// Where a streaming export writes a table's rows, one at a time and in order, without holding
/// them: a CSV or JSON Lines file (`ExportFileWriter`) or a workbook's sheet
/// (`WorkbookWriter.SheetRows`). `EventExportStream` writes the events to one.
protocol ExportRowWriter {
    /// Writes the next row, given as column key → cell; missing keys are empty cells.
    mutating func append(_ cells: [String: ExportTable.Cell]) throws
}
