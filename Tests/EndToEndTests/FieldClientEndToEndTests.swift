import Foundation
import KakehashiShared
import Testing

/// Real `kakehashi` processes syncing through a real `kakehashi-server` over loopback.
@Suite struct FieldClientEndToEndTests {
    @Test func twoLaptopsConvergeAndAConflictIsShownAndResolved() async throws {
        let server = ServerProcess()
        try await server.start()
        let yamada = try Laptop.enroll(server, "山田太郎")
        // Sato's clock runs a second ahead (under the 2 s a sync corrects), so Sato's write below
        // is the later one without the test having to sleep.
        let sato = try Laptop.enroll(server, "佐藤花子", environment: ["KAKEHASHI_TEST_CLOCK_SKEW_SECONDS": "1"])

        let org = try yamada.check(["org", "add", "--name", "株式会社川崎精密製作所", "--kind", "中小企業", "--prefecture", "神奈川県"])
            .output
        let caseID = try yamada.check([
            "case", "add", "--title", "精密加工技術の試作マッチング", "--kind", "ip-business-matching", "--org", org, "--tag", "精密加工",
        ]).output
        try yamada.check(["sync"])
        try sato.check(["sync"])
        #expect((try sato.json(["case", "show", caseID]) as? [String: Any])?["title"] as? String == "精密加工技術の試作マッチング")

        // Both edit the stage offline; Sato's write is later and wins on every replica.
        try yamada.check(["case", "stage", caseID, "matching"])
        try sato.check(["case", "stage", caseID, "prototyping"])
        try yamada.check(["event", "add", caseID, "--kind", "visit", "--body", "工場を訪問し、試作の課題を聴取した。"])
        try yamada.check(["sync"])
        try sato.check(["sync"])
        try yamada.check(["sync"])

        let shownA = try yamada.check(["case", "show", caseID, "--json"]).output
        let shownB = try sato.check(["case", "show", caseID, "--json"]).output
        #expect(shownA == shownB)
        let conflicts = try #require(try yamada.json(["conflicts"]) as? [[String: Any]])
        #expect(conflicts.count == 1)
        let other = try #require(conflicts.first?["other"] as? [String: Any])
        #expect(other["value"] as? String == "matching" && other["mine"] as? Bool == true)
        let conflictID = try #require(conflicts.first?["id"] as? String)

        try yamada.check(["conflicts", "resolve", conflictID, "--keep", "mine"])
        try yamada.check(["sync"])
        try sato.check(["sync"])
        #expect((try yamada.json(["conflicts"]) as? [Any])?.isEmpty == true)
        #expect((try sato.json(["conflicts"]) as? [Any])?.isEmpty == true)
        let stage = (try sato.json(["case", "show", caseID]) as? [String: Any])?["stage"] as? String
        #expect(stage == "matching")
        #expect(
            try yamada.check(["case", "show", caseID, "--json"]).output
                == sato.check(["case", "show", caseID, "--json"]).output)
        let events = try #require(try sato.json(["event", "list", caseID]) as? [[String: Any]])
        #expect(events.first?["body"] as? String == "工場を訪問し、試作の課題を聴取した。")
    }

    @Test func everyCommandButSyncWorksWithTheServerUnreachable() async throws {
        let server = ServerProcess()
        try await server.start()
        let laptop = try Laptop.enroll(server, "高橋次郎")
        let colleague = try server.advisor("鈴木一郎", program: "matching-planner").id
        try laptop.check(["sync"])  // learn the colleague from the directory
        server.stop()

        let org = try laptop.check([
            "org", "add", "--name", "さいたま工業株式会社", "--kind", "sme", "--corporate-number", "7000012050002",
        ]).output
        try laptop.check(["org", "list"])
        try laptop.check(["org", "show", org])
        let caseID = try laptop.check(["case", "add", "--title", "知財活用の相談", "--kind", "consultation", "--org", org])
            .output
        try laptop.check(["case", "list", "--mine"])
        try laptop.check(["case", "show", caseID])
        try laptop.check(["case", "set", caseID, "summary=開放特許の活用を検討", "tags=知財,マッチング"])
        try laptop.check(["case", "stage", caseID, "discovery"])
        try laptop.check(["case", "share", caseID, colleague])
        try laptop.check(["case", "unshare", caseID, colleague])
        try laptop.check(["case", "refer", caseID, colleague, "--note", "知財戦略の支援をお願いします"])
        let event = try laptop.check([
            "event", "add", caseID, "--kind", "consultation", "--body", "社長と面談", "--date", "2026-04-01",
        ]).output
        try laptop.check(["event", "list", caseID])
        let seed = try laptop.check(["seed", "add", "--title", "表面処理の開放特許", "--kind", "open-patent", "--tag", "知財"])
            .output
        try laptop.check(["seed", "list"])
        let need = try laptop.check(["need", "add", "--title", "知財を活かした表面処理", "--org", org]).output
        try laptop.check(["need", "list"])
        let match = try laptop.check(["match", need, "--json"])
        #expect(match.stdout.contains(seed))
        #expect(try laptop.check(["search", "知財"]).stdout.contains(caseID.dropFirst(24).prefix(10)))
        try laptop.check(["conflicts"])
        try laptop.check(["log", caseID])
        try laptop.check(["log", event])
        try laptop.check(["advisor", "list"])
        try laptop.check(["status"])
        try laptop.check(["case", "delete", caseID])

        let sync = try laptop.run(["sync"])
        #expect(sync.status == 69)
        #expect(sync.stderr.contains("cannot reach the server"))
        let status = try #require(try laptop.json(["status"]) as? [String: Any])
        #expect((status["pending"] as? Int ?? 0) > 0)
    }

    @Test func badInputExits65WithAMessageAndChangesNothing() async throws {
        let server = ServerProcess()
        try await server.start()
        let laptop = try Laptop.enroll(server, "田中誠")
        let caseID = try laptop.check(["case", "add", "--title", "試作評価", "--kind", "venture"]).output
        let before = try laptop.check(["status", "--json"]).output
        let badFile = laptop.home.path + "/bad.txt"
        _ = FileManager.default.createFile(atPath: badFile, contents: Data([0x8E, 0xE3, 0x81, 0xFF, 0x0A]))

        let attempts: [([String], String)] = [
            (["case", "add", "--title", "試作", "--kind", "partnership"], "kind"),
            (["event", "add", caseID, "--kind", "visit", "--body", "訪問", "--date", "2026-02-30"], "date"),
            (["case", "show", "0192f1c4-0000-7000-8000-000000000000"], "id"),
            (["case", "set", caseID, "stage=finished"], "stage"),
            (["case", "add", "--title", String(repeating: "長", count: 201), "--kind", "venture"], "title"),
            (["event", "add", caseID, "--kind", "note", "--body-file", badFile], "body-file"),
            (
                ["org", "add", "--name", "株式会社テスト", "--kind", "sme", "--corporate-number", "1234567890123"],
                "corporate_number"
            ),
        ]
        for (arguments, field) in attempts {
            let result = try laptop.run(arguments)
            #expect(result.status == 65, "\(arguments): \(result)")
            #expect(result.stderr.contains(field), "\(arguments) should name \(field): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        #expect(try laptop.check(["status", "--json"]).output == before)
        #expect(try laptop.run(["case", "list", "--bogus"]).status == 64)
    }
}

/// Revocation through the real server: the laptop's next sync is refused and wipes its data.
@Suite struct RevocationEndToEndTests {
    @Test func aRevokedLaptopIsToldAndItsDataIsWiped() async throws {
        let server = ServerProcess()
        try await server.start()
        let laptop = try Laptop.enroll(server, "小林修")
        try laptop.check(["case", "add", "--title", "機密の共同研究", "--kind", "industry-academia", "--level", "secret"])
        try laptop.check(["sync"])
        let device = try #require((try laptop.json(["status"]) as? [String: Any])?["device"] as? String)
        try server.admin(["revoke", device])

        let sync = try laptop.run(["sync"])
        #expect(sync.status == 77, "\(sync)")
        #expect(sync.stderr.contains("wiped"))
        #expect(!FileManager.default.fileExists(atPath: laptop.home.path + "/kakehashi.sqlite"))
        #expect(try laptop.run(["case", "list"]).status == 77)
    }
}
