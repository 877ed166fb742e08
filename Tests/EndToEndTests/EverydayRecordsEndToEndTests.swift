import Foundation
import KakehashiClient
import KakehashiShared
import Testing

/// Everyday work in the field on real laptops and a real server (issue 12): every record kind is
/// read in full, corrected and removed through the change path cases use; dates that cannot be
/// true are refused; one company is one organization, also when two laptops add it offline.
@Suite struct EverydayRecordsEndToEndTests {
    /// A long activity body: more than one 80-column line, with a line break of its own.
    static let longBody = """
        株式会社川崎精密製作所の第二工場を訪問し、精密切削部品のバリ取り工程を見学した。\
        現在は熟練者による手作業で、一日あたり約四百個を処理しているが、後継者不足が深刻である。
        力覚センサを用いたロボット研削の大学シーズを紹介したところ、社長から試作の相談があった。
        """

    /// Printed text with its wrapping undone: lines trimmed and joined.
    static func unwrapped(_ text: String) -> String {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined()
    }

    static func history(_ laptop: Laptop, _ id: String) throws -> [[String: Any]] {
        try #require(try laptop.json(["log", id]) as? [[String: Any]])
    }

    static func object(_ laptop: Laptop, _ arguments: [String]) throws -> [String: Any] {
        try #require(try laptop.json(arguments) as? [String: Any])
    }

