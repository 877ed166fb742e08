import CSV
import Foundation
import KakehashiShared

/// The file formats of an export.
public enum ExportFormat: String, Sendable, CommandLineChoice, Codable {
    /// RFC 4180 CSV in UTF-8 with a byte-order mark and CRLF line ends, so Excel opens it with
    /// the Japanese intact.
    case csv
    /// JSON Lines: one JSON object per row, field names as keys and codes as values.
    case jsonl
    /// One Excel workbook (`kakehashi-PROFILE.xlsx`) with a sheet per table and typed cells
    /// (`WorkbookWriter`).
    case xlsx

    public static let optionName = "format"

    public var fileExtension: String { rawValue }
}

/// Turns tables into file bytes; the same table always gives the same bytes.
public enum TableEncoding {
    static let byteOrderMark = Data([0xEF, 0xBB, 0xBF])

    public static func encode(_ table: ExportTable, as format: ExportFormat, labels: ExportTable.Labels) throws -> Data
    {
        switch format {
        case .csv: try csv(table, labels: labels)
        case .jsonl: try jsonLines(table)
        case .xlsx:
            throw KakehashiError(.internalFailure, "a workbook holds every table; use WorkbookWriter")
        }
    }

    /// CSV through CSV.swift (quoting by RFC 4180), with a BOM and a CRLF after every record.
    public static func csv(_ table: ExportTable, labels: ExportTable.Labels) throws -> Data {
        byteOrderMark + (try csvRecords([table.header(labels)] + table.rows.map { csvFields($0, labels: labels) }))
    }

    /// The start of a CSV file: the byte-order mark and the header record.
    static func csvStart(_ table: ExportTable, labels: ExportTable.Labels) throws -> Data {
        byteOrderMark + (try csvRecords([table.header(labels)]))
    }

    /// A row's fields as CSV text.
    static func csvFields(_ row: [ExportTable.Cell], labels: ExportTable.Labels) -> [String] {
        row.map { $0.csvText(labels) }
    }

    /// CSV records, each followed by a CRLF: a file's records may be encoded a few at a time and
    /// joined, giving the same bytes as all at once.
    static func csvRecords(_ records: [[String]]) throws -> Data {
        guard !records.isEmpty else { return Data() }
        let stream = OutputStream.toMemory()
        let writer = try CSVWriter(stream: stream, newline: .crlf)
        for record in records { try writer.write(row: record) }
        writer.stream.close()
        guard let body = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data else {
            throw KakehashiError(.internalFailure, "the CSV writer produced no data")
        }
        return body + Data("\r\n".utf8)
    }

    /// One JSON object per line, keys sorted, `\n` after each.
    public static func jsonLines(_ table: ExportTable) throws -> Data {
        let encoder = jsonEncoder
        var data = Data()
        for row in table.rows { data += try jsonLine(row, columns: table.columns, encoder: encoder) }
        return data
    }

    /// One row as a JSON object with sorted keys, and `\n`; `encoder` is a `jsonEncoder`.
    static func jsonLine(_ row: [ExportTable.Cell], columns: [ExportTable.Column], encoder: JSONEncoder) throws -> Data
    {
        var object: [String: ExportTable.Cell] = [:]
        for (column, cell) in zip(columns, row) { object[column.key] = cell }
        return try encoder.encode(object) + Data([0x0A])
    }

    /// The encoder of JSON Lines rows: keys sorted, slashes as they are.
    static var jsonEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
