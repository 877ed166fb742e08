import Foundation
import KakehashiServer
import KakehashiShared
import Testing

/// Exports and indicators read straight from both stores: the same log gives the same bytes on
/// SQLite and PostgreSQL, and Japan-time fiscal years hold at the millisecond.
@Suite struct ExportTests {
    /// 2026-04-01 00:00:00.000 in Japan, as Unix milliseconds (2026-03-31T15:00:00Z).
    static let fiscal2026Start: Int64 = 1_774_969_200_000
    /// "Today" for these tests: 2026-11-21 12:00 in Japan.
    static let today: Int64 = 1_795_230_000_000

    struct Log {
        let advisor = "01900000-0000-7000-8000-0000000000a1"
        let organization = "01900000-0000-7000-8000-0000000000b1"
        let lateMarchCase = "01900000-0000-7000-8000-0000000000c1"
        let aprilCase = "01900000-0000-7000-8000-0000000000c2"
        let event = "01900000-0000-7000-8000-0000000000e1"
        var changes: [Change] = []
        private var maker = ChangeMaker(
            clock: HybridClock(device: DeviceID("d-00000000000000a1")!), author: "01900000-0000-7000-8000-0000000000a1")
        private var states: [String: RecordState] = [:]

        init() {
            let start = ExportTests.fiscal2026Start
            write(
                .advisor, advisor,
                [
                    "name": .string("山田太郎"), "role": .string("business-producer"),
                    "program": .string("business-production"), "prefecture": .string("kanagawa"), "active": .bool(true),
                ],
                at: start - 10_000)
            write(
                .organization, organization,
                [
                    "name": .string("株式会社川崎精密製作所"), "kind": .string("sme"),
                    "prefecture": .string("kanagawa"),
                ], at: start - 5_000)
            // Created in the last millisecond of FY2025 (23:59:59.999 on March 31 in Japan).
            write(.case, lateMarchCase, caseFields("年度末に受け付けた相談"), at: start - 1)
            add(.case, lateMarchCase, "organizations", organization, at: start - 1)
            // Created in the first millisecond of FY2026.
            write(.case, aprilCase, caseFields("新年度の案件"), at: start)
            write(.case, lateMarchCase, ["stage": .string("prototyping")], at: start + 86_400_000 * 30)
            write(
                .event, event,
                [
                    "case": .string(lateMarchCase), "kind": .string("visit"), "date": .string("2026-04-01"),
                    "author": .string(advisor), "body": .string("試作の打合せ、\"品質\"の確認\n二行目"),
                ], at: start + 1_000)
        }

        func caseFields(_ title: String) -> [String: FieldValue] {
            [
                "title": .string(title), "kind": .string("consultation"), "stage": .string("intake"),
                "level": .string("open"), "program": .string("business-production"), "owner": .string(advisor),
            ]
        }

        mutating func write(_ entity: Entity, _ id: String, _ values: [String: FieldValue], at millis: Int64) {
            for (field, value) in values.sorted(by: { $0.key < $1.key }) {
                append(
                    maker.make(
                        .set, entity: entity, record: id, field: field, value: value, state: states[id],
                        wallMillis: millis))
            }
        }

        mutating func add(_ entity: Entity, _ id: String, _ field: String, _ element: String, at millis: Int64) {
            append(
                maker.make(
                    .add, entity: entity, record: id, field: field, value: .string(element), state: states[id],
                    wallMillis: millis))
        }

        private mutating func append(_ change: Change) {
            states[change.record, default: RecordState(entity: change.entity, id: change.record)].apply(change)
            changes.append(change)
        }
    }

