import Crypto
import Foundation
import KakehashiShared

/// `kakehashi-server export`: writes one profile's files and their manifest into a directory.
///
/// The data files depend only on the log and the arguments, so the same log and arguments give
/// byte-identical files; only `manifest.json` records when it was made. Each file is written to
/// a temporary name and renamed, and the manifest goes last: a directory with a manifest holds
/// a complete export.
public struct Exporter: Sendable {
    public struct Options: Sendable {
        public var profile: ExportProfile
        public var format: ExportFormat
        public var labels: ExportTable.Labels
        public var fiscalYear: Int?
        public var since: Int64?
        public var directory: String

        public init(
            profile: ExportProfile, format: ExportFormat = .csv, labels: ExportTable.Labels = .ja,
            fiscalYear: Int? = nil, since: Int64? = nil, directory: String
        ) {
            self.profile = profile
            self.format = format
            self.labels = labels
            self.fiscalYear = fiscalYear
            self.since = since
            self.directory = directory
        }
    }

    /// The export schema version in every manifest; raised when a column changes meaning.
    public static let schemaVersion = 1
    public static let manifestName = "manifest.json"

    let store: any ChangeLogStore
    let now: @Sendable () -> Int64
    /// The events a streaming export reads at a time (tests make pages small).
    var pageSize = Exporter.defaultPageSize

    public init(store: any ChangeLogStore, now: @escaping @Sendable () -> Int64 = serverWallMillis) {
        self.store = store
        self.now = now
    }

    /// Checks the options that need no store: a bad value changes nothing.
    /// - Throws: `KakehashiError` (`.invalidData`) naming `fiscal-year`, `since` or `out`.
    public static func validate(_ options: Options) throws(KakehashiError) {
        if let year = options.fiscalYear,
            !(CalendarDate.validYears.lowerBound..<CalendarDate.validYears.upperBound)
                .contains(year)
        {
            throw KakehashiError.invalid(
                "fiscal-year", "\(year) is not a fiscal year; give the year it starts in April, e.g. 2026")
        }
        if let since = options.since, since < 0 {
            throw KakehashiError.invalid("since", "a cursor is a sequence number of 0 or more")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: options.directory, isDirectory: &isDirectory), !isDirectory.boolValue
        {
            throw KakehashiError.invalid("out", "'\(options.directory)' exists and is not a directory")
        }
    }

    /// Writes the export and returns its manifest.
    ///
    /// With `since`, each row file holds the rows that differ between the export as it would
    /// have been at that cursor and as it is now — new records, changed ones, and rows whose
    /// redaction changed (a level raised, a program moved) — and the manifest lists the rows
    /// that are gone (`withdrawn`). The indicator files are always whole.
    ///
    /// The events are streamed (`EventExportStream`): they are read from the store a page at a
    /// time and written as they come, to the events file (CSV, JSON Lines) or the workbook's events
    /// sheet (xlsx), so its memory grows with the cases, not the events; an incremental export
    /// also holds what changed after its cursor (`Docs/exports.md`, "Scale").
    /// - Throws: `KakehashiError` (`.invalidData`) for a bad `--since`, `--fiscal-year` or `--out`.
    public func run(_ options: Options) async throws -> ExportManifest {
        try Self.validate(options)
        let existed = FileManager.default.fileExists(atPath: options.directory)
        try Self.createDirectory(options.directory)
        do {
            if options.format == .xlsx { return try await streamWorkbook(options) }
            return try await streamFiles(options)
        } catch {
            // A refused export (a cursor ahead of the log) leaves no directory it made behind;
            // rmdir(2) removes it only while it is empty.
            if !existed { rmdir(options.directory) }
            throw error
        }
    }

    /// A workbook whose events sheet is filled as the events are read; its other sheets, and its
    /// information sheet, are written after.
    private func streamWorkbook(_ options: Options) async throws -> ExportManifest {
        let workbook = try WorkbookWriter(
            path: Self.temporaryPath(options.directory, WorkbookEncoding.fileName(options.profile)),
            labels: options.labels, tables: Self.tableNames)
        do {
            let stream = EventExportStream(options: options, writer: try workbook.rows(of: ExportRows.emptyEvents))
            let streamed = try await streamEvents(into: stream, options)
            for table in streamed.tables { try workbook.write(table) }
            try Self.prepare(directory: options.directory)
            var information = Self.information(options, streamed.data, streamed.latestMillis)
            information.withdrawn = streamed.withdrawn
            let file = try Self.closeAndPlace(workbook, options, information: information)
            return try finish(options, data: streamed.data, files: [file], withdrawn: streamed.withdrawn)
        } catch {
            workbook.discard()
            throw error
        }
    }

