import Foundation
import KakehashiShared
import Testing

@testable import KakehashiServer

/// A streaming export (events read a page at a time and written as they come) gives the same
/// files and manifest as the whole-snapshot path, which builds every table in memory with the same
/// `ExportRows` rules: on a log with all four levels, an event moved between cases, a deleted case
/// and a deleted event, advisors of two ministries and events of either on each other's cases.
@Suite struct ExportStreamingTests {
    static let today: Int64 = ExportTests.today
    static let meti = "01900000-0000-7000-8000-0000000000a1"
    static let mext = "01900000-0000-7000-8000-0000000000a2"

    /// The log; `events` is how many event records it writes (deleted and moved ones included).
    struct Log {
        var changes: [Change] = []
        var events = 0
        private var makers: [String: ChangeMaker] = [:]
        private var states: [String: RecordState] = [:]
        private var millis = ExportTests.fiscal2026Start - 86_400_000 * 40

        init() {
            // The programs in the log itself, not seeded by the clock: the log's newest change,
            // and so every file, is the same whenever it is written.
            for program in AdminService.initialPrograms {
                write(.program, program.id, ["name": .string(program.name), "ministry": .string(program.ministry)])
            }
            write(
                .advisor, ExportStreamingTests.meti,
                [
                    "name": .string("山田太郎"), "role": .string("business-producer"),
                    "program": .string("business-production"), "prefecture": .string("kanagawa"), "active": .bool(true),
                ], by: ExportStreamingTests.meti)
            write(
                .advisor, ExportStreamingTests.mext,
                [
                    "name": .string("佐藤花子"), "role": .string("matching-planner"),
                    "program": .string("matching-planner"), "prefecture": .string("miyagi"), "active": .bool(true),
                ], by: ExportStreamingTests.mext)
            let company = id("b1")
            let university = id("b2")
            write(
                .organization, company,
                ["name": .string("株式会社川崎精密製作所"), "kind": .string("sme"), "prefecture": .string("kanagawa")])
            write(
                .organization, university,
                ["name": .string("国立大学法人東北大学"), "kind": .string("university"), "prefecture": .string("miyagi")])
            let levels = ["open", "confidential", "strict", "secret"]
            let programs = ["business-production", "matching-planner"]
            var cases: [String] = []
            for (index, level) in (levels + levels).enumerated() {
                let caseID = id("c\(index)")
                cases.append(caseID)
                write(
                    .case, caseID,
                    [
                        "title": .string("案件\(index) \(level)"), "summary": .string("概要\(index)"),
                        "kind": .string("consultation"), "stage": .string(index % 3 == 0 ? "matching" : "intake"),
                        "level": .string(level), "program": .string(programs[index / 4]),
                        "owner": .string(index % 2 == 0 ? ExportStreamingTests.meti : ExportStreamingTests.mext),
                        "good_practice": .bool(index % 3 != 2),
                    ])
                add(.case, caseID, "organizations", index % 2 == 0 ? company : university)
            }
            var eventIDs: [String] = []
            for index in 0..<40 {
                let eventID = id("e\(String(index, radix: 16))")
                eventIDs.append(eventID)
                let author = index % 3 == 0 ? ExportStreamingTests.mext : ExportStreamingTests.meti
                let kinds = ["visit", "consultation", "lesson", "matching", "referral", "note"]
                var values: [String: FieldValue] = [
                    "case": .string(cases[index % cases.count]), "kind": .string(kinds[index % kinds.count]),
                    "date": .string(index % 2 == 0 ? "2026-03-3\(index % 2)" : "2026-0\(4 + index % 5)-1\(index % 9)"),
                    "author": .string(author), "body": .string("記録\(index)：=打合せ, \"品質\"\n二行目"),
                ]
                if index % kinds.count == 4 {
                    values["referred_to"] = .string(
                        author == ExportStreamingTests.meti ? ExportStreamingTests.mext : ExportStreamingTests.meti)
                }
                write(.event, eventID, values, by: author)
                events += 1
            }
            // An event moved from an open case to a strict one, and one moved the other way.
            write(.event, eventIDs[0], ["case": .string(cases[2])], by: ExportStreamingTests.mext)
            write(.event, eventIDs[2], ["case": .string(cases[0])], by: ExportStreamingTests.meti)
            // A deleted case (its events stay in the log, on no live case) and a deleted event.
            delete(.case, cases[4])
            delete(.event, eventIDs[5])
            // A confidential case raised to strict after its events were written.
            write(.case, cases[5], ["level": .string("strict")])
        }