    static func export(
        _ kind: StoreKind, profile: ExportProfile = .cabinetOffice
    ) async throws -> (String, IndicatorReport) {
        let store = try await kind.makeStore()
        _ = try await store.append(Log().changes, viewer: nil, wallMillis: today, onlyIfEmpty: false)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kakehashi-export-\(UUID().uuidString)"
        ).path
        _ = try await Exporter(store: store, now: { today }).run(.init(profile: profile, directory: directory))
        let report = IndicatorEngine.compute(
            ReportData(try await store.snapshot(entities: LogSnapshot.reportingEntities, since: nil)),
            today: CalendarDate(japanTimeOf: today))
        await store.close()
        return (directory, report)
    }

    @Test(arguments: StoreKind.available)
    func newCasesAndYearEndStagesFollowJapanTimeToTheMillisecond(_ kind: StoreKind) async throws {
        let (_, report) = try await Self.export(kind)
        func count(_ year: Int, _ metric: IndicatorReport.Metric) -> Int {
            report.rows.filter { $0.fiscalYear == year }.map { $0.count(metric) }.reduce(0, +)
        }
        #expect(count(2025, .newCases) == 1 && count(2026, .newCases) == 1)
        #expect(count(2025, .stageIntake) == 1, "on 2026-03-31 only the late-March case existed, at intake")
        #expect(count(2026, .stagePrototyping) == 1 && count(2026, .stageIntake) == 1)
        #expect(count(2026, .visits) == 1 && count(2025, .visits) == 0)
        #expect(report.rows.allSatisfy { $0.prefecture == "kanagawa" }, "by organization, else by owner")
    }

    @Test(.enabled(if: StoreKind.available.contains(.postgres), "needs the test PostgreSQL cluster"))
    func bothStoresGiveByteIdenticalExports() async throws {
        let (sqlite, _) = try await Self.export(.sqlite)
        let (postgres, _) = try await Self.export(.postgres)
        let names = try FileManager.default.contentsOfDirectory(atPath: sqlite).filter { $0.hasSuffix(".csv") }.sorted()
        #expect(names.count == 6)
        for name in names {
            let a = try Data(contentsOf: URL(fileURLWithPath: sqlite + "/" + name))
            let b = try Data(contentsOf: URL(fileURLWithPath: postgres + "/" + name))
            #expect(a == b, "\(name) differs between SQLite and PostgreSQL")
        }
    }

    @Test(.enabled(if: StoreKind.available.contains(.postgres), "needs the test PostgreSQL cluster"))
    func bothStoresGiveByteIdenticalWorkbooks() async throws {
        var books: [Data] = []
        for kind in [StoreKind.sqlite, .postgres] {
            // Not seeded: the seed would date each store's newest change by the clock, and the
            // workbook's information sheet and creation time carry the newest change's time.
            let store = try await RunningStore.open(kind.freshLocation(), logger: StoreKind.logger)
            _ = try await store.append(Log().changes, viewer: nil, wallMillis: Self.today, onlyIfEmpty: false)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "kakehashi-export-\(UUID().uuidString)"
            ).path
            let manifest = try await Exporter(store: store, now: { Self.today }).run(
                .init(profile: .meti, format: .xlsx, directory: directory))
            await store.close()
            #expect(manifest.files.map(\.name) == ["kakehashi-meti.xlsx"])
            books.append(try Data(contentsOf: URL(fileURLWithPath: directory + "/kakehashi-meti.xlsx")))
            try? FileManager.default.removeItem(atPath: directory)
        }
        #expect(books[0] == books[1], "the workbook differs between SQLite and PostgreSQL")
    }

    @Test func csvIsExcelReadyWithQuotingAndFormulasDefused() throws {
        var table = ExportTable(name: "t", columns: [.init("a", "件名"), .init("b", "内容"), .init("c", "段階")])
        table.append([
            "a": .text("=HYPERLINK(\"x\")"), "b": .text("一行目, \"引用\"\n二行目"),
            "c": .coded("prototyping", Domains.caseStage),
        ])
        let data = try TableEncoding.csv(table, labels: .ja)
        #expect(Array(data.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let text = String(decoding: data.dropFirst(3), as: UTF8.self)
        let stage = try #require(Domains.caseStage.label(of: "prototyping"))
        #expect(text == "件名,内容,段階\r\n\"'=HYPERLINK(\"\"x\"\")\",\"一行目, \"\"引用\"\"\n二行目\",\(stage)\r\n")
        let english = String(decoding: try TableEncoding.csv(table, labels: .en).dropFirst(3), as: UTF8.self)
        #expect(english.hasPrefix("a,b,c\r\n") && english.hasSuffix(",prototyping\r\n"))
        let lines = String(decoding: try TableEncoding.jsonLines(table), as: UTF8.self)
        #expect(lines == "{\"a\":\"=HYPERLINK(\\\"x\\\")\",\"b\":\"一行目, \\\"引用\\\"\\n二行目\",\"c\":\"prototyping\"}\n")
    }

    @Test func badExportArgumentsNameTheFieldAndTheValidValues() async throws {
        #expect(throws: KakehashiError.self) { try ExportProfile.parse("jst") }
        do {
            _ = try ExportFormat.parse("xls")
            Issue.record("xls accepted")
        } catch {
            #expect(error.field == "format" && error.validValues == ["csv", "jsonl", "xlsx"])
        }
        let store = try await StoreKind.sqlite.makeStore()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kakehashi-\(UUID().uuidString)")
        try Data("x".utf8).write(to: file)
        await #expect(throws: KakehashiError.self) {
            try await Exporter(store: store).run(.init(profile: .meti, directory: file.path))
        }
        await store.close()
    }
}