    /// Six CSV or JSON Lines files: the events file written as the events are read, the others
    /// after.
    private func streamFiles(_ options: Options) async throws -> ExportManifest {
        let eventsFile = try ExportFileWriter(
            ExportRows.emptyEvents, format: options.format, labels: options.labels, directory: options.directory)
        do {
            let stream = EventExportStream(options: options, writer: eventsFile)
            let streamed = try await streamEvents(into: stream, options)
            var written = stream.writer
            let events = try written.finish()
            try Self.prepare(directory: options.directory)
            try Self.place(written.temporary, in: options.directory, name: events.name)
            var files = try streamed.tables.map { try Self.write($0, options) }
            files.insert(events, at: 1)
            return try finish(options, data: streamed.data, files: files, withdrawn: streamed.withdrawn)
        } catch {
            try? FileManager.default.removeItem(atPath: eventsFile.temporary)
            throw error
        }
    }

    /// What `streamEvents` returns besides the event rows it wrote.
    private struct Streamed {
        let data: ReportData
        let latestMillis: Int64
        /// The other tables in the export's order: cases, organizations, indicators, referrals,
        /// good practices (of an incremental export, the rows that differ from its cursor's).
        let tables: [ExportTable]
        /// For an incremental export, by row file: the keys of rows withdrawn since the cursor.
        let withdrawn: [String: [String]]?
    }

    /// Reads the log into `stream`, which writes the event rows, and makes the other tables.
    private func streamEvents<Writer>(
        into stream: EventExportStream<Writer>, _ options: Options
    ) async throws -> Streamed {
        try await store.snapshot(
            entities: LogSnapshot.reportingEntities.filter { $0 != .event }, streaming: .event, since: options.since,
            pageSize: pageSize, into: stream)
        guard let now = stream.now, let rows = now.rows, let counting = stream.counting, stream.complete,
            (stream.earlier == nil) == (options.since == nil)
        else { throw KakehashiError(.internalFailure, "the store ended the event stream early") }
        let indicators = counting.report(fiscalYear: options.fiscalYear, today: now.data.asOf)
        var rowTables = [rows.cases(now.facts), rows.organizations(now.facts), rows.goodPractices(now.facts)]
        var withdrawn: [String: [String]]?
        if let earlier = stream.earlier, let earlierRows = earlier.rows {
            let earlierTables = [
                earlierRows.cases(earlier.facts), earlierRows.organizations(earlier.facts),
                earlierRows.goodPractices(earlier.facts),
            ]
            var gone = [ExportRows.emptyEvents.name: stream.withdrawn]
            for index in rowTables.indices {
                let (changed, removed) = rowTables[index].changes(since: earlierTables[index])
                rowTables[index] = changed
                gone[changed.name] = removed
            }
            withdrawn = gone
        }
        let tables = rowTables.prefix(2) + [indicators.table(), indicators.referralTable()] + rowTables.suffix(1)
        return Streamed(
            data: now.data, latestMillis: stream.latestMillis, tables: Array(tables), withdrawn: withdrawn)
    }

    /// The whole-snapshot path: every table in memory, the reference the streaming path is tested
    /// against (`ExportStreamingTests`).
    func runInMemory(_ options: Options) async throws -> ExportManifest {
        let snapshot = try await store.snapshot(entities: LogSnapshot.reportingEntities, since: options.since)
        let data = ReportData(snapshot)
        let rows = ExportRows(data: data, profile: options.profile, fiscalYear: options.fiscalYear).tables()
        let indicators = IndicatorEngine.compute(
            data, fiscalYear: options.fiscalYear, ministry: options.profile.indicatorMinistry, today: data.asOf)
        var rowTables = [rows.cases, rows.events, rows.organizations, rows.goodPractices]
        var withdrawn: [String: [String]]?
        if let earlierSnapshot = snapshot.atSince {
            let earlier = ExportRows(
                data: ReportData(earlierSnapshot), profile: options.profile, fiscalYear: options.fiscalYear
            ).tables()
            let earlierTables = [earlier.cases, earlier.events, earlier.organizations, earlier.goodPractices]
            var gone: [String: [String]] = [:]
            for index in rowTables.indices {
                let (changed, removed) = rowTables[index].changes(since: earlierTables[index])
                rowTables[index] = changed
                gone[changed.name] = removed
            }
            withdrawn = gone
        }
        let tables = Array(
            rowTables.prefix(3) + [indicators.table(), indicators.referralTable()] + rowTables.suffix(1))

        try Self.prepare(directory: options.directory)
        var files: [ExportManifest.File] = []
        if options.format == .xlsx {
            let workbook = try WorkbookWriter(
                path: Self.temporaryPath(options.directory, WorkbookEncoding.fileName(options.profile)),
                labels: options.labels, tables: tables.map(\.name))
            do {
                for table in tables { try workbook.write(table) }
                var information = Self.information(options, data, snapshot.latest?.millis ?? 0)
                information.withdrawn = withdrawn
                files.append(try Self.closeAndPlace(workbook, options, information: information))
            } catch {
                workbook.discard()
                throw error
            }
        } else {
            for table in tables { files.append(try Self.write(table, options)) }
        }
        return try finish(options, data: data, files: files, withdrawn: withdrawn)
    }

