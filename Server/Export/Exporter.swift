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

    public init(store: any ChangeLogStore, now: @escaping @Sendable () -> Int64 = serverWallMillis) {
        self.store = store
        self.now = now
    }

    /// Writes the export and returns its manifest.
    /// - Throws: `KakehashiError` (`.invalidData`) for a bad `--since` or `--out`.
    public func run(_ options: Options) async throws -> ExportManifest {
        if let year = options.fiscalYear, !CalendarDate.validYears.contains(year) {
            throw KakehashiError.invalid(
                "fiscal-year", "\(year) is not a fiscal year; give the year it starts in April, e.g. 2026")
        }
        if let since = options.since, since < 0 {
            throw KakehashiError.invalid("since", "a cursor is a sequence number of 0 or more")
        }
        try Self.prepare(directory: options.directory)
        let snapshot = try await store.snapshot(entities: LogSnapshot.reportingEntities, since: options.since)
        let data = ReportData(snapshot)
        let rows = ExportRows(data: data, profile: options.profile, fiscalYear: options.fiscalYear)
        let indicators = IndicatorEngine.compute(
            data, fiscalYear: options.fiscalYear,
            ministry: options.profile.coversAllPrograms ? nil : options.profile.ministry,
            today: CalendarDate(japanTimeOf: now()))
        let tables = [
            rows.cases(), rows.events(), rows.organizations(), indicators.table(), indicators.referralTable(),
            rows.goodPractices(),
        ]

        var files: [ExportManifest.File] = []
        for table in tables {
            let name = "\(table.name).\(options.format.fileExtension)"
            let bytes = try TableEncoding.encode(table, as: options.format, labels: options.labels)
            try Self.write(bytes, to: options.directory, name: name)
            files.append(
                .init(
                    name: name, rows: table.rows.count, bytes: bytes.count,
                    sha256: SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()))
        }
        var deleted: ExportManifest.Deleted?
        if let changed = data.changedSince {
            func pick(_ entity: Entity) -> [String] { (data.deleted[entity] ?? []).filter(changed.contains) }
            deleted = .init(cases: pick(.case), events: pick(.event), organizations: pick(.organization))
        }
        let manifest = ExportManifest(
            profile: options.profile.rawValue, format: options.format.rawValue, labels: options.labels.rawValue,
            fiscalYear: options.fiscalYear, incremental: options.since != nil,
            cursor: .init(from: options.since ?? 0, to: data.head), schemaVersion: Self.schemaVersion,
            generator: "kakehashi-server \(KakehashiVersion.current)",
            generatedAt: Self.timestamp(millis: now()), files: files, deleted: deleted)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try Self.write(try encoder.encode(manifest) + Data("\n".utf8), to: options.directory, name: Self.manifestName)
        return manifest
    }

    /// Creates the directory when missing.
    static func prepare(directory: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw KakehashiError.invalid("out", "'\(directory)' exists and is not a directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw KakehashiError.invalid("out", "cannot create '\(directory)': \(error.localizedDescription)")
        }
    }

    /// Writes `bytes` to a temporary file beside `name` and renames it into place.
    static func write(_ bytes: Data, to directory: String, name: String) throws {
        let url = URL(fileURLWithPath: directory).appendingPathComponent(name)
        let temporary = URL(fileURLWithPath: directory).appendingPathComponent(".\(name).partial")
        do {
            try bytes.write(to: temporary)
            if FileManager.default.fileExists(atPath: url.path) { _ = try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: temporary, to: url)
        } catch {
            throw KakehashiError.invalid("out", "cannot write \(url.path): \(error.localizedDescription)")
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
        public let rows: Int
        public let bytes: Int
        public let sha256: String
    }

    /// Log positions: the export holds what changed after `from` up to and including `to`; the
    /// next incremental export passes `to` as `--since`.
    public struct CursorRange: Codable, Sendable, Hashable {
        public let from: Int64
        public let to: Int64
    }

    /// Records deleted after the `--since` cursor (incremental exports only).
    public struct Deleted: Codable, Sendable, Hashable {
        public let cases: [String]
        public let events: [String]
        public let organizations: [String]
    }

    public let profile: String
    public let format: String
    public let labels: String
    public let fiscalYear: Int?
    public let incremental: Bool
    public let cursor: CursorRange
    public let schemaVersion: Int
    public let generator: String
    public let generatedAt: String
    public let files: [File]
    public let deleted: Deleted?
}
