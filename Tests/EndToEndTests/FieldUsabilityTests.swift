import Foundation
import KakehashiShared
import Testing

/// Everyday use of the field client as an advisor types it (issue 12, points 4–6): search finds
/// what was typed in another width, case or with the long-vowel mark; tables show short ids that
/// commands accept; every list fits 80 columns of Japanese text; `match` keywords are words.
@Suite struct FieldUsabilityTests {
    /// What a person types, and the text a record holds: each pair must be found.
    static let foldingPairs: [(query: String, text: String)] = [
        ("ＡＢＣ", "ABC樹脂の成形"),
        ("abc", "ＡＢＣ樹脂の射出成形"),
        ("ｾﾝｻ", "センサによる振動監視"),
        ("センサ", "ｾﾝｻｰを使った温度計測"),
        ("センサー", "センサ技術の共同研究"),
        ("センサ", "センサー付き治具"),
        ("ＩｏＴ", "IoT見守りサービス"),
        ("iot", "ＩｏＴ農業の遠隔監視"),
        ("IOT", "IoTゲートウェイ"),
        ("コンピュータ", "コンピューター制御の研削盤"),
        ("インタフェース", "ユーザーインターフェースの改善"),
        ("ｻｰﾊﾞｰ", "サーバ監視の受託"),
        ("ﾊﾞﾘ取り", "バリ取りロボットの導入"),
        ("２０２６", "2026年度の補助金申請"),
        ("知財", "知財活用の相談"),
        ("銅", "銅合金の鋳造"),
        ("ＬＥＤ", "led照明の放熱"),
    ]