/// Seed lists as advisors' offices keep them in Excel.
@Suite struct SeedFileTests {
    @Test func japaneseHeadersMultilineCellsAndLineNumbers() throws {
        let text =
            "\u{FEFF}名称,説明,保有機関,特許番号,ライセンス可,タグ\r\n"
            + "高耐熱接合,\"一行目\r\n二行目\",国立大学法人東北大学,特許第1号、特許第2号,不可,接合；セラミックス\r\n"
            + "\r\n"
            + ",説明のみ,,,,\r\n"
            + "殺菌技術,,,,かも,\r\n"
        let file = try SeedFile(data: Data(text.utf8), name: "list.csv")
        #expect(file.rows.count == 1)
        let row = try #require(file.rows.first)
        #expect(row.line == 2 && row.licensable == false && row.holder == "国立大学法人東北大学")
        #expect(row.patentNumbers == ["特許第1号", "特許第2号"] && row.tags == ["接合", "セラミックス"])
        #expect(row.kind == .string("open-patent"))
        #expect(file.problems.map(\.line) == [5, 6], "\(file.problems)")
        #expect(file.problems.map(\.field) == ["title", "licensable"])
    }

    @Test func rowsRepeatingATitleAndHolderAreMergedAndTrailingEmptyColumnsIgnored() throws {
        let text =
            "title,holder,patent_numbers,tags,,\n"
            + "画像検査,富士通株式会社,特許第1号,検査,,\n"
            + "画像検査,富士通株式会社,特許第2号,画像,,\n"
            + "画像検査,,特許第3号,,,\n"
            + "画像検査,\"二行の\n保有機関\",,,,\n"
        let file = try SeedFile(data: Data(text.utf8), name: "list.csv")
        #expect(file.rows.count == 2 && file.mergedLines == [3])
        #expect(file.rows.first?.patentNumbers == ["特許第1号", "特許第2号"] && file.rows.first?.tags == ["検査", "画像"])
        #expect(file.problems.map(\.description) == ["line 5: holder: must be a single line"], "\(file.problems)")
    }

    @Test func aFileWithAnUnknownColumnOrNoTitleIsRefusedWhole() {
        #expect(throws: KakehashiError.self) { try SeedFile(data: Data("title,colour\nx,red\n".utf8), name: "a.csv") }
        #expect(throws: KakehashiError.self) { try SeedFile(data: Data("description\nx\n".utf8), name: "b.csv") }
        #expect(throws: KakehashiError.self) { try SeedFile(data: Data([0xFF, 0xFE, 0x00, 0xD8]), name: "c.csv") }
    }
}
