import Foundation
import KakehashiShared
import KakehashiTestSupport
import Testing

/// Cross-ministry exports and indicators, made by a real `kakehashi-server` from what real
/// laptops synced, and opened the way METI, MEXT and the Cabinet Office open them.
@Suite struct ExportEndToEndTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Canary strings that must never leave the server except where their level allows.
    static let strictCanary = "KANARIA-GENPI-7d41"
    static let secretCanary = "KANARIA-KIMITSU-93c8"
    static let confidentialCanary = "KANARIA-HI-51e2"

    /// The fiscal year running now in Japan: cases are created at the wall clock's time.
    static var currentFiscalYear: Int {
        CalendarDate(japanTimeOf: Int64(Date().timeIntervalSince1970 * 1000)).fiscalYear
    }

    /// Three programs' advisors record a realistic year: an open case with visits either side of
    /// the fiscal-year boundary, and confidential, strict and secret cases carrying canaries.
    struct Scenario {
        let server: ServerProcess
        let yamada: Laptop  // 事業プロデューサー (METI)
        let sato: Laptop  // マッチングプランナー (MEXT)
        let ito: Laptop  // 知財アドバイザー (METI/INPIT)
        let openCase: String
        let confidentialCase: String
        let strictCase: String
        let secretCase: String
        let strictOrganization: String

        static func make() async throws -> Scenario {
            let server = ServerProcess()
            try await server.start()
            let yamada = try Laptop.enroll(server, "山田太郎")
            let sato = try Laptop.enroll(server, "佐藤花子", program: "matching-planner")
            let ito = try Laptop.enroll(server, "伊藤誠", program: "ip-advisor")

            let company = try yamada.check([
                "org", "add", "--name", "株式会社川崎精密製作所", "--kind", "sme", "--prefecture", "神奈川県",
            ]).output
            let hidden = try yamada.check([
                "org", "add", "--name", "\(strictCanary)工業株式会社", "--kind", "sme", "--prefecture", "大阪府",
            ]).output
            let openCase = try yamada.check([
                "case", "add", "--title", "開放特許を活用した精密部品の試作", "--kind", "ip-business-matching", "--level", "open",
                "--org", company, "--summary", "富士通の開放特許を川崎モデルで中小企業の製品化につなぐ。",
            ]).output
            try yamada.check([
                "event", "add", openCase, "--kind", "visit", "--date", "2026-03-31", "--body", "年度末に工場を訪問し、課題を聴取した。",
            ])
            try yamada.check([
                "event", "add", openCase, "--kind", "visit", "--date", "2026-04-01", "--body", "新年度の初回訪問で試作計画を確認した。",
            ])
            try yamada.check([
                "event", "add", openCase, "--kind", "lesson", "--date", "2026-05-20",
                "--body", "大企業の知財部と中小企業の間に支援機関が入ると、ライセンス交渉が早く進む。",
            ])
            try yamada.check(["case", "set", openCase, "good_practice=true"])

            func canaryCase(_ level: String, _ canary: String, organization: String) throws -> String {
                let id = try yamada.check([
                    "case", "add", "--title", "\(canary) 新素材の共同研究", "--kind", "industry-academia", "--level", level,
                    "--org", organization, "--summary", "概要 \(canary)",
                ]).output
                try yamada.check([
                    "event", "add", id, "--kind", "meeting", "--date", "2026-06-10", "--body", "打合せ記録 \(canary)",
                ])
                try yamada.check([
                    "event", "add", id, "--kind", "lesson", "--date", "2026-06-11", "--body", "教訓 \(canary)",
                ])
                try yamada.check(["case", "set", id, "good_practice=true"])
                return id
            }
            let confidentialCase = try canaryCase("confidential", confidentialCanary, organization: company)
            let strictCase = try canaryCase("strict", strictCanary, organization: hidden)
            let secretCase = try canaryCase("secret", secretCanary, organization: hidden)
            try yamada.check(["sync"])
            return Scenario(
                server: server, yamada: yamada, sato: sato, ito: ito, openCase: openCase,
                confidentialCase: confidentialCase, strictCase: strictCase, secretCase: secretCase,
                strictOrganization: hidden)
        }

        /// Runs an export and returns its directory.
        func export(_ profile: String, _ extra: [String] = [], into directory: String) throws -> String {
            let out = directory + "/" + profile + "-" + UUID().uuidString.prefix(8)
            let printed = try server.admin(["export", "--profile", profile, "--out", out] + extra)
            #expect(printed == out)
            return out
        }
    }

    static func files(in directory: String) throws -> [(name: String, data: Data)] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted().map {
            ($0, try Data(contentsOf: URL(fileURLWithPath: directory + "/" + $0)))
        }
    }

    /// A file as text that can be searched: a workbook (a zip of XML parts) is unpacked.
    static func readable(_ file: (name: String, data: Data), in directory: String) throws -> (name: String, data: Data)
    {
        guard file.name.hasSuffix(".xlsx") else { return file }
        let unpack =
            "import sys, zipfile; book = zipfile.ZipFile(sys.argv[1]); "
            + "sys.stdout.write(''.join(book.read(n).decode('utf-8') for n in book.namelist()))"
        let unpacked = try Executables.runTool(["python3", "-c", unpack, directory + "/" + file.name])
        #expect(unpacked.status == 0 && unpacked.stdout.contains("<worksheet"), "\(unpacked.stderr)")
        return (file.name, Data(unpacked.stdout.utf8))
    }

    static func rows(_ directory: String, _ name: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: directory + "/" + name + ".jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// scripts/verify-export.py, run by the venv's python (openpyxl reads the workbooks).
    static func verify(_ directory: String, _ extra: [String] = []) throws -> CommandResult {
        let python = try Executables.runTool(["bash", repositoryRoot.path + "/scripts/python-venv.sh"])
        #expect(python.status == 0, "\(python)")
        return try Executables.runTool(
            [python.output, repositoryRoot.path + "/scripts/verify-export.py", directory] + extra)
    }

    @Test func canariesOfStrictAndSecretCasesAppearInNoExportAndConfidentialOnlyWhereAllowed() async throws {
        let scenario = try await Scenario.make()
        let work = TemporaryDirectory("exports")
        var everyFile: [(String, Data)] = []
        var byProfile: [String: [(name: String, data: Data)]] = [:]
        for profile in ["cabinet-office", "meti", "mext"] {
            let variants = [
                ["--format", "csv", "--labels", "ja"], ["--format", "csv", "--labels", "en"],
                ["--format", "jsonl", "--labels", "ja"], ["--fiscal-year", "2026"],
                ["--format", "xlsx", "--labels", "ja"], ["--format", "xlsx", "--labels", "en"],
            ]
            for arguments in variants {
                do {
                    let out = try scenario.export(profile, arguments, into: work.path)
                    let files = try Self.files(in: out).map { try Self.readable($0, in: out) }
                    let expected = arguments.contains("xlsx") ? 2 : 7
                    #expect(files.count == expected, "the data files and the manifest in \(out)")
                    everyFile += files.map { ("\(profile) \(arguments) \($0.name)", $0.data) }
                    byProfile[profile, default: []] += files
                }
            }
        }
        let html = work.path + "/report.html"
        try scenario.server.admin(["indicators", "--html", html])
        everyFile.append(("report.html", try Data(contentsOf: URL(fileURLWithPath: html))))
        everyFile.append(("indicators.json", Data(try scenario.server.admin(["indicators", "--json"]).utf8)))
        everyFile.append(("indicators.csv", Data(try scenario.server.admin(["indicators", "--csv"]).utf8)))

        for (name, data) in everyFile {
            let text = String(decoding: data, as: UTF8.self)
            #expect(!text.contains(Self.strictCanary), "strict canary leaked into \(name)")
            #expect(!text.contains(Self.secretCanary), "secret canary leaked into \(name)")
            #expect(!text.contains(scenario.secretCase), "the secret case's id appears in \(name)")
        }
        // Confidential content: only in METI's own profile (the case is funded by a METI program).
        for profile in ["cabinet-office", "mext"] {
            for file in byProfile[profile] ?? [] {
                #expect(
                    !String(decoding: file.data, as: UTF8.self).contains(Self.confidentialCanary),
                    "confidential canary in the \(profile) profile's \(file.name)")
            }
        }
        let meti = try scenario.export("meti", ["--format", "jsonl"], into: work.path)
        let metiCases = try Self.rows(meti, "cases")
        let confidential = try #require(metiCases.first { $0["id"] as? String == scenario.confidentialCase })
        #expect((confidential["title"] as? String)?.contains(Self.confidentialCanary) == true)
        #expect(confidential["redacted"] as? Bool == false)
        // Strict rows carry metadata only, and the strict case's organization only its kind.
        let strict = try #require(metiCases.first { $0["id"] as? String == scenario.strictCase })
        #expect(strict["title"] is NSNull && strict["summary"] is NSNull && strict["redacted"] as? Bool == true)
        #expect(strict["stage"] as? String == "intake" && strict["prefecture"] as? String == "osaka")
        #expect(!metiCases.contains { $0["id"] as? String == scenario.secretCase })
        let organizations = try Self.rows(meti, "organizations")
        let hidden = try #require(organizations.first { $0["id"] as? String == scenario.strictOrganization })
        #expect(hidden["name"] is NSNull && hidden["kind"] as? String == "sme")
        // Good practices: the open case's lesson is shared; the redacted ones are not.
        let lessons = try Self.rows(meti, "good-practices")
        #expect(lessons.map { $0["case"] as? String } == [scenario.openCase, scenario.confidentialCase])
        let mextLessons = try Self.rows(
            try scenario.export("mext", ["--format", "jsonl"], into: work.path), "good-practices")
        #expect(mextLessons.map { $0["case"] as? String } == [scenario.openCase])

        // The secret case is still counted: four new cases for the business-production program.
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(scenario.server.admin(["indicators", "--json"]).utf8))
                as? [String: Any])
        let rows = try #require(report["rows"] as? [[String: Any]])
        let newCases = rows.filter { $0["fiscalYear"] as? Int == Self.currentFiscalYear }.compactMap {
            ($0["counts"] as? [String: Int])?["new_cases"]
        }.reduce(0, +)
        #expect(newCases == 4)
        // The terminal tables fit an 80-column terminal and still show every figure's label.
        let table = try Executables.run(
            "kakehashi-server", ["indicators", "--db", scenario.server.database], environment: ["COLUMNS": "80"])
        #expect(table.status == 0)
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { DisplayWidth.of($0) <= 80 }, "\(table.stdout)")
        for label in ["相談", "訪問", "マッチング", "ライセンス", "新規案件", "他事業からの紹介"] {
            #expect(lines.contains { $0.contains(label) }, "\(label) in \(table.stdout)")
        }
    }

    @Test func csvOpensInPythonAndLibreOfficeAndTheManifestHashesMatch() async throws {
        let scenario = try await Scenario.make()
        let work = TemporaryDirectory("exports")
        let out = try scenario.export("cabinet-office", into: work.path)
        let result = try Self.verify(out, ["--xlsx", "--expect", "開放特許を活用した精密部品の試作", "--expect", "神奈川県"])
        #expect(result.status == 0, "\(result)")
        let summary = try #require(try result.json() as? [String: Any])
        let counts = try #require(summary["files"] as? [String: Int])
        #expect(counts["cases.csv"] == 3, "open in full, confidential and strict redacted, secret absent: \(counts)")

        let jsonl = try scenario.export("meti", ["--format", "jsonl"], into: work.path)
        #expect(try Self.verify(jsonl).status == 0)

        // A tampered file no longer matches its manifest.
        let cases = URL(fileURLWithPath: out + "/cases.csv")
        var bytes = try Data(contentsOf: cases)
        bytes.append(contentsOf: Array("x".utf8))
        try bytes.write(to: cases)
        let tampered = try Self.verify(out)
        #expect(tampered.status == 1 && tampered.stderr.contains("cases.csv"))
    }

    @Test func exportsAreReproducibleAndIncrementalExportsHoldExactlyTheChangedRows() async throws {
        let scenario = try await Scenario.make()
        let work = TemporaryDirectory("exports")
        let first = try scenario.export("cabinet-office", into: work.path)
        let again = try scenario.export("cabinet-office", into: work.path)
        let firstFiles = try Self.files(in: first)
        let againFiles = try Self.files(in: again)
        #expect(firstFiles.map(\.name) == againFiles.map(\.name) && firstFiles.count == 7)
        for (a, b) in zip(firstFiles, againFiles) where a.name != "manifest.json" {
            #expect(a.data == b.data, "\(a.name) differs between two runs")
        }
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: first + "/manifest.json")))
                as? [String: Any])
        let cursor = try #require((manifest["cursor"] as? [String: Any])?["to"] as? Int)

        // New edits: a stage change on the open case and a new event on the confidential one.
        try scenario.yamada.check(["case", "stage", scenario.openCase, "prototyping"])
        let event = try scenario.yamada.check([
            "event", "add", scenario.confidentialCase, "--kind", "consultation", "--date", "2026-07-01", "--body",
            "試作費の相談",
        ]).output
        try scenario.yamada.check(["sync"])

        let delta = try scenario.export(
            "cabinet-office", ["--since", String(cursor), "--format", "jsonl"], into: work.path)
        #expect(try Self.rows(delta, "cases").map { $0["id"] as? String } == [scenario.openCase])
        #expect(try Self.rows(delta, "cases").first?["stage"] as? String == "prototyping")
        #expect(try Self.rows(delta, "events").map { $0["id"] as? String } == [event])
        #expect(try Self.rows(delta, "organizations").isEmpty)
        let deltaManifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: delta + "/manifest.json")))
                as? [String: Any])
        let range = try #require(deltaManifest["cursor"] as? [String: Int])
        #expect(range["from"] == cursor && range["to"]! > cursor && deltaManifest["incremental"] as? Bool == true)

        #expect((deltaManifest["withdrawn"] as? [String: [String]])?.values.allSatisfy(\.isEmpty) == true)

        // Nothing changed since the delta: the next incremental export is empty.
        let empty = try scenario.export("cabinet-office", ["--since", String(range["to"]!)], into: work.path)
        #expect(try Self.verify(empty).status == 0)
        let emptyCases = try String(contentsOfFile: empty + "/cases.csv", encoding: .utf8)
        #expect(emptyCases.split(separator: "\r\n").count == 1, "only the header")

        // A cursor from the future is refused, naming the option, and writes nothing.
        let refused = try Executables.run(
            "kakehashi-server",
            [
                "export", "--profile", "meti", "--out", work.path + "/future", "--since", "999999", "--db",
                scenario.server.database,
            ])
        #expect(refused.status == 65 && refused.stderr.contains("since"))
        #expect(!FileManager.default.fileExists(atPath: work.path + "/future"), "no directory is left behind")
        let unknown = try Executables.run(
            "kakehashi-server",
            ["export", "--profile", "jst", "--out", work.path + "/x", "--db", scenario.server.database])
        #expect(unknown.status == 65 && unknown.stderr.contains("cabinet-office, meti, mext"))
    }

    @Test func fiscalYearsRunFromAprilToMarchInJapanTime() async throws {
        let scenario = try await Scenario.make()
        let report = try #require(
            try JSONSerialization.jsonObject(
                with: Data(scenario.server.admin(["indicators", "--json"]).utf8)) as? [String: Any])
        let rows = try #require(report["rows"] as? [[String: Any]])
        func visits(_ year: Int) -> Int {
            rows.filter { $0["fiscalYear"] as? Int == year && $0["program"] as? String == "business-production" }
                .compactMap { ($0["counts"] as? [String: Int])?["visits"] }.reduce(0, +)
        }
        #expect(visits(2025) == 1, "2026-03-31 belongs to FY2025")
        #expect(visits(2026) == 1, "2026-04-01 belongs to FY2026")
        let only2025 = try #require(
            try JSONSerialization.jsonObject(
                with: Data(scenario.server.admin(["indicators", "--json", "--fiscal-year", "2025"]).utf8))
                as? [String: Any])
        #expect(only2025["fiscalYears"] as? [Int] == [2025])
    }

    @Test func referralsBetweenProgramsAreCountedOnceAndTheCaseOnlyForItsProgram() async throws {
        let scenario = try await Scenario.make()
        try scenario.sato.check(["sync"])
        let satoID = scenario.sato.advisor
        try scenario.yamada.check([
            "case", "refer", scenario.openCase, satoID, "--note", "大学シーズとのマッチングをお願いします。",
        ])
        try scenario.yamada.check(["sync"])
        try scenario.sato.check(["sync"])
        try scenario.sato.check([
            "event", "add", scenario.openCase, "--kind", "matching", "--body", "東北大学のシーズを紹介した。",
        ])
        try scenario.sato.check(["sync"])

        // The referral and the matching are dated today; the cases were created today.
        let year = String(Self.currentFiscalYear)
        let report = try #require(
            try JSONSerialization.jsonObject(
                with: Data(scenario.server.admin(["indicators", "--json", "--fiscal-year", year]).utf8))
                as? [String: Any])
        let referrals = try #require(report["referrals"] as? [[String: Any]])
        #expect(referrals.count == 1)
        #expect(referrals.first?["fromProgram"] as? String == "business-production")
        #expect(referrals.first?["toProgram"] as? String == "matching-planner")
        let rows = try #require(report["rows"] as? [[String: Any]])
        func sum(_ program: String, _ metric: String) -> Int {
            rows.filter { $0["program"] as? String == program }.compactMap {
                ($0["counts"] as? [String: Int])?[metric]
            }.reduce(0, +)
        }
        #expect(sum("matching-planner", "matchings") == 1, "the event counts for its author's program")
        #expect(sum("matching-planner", "new_cases") == 0, "the case counts for its funding program only")
        #expect(sum("matching-planner", "referrals_in") == 1 && sum("business-production", "referrals_out") == 1)
        let totals = try #require((report["totals"] as? [[String: Any]])?.first?["counts"] as? [String: Int])
        #expect(totals["new_cases"] == 4, "each case once, though two programs support the open one")
        #expect(totals["new_cases"] == sum("business-production", "new_cases") + sum("matching-planner", "new_cases"))

        let table = try scenario.server.admin(["indicators", "--fiscal-year", year])
        #expect(table.contains("マッチングプランナー") && table.contains("\(year)年度"))
    }

    @Test func incrementalExportsRedactAndWithdrawRowsWhoseLevelWasRaised() async throws {
        let scenario = try await Scenario.make()
        let work = TemporaryDirectory("exports")
        let base = try scenario.export("meti", ["--format", "jsonl"], into: work.path)
        let baseManifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: base + "/manifest.json")))
                as? [String: Any])
        let cursor = try #require((baseManifest["cursor"] as? [String: Any])?["to"] as? Int)
        #expect(
            try Self.rows(base, "events").contains {
                $0["case"] as? String == scenario.confidentialCase && $0["body"] is String
            }, "METI sees its own confidential case's events in full")

        // The confidential case becomes strict; the strict one becomes secret.
        try scenario.yamada.check(["case", "set", scenario.confidentialCase, "level=strict"])
        try scenario.yamada.check(["case", "set", scenario.strictCase, "level=secret"])
        try scenario.yamada.check(["sync"])

        let delta = try scenario.export("meti", ["--format", "jsonl", "--since", String(cursor)], into: work.path)
        for file in try Self.files(in: delta) {
            let text = String(decoding: file.data, as: UTF8.self)
            for canary in [Self.confidentialCanary, Self.strictCanary, Self.secretCanary] {
                #expect(!text.contains(canary), "\(canary) in the incremental \(file.name)")
            }
        }
        // The case row and its events come again, redacted; the now-secret case is withdrawn.
        let cases = try Self.rows(delta, "cases")
        #expect(cases.map { $0["id"] as? String } == [scenario.confidentialCase])
        #expect(cases.first?["redacted"] as? Bool == true && cases.first?["title"] is NSNull)
        let events = try Self.rows(delta, "events")
        #expect(events.count == 2 && events.allSatisfy { $0["body"] is NSNull && $0["redacted"] as? Bool == true })
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: delta + "/manifest.json")))
                as? [String: Any])
        let withdrawn = try #require(manifest["withdrawn"] as? [String: [String]])
        #expect(withdrawn["cases"] == [scenario.strictCase])
        #expect(withdrawn["events"]?.count == 2, "the strict case's two events were in the base export")
        #expect(withdrawn["good-practices"]?.allSatisfy { $0.hasPrefix(scenario.confidentialCase + "/") } == true)
        #expect(withdrawn["good-practices"]?.count == 1)
        #expect(try Self.rows(delta, "good-practices").isEmpty)
    }
}