        func id(_ suffix: String) -> String {
            "01900000-0000-7000-8000-" + String(repeating: "0", count: 12 - suffix.count) + suffix
        }

        mutating func write(
            _ entity: Entity, _ record: String, _ values: [String: FieldValue], by author: String = meti
        ) {
            for (field, value) in values.sorted(by: { $0.key < $1.key }) {
                append(.set, entity, record, field, value, by: author)
            }
        }

        mutating func add(_ entity: Entity, _ record: String, _ field: String, _ element: String) {
            append(.add, entity, record, field, .string(element), by: ExportStreamingTests.meti)
        }

        mutating func delete(_ entity: Entity, _ record: String) {
            append(.delete, entity, record, nil, .bool(true), by: ExportStreamingTests.meti)
        }

        private mutating func append(
            _ op: Change.Operation, _ entity: Entity, _ record: String, _ field: String?, _ value: FieldValue,
            by author: String
        ) {
            millis += 3_600_000
            var maker =
                makers[author]
                ?? ChangeMaker(
                    clock: HybridClock(device: DeviceID("d-0000000000000" + author.suffix(3))!), author: author)
            let change = maker.make(
                op, entity: entity, record: record, field: field, value: value, state: states[record],
                wallMillis: millis)
            makers[author] = maker
            states[record, default: RecordState(entity: entity, id: record)].apply(change)
            changes.append(change)
        }
    }

