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
    /// (`WorkbookEncoding`).
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
            throw KakehashiError(.internalFailure, "a workbook holds every table; use WorkbookEncoding.encode")
        }
    }

    /// CSV through CSV.swift (quoting by RFC 4180), with a BOM and a CRLF after every record.
    public static func csv(_ table: ExportTable, labels: ExportTable.Labels) throws -> Data {
        let stream = OutputStream.toMemory()
        let writer = try CSVWriter(stream: stream, newline: .crlf)
        try writer.write(row: table.header(labels))
        for row in table.rows { try writer.write(row: row.map { $0.csvText(labels) }) }
        writer.stream.close()
        guard let body = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data else {
            throw KakehashiError(.internalFailure, "the CSV writer produced no data for \(table.name)")
        }
        return byteOrderMark + body + Data("\r\n".utf8)
    }

    /// One JSON object per line, keys sorted, `\n` after each.
    public static func jsonLines(_ table: ExportTable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for row in table.rows {
            var object: [String: ExportTable.Cell] = [:]
            for (column, cell) in zip(table.columns, row) { object[column.key] = cell }
            data += try encoder.encode(object)
            data.append(0x0A)
        }
        return data
    }
}