    /// Events are read from the store this many at a time.
    static let defaultPageSize = 1_000

    static let generator = "kakehashi-server \(KakehashiVersion.current)"

    static func cursor(_ options: Options, _ data: ReportData) -> ExportManifest.CursorRange {
        ExportManifest.CursorRange(from: options.since ?? 0, to: data.head)
    }

    /// What a workbook's information sheet says of a full export (`withdrawn` is added for an
    /// incremental one).
    static func information(
        _ options: Options, _ data: ReportData, _ latestMillis: Int64
    ) -> WorkbookEncoding.Information {
        WorkbookEncoding.Information(
            profile: options.profile, labels: options.labels, fiscalYear: options.fiscalYear,
            cursor: cursor(options, data), incremental: options.since != nil, asOf: data.asOf,
            asOfMillis: latestMillis, generator: generator, withdrawn: nil)
    }

    /// Closes a workbook whose sheets are all written, with its information sheet, and renames it
    /// into place: its manifest entry, with its sheets.
    static func closeAndPlace(
        _ workbook: WorkbookWriter, _ options: Options, information: WorkbookEncoding.Information
    ) throws -> ExportManifest.File {
        let sheets = try workbook.close(information)
        let (bytes, digest) = try sha256(ofFile: workbook.path)
        let name = WorkbookEncoding.fileName(options.profile)
        try place(workbook.path, in: options.directory, name: name)
        return .init(name: name, rows: sheets.map(\.rows).reduce(0, +), bytes: bytes, sha256: digest, sheets: sheets)
    }

    /// Encodes a whole table as CSV or JSON Lines and writes it: its manifest entry.
    static func write(_ table: ExportTable, _ options: Options) throws -> ExportManifest.File {
        let name = "\(table.name).\(options.format.fileExtension)"
        let bytes = try TableEncoding.encode(table, as: options.format, labels: options.labels)
        try write(bytes, to: options.directory, name: name)
        return .init(name: name, rows: table.rows.count, bytes: bytes.count, sha256: sha256(bytes))
    }

    /// Writes the manifest, last, and returns it.
    private func finish(
        _ options: Options, data: ReportData, files: [ExportManifest.File], withdrawn: [String: [String]]?
    ) throws -> ExportManifest {
        let manifest = ExportManifest(
            profile: options.profile.rawValue, format: options.format.rawValue, labels: options.labels.rawValue,
            fiscalYear: options.fiscalYear, incremental: options.since != nil,
            cursor: Self.cursor(options, data), asOf: data.asOf.description, schemaVersion: Self.schemaVersion,
            generator: Self.generator, generatedAt: Self.timestamp(millis: now()), files: files, withdrawn: withdrawn)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try Self.write(try encoder.encode(manifest) + Data("\n".utf8), to: options.directory, name: Self.manifestName)
        return manifest
    }

    /// The tables of an export, in the order of its files and of a workbook's sheets.
    static let tableNames = ["cases", "events", "organizations", "indicators", "referrals", "good-practices"]

    /// The names every export may write, in any format.
    static let fileNames: [String] =
        tableNames.flatMap { name in
            [ExportFormat.csv, .jsonl].map { "\(name).\($0.fileExtension)" }
        } + ExportProfile.allCases.map(WorkbookEncoding.fileName)

    static func sha256(_ bytes: Data) -> String { hex(SHA256.hash(data: bytes)) }