    @Test func everyRecordKindIsCorrectedAndRemovedAndTheOtherLaptopSeesItAndItsHistory() async throws {
        let server = ServerProcess()
        try await server.start()
        let yamada = try Laptop.enroll(server, "山田太郎")
        let sato = try Laptop.enroll(server, "佐藤花子")
        for laptop in [yamada, sato] { try laptop.check(["sync"]) }

        let org = try yamada.check([
            "org", "add", "--name", "株式会社川崎精密製作所", "--kind", "中小企業", "--corporate-number", "3020001012345",
        ]).output
        let caseID = try yamada.check([
            "case", "add", "--title", "バリ取り工程の自動化", "--kind", "ip-business-matching", "--org", org,
        ]).output
        let event = try yamada.check([
            "event", "add", caseID, "--kind", "visit", "--date", "2026-04-01", "--body", Self.longBody,
        ]).output
        let seed = try yamada.check([
            "seed", "add", "--title", "力覚センサを用いたロボット研削", "--kind", "research-result",
            "--description", "研削抵抗を力覚センサで計測し、押付け力を一定に保つ制御技術。",
        ]).output
        let need = try yamada.check(["need", "add", "--title", "バリ取りの自動化", "--org", org]).output
        try yamada.check(["sync"])
        try sato.check(["sync"])

        // Read in full on the other laptop: the case shows the organization's name and the
        // whole body, wrapped within 80 columns.
        let shown = try sato.run(["case", "show", caseID])
        #expect(shown.status == 0, "\(shown)")
        #expect(shown.stdout.contains("株式会社川崎精密製作所"), "\(shown.stdout)")
        #expect(!shown.stdout.contains(org), "the organization is shown by name")
        let joined = Self.unwrapped(shown.stdout)
        for line in Self.longBody.split(separator: "\n") { #expect(joined.contains(line)) }
        for line in shown.stdout.split(separator: "\n") { #expect(DisplayWidth.of(String(line)) <= 80, "\(line)") }
        let listed = Self.unwrapped(try sato.check(["event", "list", caseID]).stdout)
        #expect(listed.contains("後継者不足が深刻である") && listed.contains("山田太郎"))
        #expect(Self.unwrapped(try sato.check(["event", "show", event]).stdout).contains("社長から試作の相談があった"))

        // Sato corrects each kind of record; Yamada sees it after a sync, and in the log.
        try sato.check(["event", "set", event, "date=2026-04-02", "kind=meeting"])
        try sato.check(["org", "set", org, "prefecture=神奈川県", "notes=第二工場は川崎市高津区"])
        try sato.check(["seed", "set", seed, "licensable=いいえ", "tags=研削,ロボット"])
        try sato.check(["need", "set", need, "title=バリ取り工程の自動化（研削）"])
        try sato.check(["sync"])
        try yamada.check(["sync"])
        let eventJSON = try Self.object(yamada, ["event", "show", event])
        #expect(eventJSON["date"] as? String == "2026-04-02" && eventJSON["kind"] as? String == "meeting")
        let orgJSON = try #require(try Self.object(yamada, ["org", "show", org])["organization"] as? [String: Any])
        #expect(orgJSON["prefecture"] as? String == "kanagawa")
        #expect(try Self.object(yamada, ["seed", "show", seed])["licensable"] as? Bool == false)
        #expect(try Self.object(yamada, ["need", "show", need])["title"] as? String == "バリ取り工程の自動化（研削）")
        for (id, field) in [(event, "date"), (org, "prefecture"), (seed, "licensable"), (need, "title")] {
            let entries = try Self.history(yamada, id)
            #expect(entries.contains { $0["field"] as? String == field && $0["author"] as? String == sato.advisor })
        }

        // Moving someone else's activity into one's own case is the author's or the owner's call.
        let satoCase = try sato.check(["case", "add", "--title", "研削ロボットの導入支援", "--kind", "consultation"]).output
        try WriteRightsEndToEndTests.expectRefused(
            sato, ["event", "set", event, "case=\(satoCase)"], mentioning: "only the event's author or the owner")

        // And removes them: gone on Yamada's laptop after a sync, the delete in the log.
        for (kind, id) in [("event", event), ("seed", seed), ("need", need), ("org", org)] {
            try sato.check([kind, "delete", id])
        }
        try sato.check(["sync"])
        try yamada.check(["sync"])
        for (kind, id) in [("event", event), ("seed", seed), ("need", need), ("org", org)] {
            let gone = try yamada.run([kind, "show", id])
            #expect(gone.status == 65, "\(kind) show after delete: \(gone)")
            #expect(try Self.history(yamada, id).contains { $0["op"] as? String == "delete" })
        }
        #expect(try yamada.check(["event", "list", caseID]).output.isEmpty)
        // A delete made by mistake is undone, and the record comes back everywhere.
        #expect(try yamada.check(["seed", "restore", seed]).output == seed)
        try WriteRightsEndToEndTests.expectRefused(
            yamada, ["need", "set", need, "title=復活前"], code: 65, mentioning: "id")
        try yamada.check(["event", "restore", event])
        try yamada.check(["sync"])
        try sato.check(["sync"])
        #expect(try Self.object(sato, ["seed", "show", seed])["licensable"] as? Bool == false)
        #expect(try Self.object(sato, ["event", "show", event])["kind"] as? String == "meeting")
        let notDeleted = try sato.run(["seed", "restore", seed])
        #expect(notDeleted.status == 65 && notDeleted.stderr.contains("削除されていません"), "\(notDeleted)")

        // A word that is not a subcommand names the valid ones, whatever follows it.
        let unknown = try yamada.run(["org", "rename", org, "--name", "川崎精密"])
        #expect(unknown.status == 64, "\(unknown)")
        #expect(unknown.stderr.contains("unknown subcommand") && unknown.stderr.contains("merge"), "\(unknown.stderr)")
        for arguments in [["evnt", "list", caseID], ["conflicts", "clear"], ["seed", "remove", seed]] {
            let result = try yamada.run(arguments)
            #expect(result.status == 64 && result.stderr.contains("unknown subcommand"), "\(arguments): \(result)")
        }
        server.stop()
    }

    @Test func futureDatesAreRefusedOnTheLaptopWithNothingQueued() async throws {
        let server = ServerProcess()
        try await server.start()
        let yamada = try Laptop.enroll(server, "山田太郎")
        try yamada.check(["sync"])
        let caseID = try yamada.check(["case", "add", "--title", "表面処理の相談", "--kind", "consultation"]).output
        let tomorrow = CalendarDate(japanTimeOf: Int64(Date().timeIntervalSince1970 * 1000) + 86_400_000)
        let event = try yamada.check([
            "event", "add", caseID, "--kind", "meeting", "--date", tomorrow.description, "--body", "明日の打合せ",
        ]).output
        try WriteRightsEndToEndTests.expectRefused(
            yamada, ["event", "add", caseID, "--kind", "visit", "--date", "2029-06-03", "--body", "訪問"], code: 65,
            mentioning: "未来の日付")
        try WriteRightsEndToEndTests.expectRefused(
            yamada, ["event", "set", event, "date=２０２９／６／３"], code: 65, mentioning: "未来の日付")
        try yamada.check(["sync"])
        let status = try Self.object(yamada, ["status"])
        #expect((status["rejected"] as? [Any])?.isEmpty == true)
        server.stop()
    }

    @Test func aLaptopWhoseClockRunsDaysAheadHasItsFutureDateRefusedByTheServer() async throws {
        let server = ServerProcess()
        try await server.start()
        var yamada = try Laptop.enroll(server, "山田太郎")
        try yamada.check(["sync"])
        let caseID = try yamada.check(["case", "add", "--title", "表面処理の相談", "--kind", "consultation"]).output
        try yamada.check(["sync"])
        // The laptop's clock runs three days ahead: to it, a date two days ahead is today.
        yamada.environment["KAKEHASHI_TEST_CLOCK_SKEW_SECONDS"] = String(3 * 86_400)
        let ahead = CalendarDate(japanTimeOf: Int64(Date().timeIntervalSince1970 * 1000) + 2 * 86_400_000)
        let event = try yamada.check([
            "event", "add", caseID, "--kind", "visit", "--date", ahead.description, "--body", "工場を訪問した",
        ]).output
        let sync = try yamada.run(["sync"])
        #expect(sync.status == 0, "\(sync)")
        // The server refuses the date (by its own clock) and keeps the rest; the laptop keeps what
        // was typed in its refused store and says why.
        let refused = try yamada.check(["refused"]).stdout + (try yamada.check(["refused", "--json"]).stdout)
        #expect(refused.contains("未来の日付") && refused.contains(ahead.description), "\(refused)")
        yamada.environment = [:]
        let shown = try Self.object(yamada, ["event", "show", event])
        #expect(shown["body"] as? String == "工場を訪問した")
        #expect(shown["date"] is NSNull, "the server's value: the date never reached it")
        server.stop()
    }

    @Test func theSameCompanyAddedOfflineOnTwoLaptopsIsOneOrganizationAfterSync() async throws {
        let server = ServerProcess()
        try await server.start()
        let yamada = try Laptop.enroll(server, "山田太郎")
        let suzuki = try Laptop.enroll(server, "鈴木一郎", program: "matching-planner")
        for laptop in [yamada, suzuki] { try laptop.check(["sync"]) }

        // Offline, each adds the company as they write it, and a case of their own with it.
        let yamadaOrg = try yamada.check([
            "org", "add", "--name", "株式会社川崎精密製作所", "--kind", "中小企業", "--corporate-number", "3020001012345",
            "--prefecture", "神奈川県",
        ]).output
        let yamadaCase = try yamada.check([
            "case", "add", "--title", "バリ取り工程の自動化", "--kind", "ip-business-matching", "--org", yamadaOrg,
            "--level", "open",
        ]).output
        let suzukiOrg = try suzuki.check([
            "org", "add", "--name", "（株）川崎精密製作所", "--kind", "中小企業", "--corporate-number", "３０２０００１０１２３４５",
        ]).output
        let suzukiCase = try suzuki.check([
            "case", "add", "--title", "研削技術の大学シーズ紹介", "--kind", "ip-business-matching", "--org", suzukiOrg,
        ]).output
        // Adding it again on the same laptop answers with the one already there.
        let again = try yamada.run([
            "org", "add", "--name", "川崎精密製作所", "--kind", "中小企業", "--corporate-number", "3020-0010-12345",
        ])
        #expect(again.status == 0 && again.output == yamadaOrg, "\(again)")
        #expect(again.stderr.contains("既に登録されています") && again.stderr.contains("名称（name）"), "\(again.stderr)")
        #expect(again.stderr.contains("反映していません"), "what was typed and not applied is named")

        for laptop in [yamada, suzuki, yamada] { try laptop.check(["sync"]) }

        for laptop in [yamada, suzuki] {
            let organizations = try #require(try laptop.json(["org", "list"]) as? [[String: Any]])
            let company = organizations.filter { $0["corporate_number"] as? String == "3020001012345" }
            #expect(company.count == 1, "\(organizations)")
            let shown = try Self.object(laptop, ["org", "show", "3020001012345"])
            let organization = try #require(shown["organization"] as? [String: Any])
            #expect(organization["id"] as? String == company.first?["id"] as? String)
            #expect(organization["prefecture"] as? String == "kanagawa")
            let cases = try #require(shown["cases"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(Set(cases) == [yamadaCase, suzukiCase], "both cases are the company's")
            let found = try laptop.check(["search", "3020001012345"]).stdout
            #expect(found.contains("川崎精密製作所"), "\(found)")
        }
        let yamadaID = try Self.object(yamada, ["org", "show", "3020001012345"])["organization"] as? [String: Any]
        let suzukiID = try Self.object(suzuki, ["org", "show", "3020001012345"])["organization"] as? [String: Any]
        #expect(yamadaID?["id"] as? String == suzukiID?["id"] as? String)
        #expect(yamadaOrg == suzukiOrg, "the id comes from the 法人番号")
        // A record given the company's number later joins it, and says so.
        let plant = try yamada.check(["org", "add", "--name", "川崎精密 第二工場", "--kind", "中小企業"]).output
        let numbered = try yamada.check(["org", "set", plant, "corporate_number=3020001012345"])
        #expect(numbered.stderr.contains("同じ会社"), "\(numbered.stderr)")
        let afterSet = try #require(try yamada.json(["org", "list"]) as? [[String: Any]])
        #expect(afterSet.compactMap { $0["id"] as? String }.filter { [plant, yamadaOrg].contains($0) } == [yamadaOrg])
        // The two spellings of the name are an ordinary conflict, settled like any other.
        let conflicts = try #require(try yamada.json(["conflicts"]) as? [[String: Any]])
        let name = try #require(
            conflicts.first { $0["record"] as? String == yamadaOrg && $0["field"] as? String == "name" })
        try yamada.check(["conflicts", "resolve", try #require(name["id"] as? String), "--value", "株式会社川崎精密製作所"])
        try yamada.check(["sync"])
        try suzuki.check(["sync"])
        let settled = try Self.object(suzuki, ["org", "show", suzukiOrg])["organization"] as? [String: Any]
        #expect(settled?["name"] as? String == "株式会社川崎精密製作所")
        #expect(try #require(try suzuki.json(["conflicts"]) as? [[String: Any]]).isEmpty)
        server.stop()
    }

    @Test func organizationsWithoutANumberAreMergedByHandAndCasesFollow() async throws {
        let server = ServerProcess()
        try await server.start()
        let yamada = try Laptop.enroll(server, "山田太郎")
        let sato = try Laptop.enroll(server, "佐藤花子")
        for laptop in [yamada, sato] { try laptop.check(["sync"]) }

        let first = try yamada.check(["org", "add", "--name", "国立大学法人東北大学", "--kind", "university"]).output
        let firstCase = try yamada.check([
            "case", "add", "--title", "接合技術の共同研究", "--kind", "industry-academia", "--org", first,
        ]).output
        try yamada.check(["sync"])
        try sato.check(["sync"])
        let similar = try sato.run([
            "org", "add", "--name", "東北大学", "--kind", "university", "--prefecture", "宮城県",
        ])
        #expect(similar.status == 0, "\(similar)")
        #expect(similar.stderr.contains("名称の似た組織") && similar.stderr.contains(ShortID.of(first)))
        let second = similar.output
        let secondCase = try sato.check([
            "case", "add", "--title", "金属3Dプリンタの評価", "--kind", "consultation", "--org", second,
        ]).output
        let merged = try sato.check(["org", "merge", first, second])
        #expect(merged.output == first)
        #expect(merged.stderr.contains("prefecture"), "the kept organization takes the prefecture")
        // Two organizations with different 法人番号 are two companies.
        let kawasaki = try sato.check([
            "org", "add", "--name", "株式会社川崎精密製作所", "--kind", "sme", "--corporate-number", "3020001012345",
        ]).output
        let yokohama = try sato.check([
            "org", "add", "--name", "横浜表面処理株式会社", "--kind", "sme", "--corporate-number", "2020001077777",
        ]).output
        try WriteRightsEndToEndTests.expectRefused(
            sato, ["org", "merge", kawasaki, yokohama], code: 65, mentioning: "別の会社")
        try sato.check(["sync"])
        try yamada.check(["sync"])

        let organizations = try #require(try yamada.json(["org", "list"]) as? [[String: Any]])
        #expect(organizations.compactMap { $0["id"] as? String }.filter { [first, second].contains($0) } == [first])
        let shown = try Self.object(yamada, ["org", "show", second])
        #expect((shown["organization"] as? [String: Any])?["id"] as? String == first)
        #expect((shown["organization"] as? [String: Any])?["prefecture"] as? String == "miyagi")
        let cases = try #require(shown["cases"] as? [[String: Any]]).compactMap { $0["id"] as? String }
        #expect(Set(cases) == [firstCase, secondCase])
        let listed = try #require(try yamada.json(["case", "list", "--org", first]) as? [[String: Any]])
        #expect(Set(listed.compactMap { $0["id"] as? String }) == [firstCase, secondCase])
        #expect(try Self.history(yamada, second).contains { $0["field"] as? String == "merged_into" })
        // A record with a 法人番号 merged into one without: the number moves to the one kept.
        let numbered = try yamada.check([
            "org", "add", "--name", "東北大学（法人番号あり）", "--kind", "university", "--corporate-number", "7370005002147",
        ]).output
        try WriteRightsEndToEndTests.expectRefused(
            yamada, ["org", "set", numbered, "merged_into=\(first)"], code: 65, mentioning: "同じ法人番号")
        try yamada.check(["org", "merge", first, numbered])
        let byNumber = try #require(
            try Self.object(yamada, ["org", "show", "7370005002147"])["organization"] as? [String: Any])
        #expect(byNumber["id"] as? String == first && byNumber["corporate_number"] as? String == "7370005002147")
        try yamada.check(["sync"])
        #expect(
            try #require(try Self.object(yamada, ["status"])["rejected"] as? [Any]).isEmpty, "the server took the merge"
        )
        server.stop()
    }

    @Test func aCaseIsCreatedInOnesOwnProgramAndAColleagueIsSharedNotReferred() async throws {
        let server = ServerProcess()
        try await server.start()
        let yamada = try Laptop.enroll(server, "山田太郎")
        let sato = try Laptop.enroll(server, "佐藤花子")
        for laptop in [yamada, sato] { try laptop.check(["sync"]) }
        try WriteRightsEndToEndTests.expectRefused(
            yamada,
            ["case", "add", "--title", "他事業の案件", "--kind", "consultation", "--program", "matching-planner"],
            mentioning: "自分の事業")
        let caseID = try yamada.check([
            "case", "add", "--title", "表面処理技術の事業化", "--kind", "consultation", "--program", "business-production",
        ]).output
        try WriteRightsEndToEndTests.expectRefused(
            yamada, ["case", "refer", caseID, "佐藤花子", "--note", "手伝ってほしい"], code: 65,
            mentioning: "kakehashi case share")
        try yamada.check(["case", "share", caseID, "佐藤花子"])
        server.stop()
    }
}