    @Test func searchFindsWhatWasTypedInAnotherWidthCaseOrLongVowel() async throws {
        let server = ServerProcess()
        try await server.start()
        let laptop = try Laptop.enroll(server, "山田太郎")
        var ids: [String] = []
        for (index, pair) in Self.foldingPairs.enumerated() {
            let id = try laptop.check([
                "seed", "add", "--title", "シーズ\(index) \(pair.text)", "--kind", "know-how",
            ]).output
            ids.append(id)
        }
        for (index, pair) in Self.foldingPairs.enumerated() {
            let hits = try #require(try laptop.json(["search", pair.query]) as? [[String: Any]])
            #expect(
                hits.contains { $0["id"] as? String == ids[index] },
                "search \(pair.query) does not find 「\(pair.text)」: \(hits.map { $0["title"] ?? "" })")
        }
        // The excerpt shows the text as it was written, around the match.
        let result = try laptop.check(["search", "ｾﾝｻｰ"])
        #expect(result.stdout.contains("ｾﾝｻｰを使った温度計測") || result.stdout.contains("センサ"))
    }

    @Test func tablesShowShortIdsThatEveryCommandAcceptsAndAnAmbiguousPrefixListsCandidates() async throws {
        let server = ServerProcess()
        try await server.start()
        let laptop = try Laptop.enroll(server, "山田太郎")
        // Made together: the full ids share their first 8 characters (UUIDv7 time), the short ids do not.
        let orgs = try (1...3).map { number in
            try laptop.check(["org", "add", "--name", "株式会社テスト精工\(number)", "--kind", "中小企業"]).output
        }
        #expect(Set(orgs.map { $0.prefix(8) }).count == 1, "\(orgs)")
        let list = try laptop.check(["org", "list"]).stdout
        let shortIDs = orgs.map { ShortIDForm.of($0) }
        for short in shortIDs {
            #expect(short.count <= 10)
            #expect(list.contains(short), "\(list)")
        }
        #expect(!list.contains(orgs[0]), "tables show short ids, not full ones:\n\(list)")
        #expect(Set(shortIDs.map { $0.prefix(4) }).count == 3, "short ids differ early: \(shortIDs)")

        // Any unique prefix works wherever an id is taken.
        let org = String(shortIDs[0].prefix(5))
        let shown = try #require(try laptop.json(["org", "show", org]) as? [String: Any])
        #expect((shown["organization"] as? [String: Any])?["id"] as? String == orgs[0])
        let caseID = try laptop.check([
            "case", "add", "--title", "精密加工の試作", "--kind", "ip-business-matching", "--org", org,
        ]).output
        let caseShort = String(ShortIDForm.of(caseID).prefix(6))
        try laptop.check(["case", "stage", caseShort, "matching"])
        try laptop.check(["case", "set", caseShort, "summary=試作の打合せ"])
        let event = try laptop.check(["event", "add", caseShort, "--kind", "visit", "--body", "工場を訪問"]).output
        #expect(event.count == 36)
        let cases = try #require(try laptop.json(["case", "list", "--org", org]) as? [[String: Any]])
        #expect(cases.map { $0["id"] as? String } == [caseID])
        let history = try #require(try laptop.json(["log", caseShort]) as? [[String: Any]])
        #expect(history.contains { $0["field"] as? String == "stage" })
        let need = try laptop.check(["need", "add", "--title", "バリ取りを自動化したい"]).output
        try laptop.check(["match", String(ShortIDForm.of(need).prefix(6))])

        // An organization is also named by its 法人番号.
        try laptop.check([
            "org", "add", "--name", "株式会社番号精工", "--kind", "中小企業", "--corporate-number", "3020001012345",
        ])
        let numbered = try laptop.check([
            "case", "add", "--title", "番号で指定", "--kind", "consultation", "--org", "3020001012345",
        ]).output
        let byNumber = try #require(try laptop.json(["case", "list", "--org", "3020001012345"]) as? [[String: Any]])
        #expect(byNumber.map { $0["id"] as? String } == [numbered])

        // A prefix several records share: an error that lists them, and nothing changes.
        let ambiguous = try laptop.run(["org", "show", String(orgs[0].prefix(8))])
        #expect(ambiguous.status == 65, "\(ambiguous)")
        #expect(ambiguous.stderr.contains("3 件"), "\(ambiguous)")
        for (short, number) in zip(shortIDs, 1...3) {
            #expect(ambiguous.stderr.contains(short), "\(ambiguous)")
            #expect(ambiguous.stderr.contains("株式会社テスト精工\(number)"), "\(ambiguous)")
        }
        let unknown = try laptop.run(["case", "show", "ffffffffff"])
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("ffffffffff"), "\(unknown)")
    }

    @Test func everyListFitsEightyColumnsOfJapaneseTextAndWideShowsEverything() async throws {
        let server = ServerProcess()
        try await server.start()
        var laptop = try Laptop.enroll(server, "山田太郎")
        var other = try Laptop.enroll(server, "佐藤花子")
        let longTitle =
            "精密加工技術を活用した医療機器部品の試作マッチングと知的財産の権利化に向けた共同研究開発および事業化支援"
        let org = try laptop.check([
            "org", "add", "--name", "株式会社川崎精密製作所 Kawasaki Precision Manufacturing International",
            "--kind", "中小企業", "--prefecture", "神奈川県", "--notes", String(repeating: "金属加工の専門企業。", count: 10),
        ]).output
        let caseID = try laptop.check([
            "case", "add", "--title", longTitle, "--kind", "ip-business-matching", "--org", org, "--level", "open",
            "--summary", String(repeating: "試作と量産の両方に対応できる体制を整える。", count: 8), "--tag", "医療機器",
            "--tag", "精密加工",
        ]).output
        try laptop.check(["sync"])  // the directory: Sato's advisor record
        try laptop.check(["case", "share", caseID, other.advisor])
        try laptop.check([
            "event", "add", caseID, "--kind", "visit", "--body",
            String(repeating: "工場を訪問し、加工設備と品質管理の体制を確認した。", count: 6),
        ])
        try laptop.check([
            "seed", "add", "--title", "力制御ロボットによる鋳物の研削仕上げと自動バリ取りシステム", "--kind", "patent",
            "--description", String(repeating: "力覚センサーで押付け力を一定に保つ。", count: 8), "--licensable", "false",
        ])
        let need = try laptop.check([
            "need", "add", "--title", "アルミ鋳物のバリ取りを自動化して熟練工の負担を減らしたい", "--description",
            String(repeating: "鋳物の仕上げ工程が手作業で、人手が足りない。", count: 6), "--org", org, "--tag", "自動化",
        ]).output
        // A conflict: both laptops change the summary offline.
        try laptop.check(["sync"])
        try other.check(["sync"])
        try laptop.check(["case", "set", caseID, "summary=" + String(repeating: "山田の書いた概要。", count: 12)])
        try other.check(["case", "set", caseID, "summary=" + String(repeating: "佐藤の書いた概要。", count: 12)])
        try other.check(["sync"])
        try laptop.check(["sync"])

        laptop.environment["COLUMNS"] = "80"
        other.environment["COLUMNS"] = "80"
        let commands: [[String]] = [
            ["case", "list"], ["org", "list"], ["seed", "list"], ["need", "list"], ["advisor", "list"],
            ["event", "list", caseID], ["search", "精密加工"], ["search", "バリ取り"], ["match", need],
            ["conflicts"], ["log", caseID], ["status"], ["refused"], ["case", "show", caseID], ["org", "show", org],
            ["case", "--help"], ["match", "--help"], ["refused", "--help"], ["--help"],
        ]
        var conflictsShown = false
        for command in commands {
            let result = try laptop.check(command)
            for line in (result.stdout + result.stderr).split(separator: "\n") {
                #expect(
                    DisplayWidth.of(String(line)) <= 80,
                    "kakehashi \(command.joined(separator: " ")): \(DisplayWidth.of(String(line))) columns: \(line)")
            }
            if command == ["conflicts"] { conflictsShown = result.stdout.contains("summary") }
        }
        #expect(conflictsShown)

        // One language, one clock: titles instead of ids, Japanese labels, Japan time with its zone.
        let conflicts = try laptop.check(["conflicts"]).stdout
        #expect(conflicts.contains("案件「精密加工技術") && !conflicts.contains(caseID), "\(conflicts)")
        #expect(conflicts.contains("JST") && conflicts.contains("（あなた）") && conflicts.contains("佐藤花子"))
        let log = try laptop.check(["log", caseID, "--wide"]).stdout
        #expect(log.contains("案件「\(longTitle)」") && log.contains("知財ビジネスマッチング") && log.contains("いいえ"))
        #expect(log.contains("日時 (JST)") && !log.contains("ip-business-matching"), "\(log)")
        let entries = try #require(try laptop.json(["log", caseID]) as? [[String: Any]])
        #expect(
            entries.allSatisfy {
                ($0["time"] as? String)?.range(
                    of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$"#, options: .regularExpression) != nil
            },
            "\(entries.map { $0["time"] ?? "" })")
        let status = try laptop.check(["status"]).stdout
        #expect(status.contains("最終同期") && status.contains("JST"), "\(status)")

        // Prefectures in their short form; an unknown one suggests the closest, not all 47.
        let tokyo = try laptop.check(["org", "add", "--name", "東京の会社", "--kind", "中小企業", "--prefecture", "東京"]).output
        let shown = try #require(try laptop.json(["org", "show", tokyo]) as? [String: Any])
        #expect((shown["organization"] as? [String: Any])?["prefecture"] as? String == "tokyo", "\(shown)")
        let typo = try laptop.run(["org", "add", "--name", "誤記", "--kind", "中小企業", "--prefecture", "神奈河県"])
        #expect(typo.status == 65 && typo.stderr.contains("神奈川県") && !typo.stderr.contains("沖縄県"), "\(typo)")

        // Completion offers the closed values and file names.
        let completion = try laptop.check(["--generate-completion-script", "bash"]).stdout
        for value in ["ip-business-matching", "kanagawa", "prototyping", "theirs", "confidential"] {
            #expect(completion.contains(value), "the bash completion lacks \(value)")
        }

        // Cut cells end in "…" and never in the middle of a Latin word.
        let orgs = try laptop.check(["org", "list"]).stdout
        let nameLine = try #require(orgs.split(separator: "\n").first { $0.contains("川崎") })
        #expect(nameLine.contains("…"), "\(nameLine)")
        let words = Set("株式会社川崎精密製作所 Kawasaki Precision Manufacturing International".split(separator: " "))
        let cut = nameLine.split(separator: "…")[0].split(separator: " ").dropFirst()
        for word in cut where word.first?.isASCII == true && !word.contains("-") {
            #expect(words.contains(word) || word.count <= 2, "split word '\(word)' in \(nameLine)")
        }

        // --wide shows everything, before or after the subcommand.
        let wide = try laptop.check(["case", "list", "--wide"]).stdout
        #expect(wide.contains(longTitle), "\(wide)")
        let global = try Executables.run(
            "kakehashi", ["--home", laptop.home.path, "--wide", "case", "list"], environment: ["COLUMNS": "80"])
        #expect(global.status == 0, "\(global)")
        #expect(global.stdout.contains(longTitle), "\(global)")
        let json = try Executables.run("kakehashi", ["--home", laptop.home.path, "--json", "org", "list"])
        #expect(json.status == 0, "\(json)")
        #expect(json.stdout.contains(org), "\(json)")

        // The seed's licence and the need's words: 密着性向上 gives 密着 and 向上, never 性向.
        let match = try laptop.check(["match", need])
        #expect(match.stdout.contains("不可"), "\(match)")
        let adhesion = try laptop.check(["need", "add", "--title", "密着性向上", "--description", "塗装の密着性向上と省電力化"])
            .output
        let stderr = try laptop.check(["match", adhesion]).stderr
        let keywords = Set(stderr.replacingOccurrences(of: "キーワード:", with: "").split(whereSeparator: \.isWhitespace))
        #expect(keywords.isSuperset(of: ["密着", "向上", "省電力"]), "\(stderr)")
        #expect(!keywords.contains("性向") && !keywords.contains("電力化") && !keywords.contains("省"), "\(stderr)")
    }

    @Test(arguments: [
        ["--help"], ["serve", "--help"], ["export", "--help"], ["indicators", "--help"], ["devices", "--help"],
        ["advisor", "add", "--help"], ["import", "seeds", "--help"],
    ])
    func serverHelpWrapsByDisplayWidth(command: [String]) throws {
        let result = try Executables.run("kakehashi-server", command, environment: ["COLUMNS": "80"])
        #expect(result.status == 0, "\(result)")
        for line in result.stdout.split(separator: "\n") {
            #expect(DisplayWidth.of(String(line)) <= 80, "kakehashi-server \(command.joined(separator: " ")): \(line)")
        }
    }

    @Test func matchListsWhatTheLaptopHasEvenWhenFewSeedsShareAWord() async throws {
        let server = ServerProcess()
        try await server.start()
        let laptop = try Laptop.enroll(server, "山田太郎")
        for title in ["超撥水表面の微細構造", "木材の圧密加工", "乳酸菌のスクリーニング", "ガラスの微細穴あけ"] {
            try laptop.check(["seed", "add", "--title", title, "--kind", "patent"])
        }
        let need = try laptop.check(["need", "add", "--title", "ガラスに小さな穴をあけたい"]).output
        let hits = try #require(try laptop.json(["match", need, "--limit", "3"]) as? [[String: Any]])
        #expect(hits.count == 3, "\(hits)")
        #expect(hits.first?["title"] as? String == "ガラスの微細穴あけ", "\(hits)")
        #expect(hits.allSatisfy { $0["licensable"] as? Bool == true }, "\(hits)")
    }
}

/// The short form tables show, computed here from the full id as a person would read it off.
enum ShortIDForm {
    static func of(_ id: String) -> String { String(id.dropFirst(24).prefix(10)) }
}