    /// The size and SHA-256 of a file, read a megabyte at a time.
    static func sha256(ofFile path: String) throws -> (bytes: Int, sha256: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw KakehashiError.invalid("out", "cannot read \(path)")
        }
        defer { try? handle.close() }
        var hash = SHA256()
        var bytes = 0
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hash.update(data: chunk)
                bytes += chunk.count
            }
        } catch {
            throw KakehashiError.invalid("out", "cannot read \(path): \(error.localizedDescription)")
        }
        return (bytes, hex(hash.finalize()))
    }

    static func hex(_ digest: SHA256Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    /// Creates the directory when missing.
    static func createDirectory(_ directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw KakehashiError.invalid("out", "cannot prepare '\(directory)': \(error.localizedDescription)")
        }
    }

    /// Creates the directory when missing. In an existing one, removes the old manifest first
    /// (until the new one is written the directory claims no complete export), then every file an
    /// earlier export wrote, so no file of another format or run is left beside the new ones.
    static func prepare(directory: String) throws {
        try createDirectory(directory)
        let manager = FileManager.default
        do {
            for name in [manifestName] + fileNames {
                let path = directory + "/" + name
                if manager.fileExists(atPath: path) { try manager.removeItem(atPath: path) }
            }
        } catch {
            throw KakehashiError.invalid("out", "cannot prepare '\(directory)': \(error.localizedDescription)")
        }
    }

    /// The temporary name a file is written under before `place` renames it.
    static func temporaryPath(_ directory: String, _ name: String) -> String {
        directory + "/.\(name).partial"
    }

    /// Writes `bytes` to a temporary file beside `name` and renames it into place.
    static func write(_ bytes: Data, to directory: String, name: String) throws {
        let temporary = temporaryPath(directory, name)
        do {
            try bytes.write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw KakehashiError.invalid("out", "cannot write \(temporary): \(error.localizedDescription)")
        }
        try place(temporary, in: directory, name: name)
    }

    /// Renames a complete file into place (rename(2) replaces atomically).
    static func place(_ temporary: String, in directory: String, name: String) throws {
        let path = directory + "/" + name
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            throw KakehashiError.invalid("out", "cannot rename \(temporary) to \(path): \(reason)")
        }
    }

    /// `millis` as an ISO 8601 time in Japan.
    public static func timestamp(millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "Asia/Tokyo")
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}

/// `manifest.json`: what an export holds, from where in the log, and a SHA-256 of each file.
public struct ExportManifest: Codable, Sendable, Hashable {
    public struct File: Codable, Sendable, Hashable {
        public let name: String
        /// The data rows of the file (of a workbook: of all its sheets).
        public let rows: Int
        public let bytes: Int
        public let sha256: String
        /// For a workbook, its sheets in order after the information sheet: the table's name,
        /// the sheet's title and its data rows. Absent for CSV and JSON Lines.
        public let sheets: [Sheet]?

        public init(name: String, rows: Int, bytes: Int, sha256: String, sheets: [Sheet]? = nil) {
            self.name = name
            self.rows = rows
            self.bytes = bytes
            self.sha256 = sha256
            self.sheets = sheets
        }
    }

    public struct Sheet: Codable, Sendable, Hashable {
        public let name: String
        public let title: String
        public let rows: Int
    }

    /// Log positions: the export holds what changed after `from` up to and including `to`; the
    /// next incremental export passes `to` as `--since`.
    public struct CursorRange: Codable, Sendable, Hashable {
        public let from: Int64
        public let to: Int64
    }

    public let profile: String
    public let format: String
    public let labels: String
    public let fiscalYear: Int?
    public let incremental: Bool
    public let cursor: CursorRange
    /// The Japan-time day of the newest change in the log; indicators for the running fiscal
    /// year count stages as of this day.
    public let asOf: String
    public let schemaVersion: Int
    public let generator: String
    public let generatedAt: String
    public let files: [File]
    /// For incremental exports, by file (`cases`, `events`, `organizations`, `good-practices`):
    /// the keys of rows that were in the export at `cursor.from` and are not now (deleted, or no
    /// longer in this profile). Null for a full export.
    public let withdrawn: [String: [String]]?

    enum CodingKeys: String, CodingKey {
        case profile, format, labels, fiscalYear, incremental, cursor, asOf, schemaVersion, generator, generatedAt
        case files, withdrawn
    }

    /// Absent values are written as `null`, so every manifest has the same keys.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(profile, forKey: .profile)
        try container.encode(format, forKey: .format)
        try container.encode(labels, forKey: .labels)
        try container.encode(fiscalYear, forKey: .fiscalYear)
        try container.encode(incremental, forKey: .incremental)
        try container.encode(cursor, forKey: .cursor)
        try container.encode(asOf, forKey: .asOf)
        try container.encode(schemaVersion, forKey: .schemaVersion)
        try container.encode(generator, forKey: .generator)
        try container.encode(generatedAt, forKey: .generatedAt)
        try container.encode(files, forKey: .files)
        try container.encode(withdrawn, forKey: .withdrawn)
    }
}
