import Crypto
import Foundation
import KakehashiShared

/// One CSV or JSON Lines file of an export written a few rows at a time, hashed (SHA-256) and
/// counted as it is written: the same bytes `TableEncoding` gives the whole table, without
/// holding it. The file is written under a temporary name; `Exporter` renames it into place.
struct ExportFileWriter: ExportRowWriter {
    /// The file's columns; its rows stay empty.
    let table: ExportTable
    let format: ExportFormat
    let labels: ExportTable.Labels
    /// Where the rows are written until the file is complete.
    let temporary: String
    private let handle: FileHandle
    private var hash = SHA256()
    private var pending: [[ExportTable.Cell]] = []
    private var bytes = 0
    private var rows = 0

    /// Rows are encoded and written this many at a time.
    static let batch = 512

    var name: String { "\(table.name).\(format.fileExtension)" }

    /// Creates the temporary file in `directory` and writes the CSV header.
    init(_ table: ExportTable, format: ExportFormat, labels: ExportTable.Labels, directory: String) throws {
        guard format != .xlsx else {
            throw KakehashiError(.internalFailure, "a workbook is written by WorkbookWriter")
        }
        self.table = table
        self.format = format
        self.labels = labels
        temporary = Exporter.temporaryPath(directory, "\(table.name).\(format.fileExtension)")
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let handle = FileHandle(forWritingAtPath: temporary)
        else { throw KakehashiError.invalid("out", "cannot create \(temporary)") }
        self.handle = handle
        if format == .csv { try write(TableEncoding.csvStart(table, labels: labels)) }
    }

    /// Appends a row given as column key → cell.
    mutating func append(_ cells: [String: ExportTable.Cell]) throws {
        pending.append(table.row(cells))
        rows += 1
        if pending.count >= Self.batch { try flush() }
    }

    /// Writes what is pending and closes the file: its manifest entry.
    mutating func finish() throws -> ExportManifest.File {
        try flush()
        do { try handle.close() } catch {
            throw KakehashiError.invalid("out", "cannot write \(temporary): \(error.localizedDescription)")
        }
        return .init(name: name, rows: rows, bytes: bytes, sha256: Exporter.hex(hash.finalize()))
    }

    private mutating func flush() throws {
        guard !pending.isEmpty else { return }
        var data = Data()
        switch format {
        case .csv:
            data = try TableEncoding.csvRecords(pending.map { TableEncoding.csvFields($0, labels: labels) })
        case .jsonl, .xlsx:
            let encoder = TableEncoding.jsonEncoder
            for row in pending { data += try TableEncoding.jsonLine(row, columns: table.columns, encoder: encoder) }
        }
        pending.removeAll(keepingCapacity: true)
        try write(data)
    }

    private mutating func write(_ data: Data) throws {
        do { try handle.write(contentsOf: data) } catch {
            throw KakehashiError.invalid("out", "cannot write \(temporary): \(error.localizedDescription)")
        }
        hash.update(data: data)
        bytes += data.count
    }
}