    static func files(_ directory: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
        }
        return files
    }

    @Test(arguments: StoreKind.available)
    func streamingExportsAreByteIdenticalToTheInMemoryPath(_ kind: StoreKind) async throws {
        let store = try await RunningStore.open(kind.freshLocation(), logger: StoreKind.logger)
        let log = Log()
        _ = try await store.append(log.changes, viewer: nil, wallMillis: Self.today, onlyIfEmpty: false)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kakehashi-stream-\(UUID().uuidString)"
        )
        .path
        defer { try? FileManager.default.removeItem(atPath: work) }
        // Pages of 7 end mid-log; pages of the event count end with an empty page.
        for pageSize in [7, log.events] {
            var exporter = Exporter(store: store, now: { Self.today })
            exporter.pageSize = pageSize
            for profile in ExportProfile.allCases {
                for (format, labels) in [
                    (ExportFormat.csv, ExportTable.Labels.ja), (.csv, .en), (.jsonl, .ja), (.xlsx, .ja), (.xlsx, .en),
                ] {
                    for fiscalYear in [nil, 2025, 2026] {
                        let name = "\(pageSize)-\(profile.rawValue)-\(format.rawValue)-\(labels)-\(fiscalYear ?? 0)"
                        let streamed = Exporter.Options(
                            profile: profile, format: format, labels: labels, fiscalYear: fiscalYear,
                            directory: work + "/streamed-" + name)
                        var reference = streamed
                        reference.directory = work + "/reference-" + name
                        let manifest = try await exporter.run(streamed)
                        let expected = try await exporter.runInMemory(reference)
                        #expect(manifest == expected, "\(name): the manifests differ")
                        let files = try Self.files(streamed.directory)
                        #expect(files == (try Self.files(reference.directory)), "\(name): the files differ")
                        // Six data files, or one workbook; and the manifest (no temporary file left).
                        #expect(files.count == (format == .xlsx ? 2 : 7), "\(name): \(files.keys.sorted())")
                    }
                }
            }
        }
        // The log has rows of every kind to compare: redacted and full events, withdrawn cases.
        let jsonl = work + "/streamed-7-meti-jsonl-ja-0"
        let events = try String(contentsOfFile: jsonl + "/events.jsonl", encoding: .utf8)
        #expect(events.contains("\"redacted\":true") && events.contains("\"redacted\":false"))
        let cases = try String(contentsOfFile: jsonl + "/cases.jsonl", encoding: .utf8)
        #expect(!cases.contains(log.id("c3")) && !cases.contains(log.id("c4")), "secret and deleted cases")
        #expect(cases.contains(log.id("c6")), "MEXT's strict case, touched by a METI advisor's event")
        // The streamed workbook's events sheet holds the rows of events.jsonl, in its order.
        let eventIDs = events.split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String ?? ""
        }
        let book = try await Self.workbook(work + "/streamed-7-meti-xlsx-en-0/kakehashi-meti.xlsx")
        let sheet = try #require(book.first { $0.title == "events" })
        let idColumn = try #require(sheet.rows.first?.firstIndex { $0[2] == "id" })
        #expect(eventIDs.count > 10 && sheet.rows.dropFirst().map { $0[idColumn][2] } == eventIDs)
        await store.close()
    }

    /// An incremental export (`--since`) streams its events too, following the log at the cursor
    /// and now in the same pages, and gives the files and manifest of the whole-snapshot path:
    /// the same changed rows in the same order, the same withdrawn keys. Cursors: the empty log,
    /// mid-log, before the last five changes (two events moved, a case and an event deleted, a case
    /// raised to strict), before the last one, and the head (nothing changed).
    @Test(arguments: StoreKind.available)
    func incrementalStreamingExportsAreByteIdenticalToTheInMemoryPath(_ kind: StoreKind) async throws {
        let store = try await RunningStore.open(kind.freshLocation(), logger: StoreKind.logger)
        let log = Log()
        _ = try await store.append(log.changes, viewer: nil, wallMillis: Self.today, onlyIfEmpty: false)
        let work = Self.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let count = Int64(log.changes.count)
        var withdrawnSeen = Set<String>()
        for pageSize in [7, log.events] {
            var exporter = Exporter(store: store, now: { Self.today })
            exporter.pageSize = pageSize
            for since in [0, count / 3, count - 5, count - 1, count] {
                for profile in ExportProfile.allCases {
                    for (format, labels, fiscalYear) in [
                        (ExportFormat.csv, ExportTable.Labels.ja, Int?.none), (.jsonl, .en, 2026), (.xlsx, .ja, nil),
                    ] {
                        let name = "\(pageSize)-\(since)-\(profile.rawValue)-\(format.rawValue)-\(fiscalYear ?? 0)"
                        let streamed = Exporter.Options(
                            profile: profile, format: format, labels: labels, fiscalYear: fiscalYear, since: since,
                            directory: work + "/streamed-" + name)
                        var reference = streamed
                        reference.directory = work + "/reference-" + name
                        let manifest = try await exporter.run(streamed)
                        let expected = try await exporter.runInMemory(reference)
                        #expect(manifest == expected, "\(name): the manifests differ")
                        #expect(
                            try Self.files(streamed.directory) == (try Self.files(reference.directory)),
                            "\(name): the files differ")
                        #expect(manifest.incremental && manifest.cursor.from == since && manifest.cursor.to == count)
                        for (file, keys) in manifest.withdrawn ?? [:] where !keys.isEmpty { withdrawnSeen.insert(file) }
                        let events =
                            manifest.files.first { $0.name.hasPrefix("events") }?.rows
                            ?? manifest.files.first?.sheets?.first { $0.name == "events" }?.rows
                        if since == count { #expect(events == 0, "\(name): nothing changed after the head") }
                    }
                }
            }
        }
        // The cursors cover rows withdrawn from the case and event files (the deleted case, the
        // deleted event, events moved out of a profile's cases).
        #expect(withdrawnSeen.isSuperset(of: ["cases", "events"]), "\(withdrawnSeen)")
        // A cursor beyond the head is refused, like the whole-snapshot path's.
        await #expect {
            _ = try await Exporter(store: store).run(
                .init(profile: .meti, since: count + 1, directory: work + "/ahead"))
        } throws: { error in
            (error as? KakehashiError)?.field == "since"
        }
        #expect(!FileManager.default.fileExists(atPath: work + "/ahead"), "a refused export leaves no directory")
        await store.close()
    }

    /// `kakehashi-server indicators` reads the events a page at a time, and reports exactly what
    /// the whole-snapshot counting reports.
    @Test(arguments: StoreKind.available)
    func streamedIndicatorsEqualTheWholeSnapshotOnes(_ kind: StoreKind) async throws {
        let store = try await RunningStore.open(kind.freshLocation(), logger: StoreKind.logger)
        let log = Log()
        _ = try await store.append(log.changes, viewer: nil, wallMillis: Self.today, onlyIfEmpty: false)
        let data = ReportData(try await store.snapshot(entities: LogSnapshot.reportingEntities, since: nil))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for fiscalYear in [nil, 2025, 2026] {
            let whole = IndicatorEngine.compute(data, fiscalYear: fiscalYear, today: data.asOf)
            #expect(!whole.rows.isEmpty)
            for pageSize in [7, log.events] {
                let streamed = try await IndicatorEngine.compute(
                    from: store, fiscalYear: fiscalYear, pageSize: pageSize)
                #expect(try encoder.encode(streamed) == (try encoder.encode(whole)), "\(fiscalYear ?? 0) \(pageSize)")
            }
        }
        await store.close()
    }

    /// The files the previous build (the whole-snapshot export, before streaming) wrote for this
    /// log: `Tests/Fixtures/export-previous-build/PROFILE-FORMAT-LABELS-YEAR`, made by that build's
    /// `kakehashi-server export` on a SQLite store holding `Log().changes`.
    static let previousBuild = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/export-previous-build").path

    /// An exporter over a fresh store of `kind` holding `Log().changes`, reading events seven at a
    /// time so pages end inside every table.
    static func exporterOfTheLog(_ kind: StoreKind) async throws -> Exporter {
        let store = try await RunningStore.open(kind.freshLocation(), logger: StoreKind.logger)
        _ = try await store.append(Log().changes, viewer: nil, wallMillis: Self.today, onlyIfEmpty: false)
        var exporter = Exporter(store: store, now: { Self.today })
        exporter.pageSize = 7
        return exporter
    }

    /// A temporary directory's path, not yet made, for a test's exports.
    static func workDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kakehashi-stream-\(UUID().uuidString)").path
    }

    @Test(arguments: StoreKind.available)
    func streamingExportsWriteTheSameBytesAsThePreviousBuild(_ kind: StoreKind) async throws {
        let exporter = try await Self.exporterOfTheLog(kind)
        let work = Self.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let variants: [(ExportProfile, ExportFormat, ExportTable.Labels, Int?)] = [
            (.cabinetOffice, .csv, .ja, nil), (.meti, .jsonl, .ja, 2026), (.mext, .csv, .en, nil),
        ]
        for (profile, format, labels, fiscalYear) in variants {
            let name = "\(profile.rawValue)-\(format.rawValue)-\(labels)-\(fiscalYear.map(String.init) ?? "none")"
            let directory = work + "/" + name
            _ = try await exporter.run(
                .init(profile: profile, format: format, labels: labels, fiscalYear: fiscalYear, directory: directory))
            let expected = try Self.files(Self.previousBuild + "/" + name)
            let written = try Self.files(directory)
            #expect(written.keys.sorted() == expected.keys.sorted() && written.count == 7, "\(name)")
            for (file, bytes) in expected {
                #expect(
                    Self.withoutGenerationTime(written[file]) == Self.withoutGenerationTime(bytes),
                    "\(name)/\(file) differs from the previous build's")
            }
        }
        await exporter.store.close()
    }

    /// A workbook that libxlsxwriter cannot write (its temporary name is taken by a directory)
    /// fails the export with libxlsxwriter's reason, after the events were streamed into it, and
    /// leaves no workbook, no temporary file and no manifest: the directory claims no export.
    @Test func aWorkbookThatCannotBeWrittenLeavesNoFileBehind() async throws {
        let exporter = try await Self.exporterOfTheLog(.sqlite)
        let directory = Self.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let blocked = Exporter.temporaryPath(directory, WorkbookEncoding.fileName(.meti))
        try FileManager.default.createDirectory(atPath: blocked, withIntermediateDirectories: true)
        await #expect {
            _ = try await exporter.run(.init(profile: .meti, format: .xlsx, directory: directory))
        } throws: { error in
            "\(error)".contains("libxlsxwriter refused the workbook")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        await exporter.store.close()
    }

    /// The previous build's workbooks (see `previousBuild`): profile, labels, fiscal year.
    static let previousWorkbooks: [(ExportProfile, ExportTable.Labels, Int?)] = [
        (.cabinetOffice, .ja, nil), (.meti, .en, 2026), (.mext, .ja, 2025),
    ]

    /// The streamed workbook (libxlsxwriter's constant-memory mode, text inline in its cells) holds
    /// what the previous build's (whole snapshot, shared string table) held: the same sheets in the
    /// same order, each cell's type, value and number format, the column widths, the frozen header
    /// and the filter, as openpyxl reads them; and the same manifest but for the file's bytes.
    @Test(arguments: StoreKind.available)
    func streamingWorkbooksHoldTheCellsOfThePreviousBuild(_ kind: StoreKind) async throws {
        let exporter = try await Self.exporterOfTheLog(kind)
        let work = Self.workDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        for (profile, labels, fiscalYear) in Self.previousWorkbooks {
            let name = "\(profile.rawValue)-xlsx-\(labels)-\(fiscalYear.map(String.init) ?? "none")"
            let directory = work + "/" + name
            let manifest = try await exporter.run(
                .init(profile: profile, format: .xlsx, labels: labels, fiscalYear: fiscalYear, directory: directory))
            let expectedDirectory = Self.previousBuild + "/" + name
            let file = try #require(manifest.files.first)
            #expect(
                try Self.manifestWithoutTheBytes(Data(contentsOf: URL(fileURLWithPath: directory + "/manifest.json")))
                    == Self.manifestWithoutTheBytes(
                        Data(contentsOf: URL(fileURLWithPath: expectedDirectory + "/manifest.json"))),
                "\(name): the manifests differ in more than the workbook's size and hash")
            let events = try #require(file.sheets?.first { $0.name == "events" })
            #expect(events.rows > 5, "\(name): the comparison covers event rows")

            let written = try await Self.workbook(directory + "/" + file.name)
            let previous = try await Self.workbook(expectedDirectory + "/" + file.name)
            #expect(written.map(\.title) == previous.map(\.title), "\(name)")
            for (sheet, reference) in zip(written, previous) {
                #expect(sheet.rows == reference.rows, "\(name)/\(sheet.title): the cells differ")
                #expect(sheet.widths == reference.widths, "\(name)/\(sheet.title): the column widths differ")
                #expect(
                    [sheet.freeze, sheet.filter] == [reference.freeze, reference.filter],
                    "\(name)/\(sheet.title): the frozen header or the filter differs")
            }
            #expect(written.count == 7, "\(name)")
        }
        await exporter.store.close()
    }

    /// A manifest without `generatedAt` (the clock of the run) and its files' `bytes` and `sha256`.
    static func manifestWithoutTheBytes(_ data: Data) throws -> NSDictionary {
        var manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        manifest["generatedAt"] = nil
        let files = try #require(manifest["files"] as? [[String: Any]])
        manifest["files"] = files.map { file in file.filter { $0.key != "bytes" && $0.key != "sha256" } }
        return manifest as NSDictionary
    }

    /// A sheet of a workbook as openpyxl reads it.
    struct Sheet: Decodable, Equatable {
        let title: String
        /// The top-left cell of the scrolling pane, and the filter's range.
        let freeze: String
        let filter: String
        /// Column letter → width.
        let widths: [String: Double]
        /// Row by row, each cell as [data type, Python type, value, number format].
        let rows: [[[String]]]
    }

    /// Every sheet of a workbook, read by openpyxl (the venv of `scripts/python-venv.sh`).
    static func workbook(_ path: String) async throws -> [Sheet] {
        let script = """
            import json, sys, openpyxl
            book = openpyxl.load_workbook(sys.argv[1])
            sheets = []
            for sheet in book.worksheets:
                sheets.append({
                    "title": sheet.title, "freeze": str(sheet.freeze_panes), "filter": str(sheet.auto_filter.ref),
                    "widths": {letter: float(d.width) for letter, d in sheet.column_dimensions.items()},
                    "rows": [[[c.data_type, type(c.value).__name__, str(c.value), str(c.number_format)] for c in row]
                             for row in sheet.iter_rows()],
                })
            print(json.dumps(sheets, ensure_ascii=False))
            """
        let result = try await ReportRenderTests.run([try await ReportRenderTests.python(), "-c", script, path])
        guard result.status == 0 else { throw KakehashiError(.internalFailure, "openpyxl: \(result.stderr)") }
        return try JSONDecoder().decode([Sheet].self, from: Data(result.stdout.utf8))
    }

    /// A file's lines without the manifest's `generatedAt` (the clock of the run).
    static func withoutGenerationTime(_ data: Data?) -> [Substring] {
        String(decoding: data ?? Data(), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("\"generatedAt\"") }
    }
}

/// Writes `ExportStreamingTests.Log` into a SQLite store at `KAKEHASHI_EXPORT_FIXTURE_STORE`, for
/// making `Tests/Fixtures/export-previous-build` again with a build's own `kakehashi-server export`
/// (see the README there); does nothing without it.
@Suite struct ExportFixtureStore {
    @Test func writesTheFixtureLogWhenAsked() async throws {
        guard let path = ProcessInfo.processInfo.environment["KAKEHASHI_EXPORT_FIXTURE_STORE"] else { return }
        let opened = try await RunningStore.open(.sqlite(path: path), logger: StoreKind.logger)
        _ = try await opened.append(
            ExportStreamingTests.Log().changes, viewer: nil, wallMillis: ExportStreamingTests.today, onlyIfEmpty: false)
        await opened.close()
    }
}
