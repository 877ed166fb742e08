import Foundation
import KakehashiShared
import KakehashiTestSupport
import Testing

/// Knowledge sharing on the laptop: who else already supports a company, handing a case to
/// another program, and the good practices that come out of it.
@Suite struct KnowledgeSharingEndToEndTests {
    typealias Scenario = ExportEndToEndTests.Scenario

    @Test func orgShowTellsAnotherProgramWhoElseSupportsTheCompanyWithoutTheContent() async throws {
        let scenario = try await Scenario.make()
        try scenario.sato.check(["sync"])
        let cases = try #require(try scenario.yamada.json(["case", "list"]) as? [[String: Any]])
        let company = try #require(
            cases.first { $0["id"] as? String == scenario.openCase }?["organizations"] as? [String])
        let shown = try #require(try scenario.sato.json(["org", "show", company[0]]) as? [String: Any])
        let listed = try #require(shown["cases"] as? [[String: Any]])
        // The open case in full; METI's confidential case as a stub; nothing of the strict one.
        #expect(Set(listed.compactMap { $0["id"] as? String }) == [scenario.openCase, scenario.confidentialCase])
        let stub = try #require(listed.first { $0["id"] as? String == scenario.confidentialCase })
        #expect(stub["title"] is NSNull && stub["summary"] is NSNull)
        #expect(
            stub["program"] as? String == "business-production" && stub["owner"] as? String == scenario.yamada.advisor)
        #expect(stub["stage"] as? String == "intake")
        let open = try #require(listed.first { $0["id"] as? String == scenario.openCase })
        #expect(open["title"] as? String == "開放特許を活用した精密部品の試作")
        // The table form says the same for people, and no canary reaches the other laptop.
        let table = try scenario.sato.check(["org", "show", company[0]]).stdout
        #expect(table.contains("山田太郎") && table.contains("事業プロデュース"))
        let everything = try scenario.sato.check(["search", "KANARIA"]).stdout
        #expect(!everything.contains(ExportEndToEndTests.confidentialCanary))
    }

    @Test func aReferralHandsTheCaseToTheOtherProgramWhoseLessonsBecomeGoodPractice() async throws {
        let scenario = try await Scenario.make()
        try scenario.ito.check(["sync"])
        #expect(
            try scenario.ito.run(["case", "show", scenario.confidentialCase, "--json"]).stdout.contains(
                ExportEndToEndTests.confidentialCanary) == false)

        let referral = try scenario.yamada.check([
            "case", "refer", scenario.confidentialCase, "伊藤誠", "--note", "共同出願の前に知財戦略の助言をお願いします。",
        ]).output
        try scenario.yamada.check(["sync"])
        try scenario.ito.check(["sync"])
        // Now a participant, the IP advisor sees the case in full, with the referral event.
        let shown = try #require(try scenario.ito.json(["case", "show", scenario.confidentialCase]) as? [String: Any])
        #expect((shown["title"] as? String)?.contains(ExportEndToEndTests.confidentialCanary) == true)
        #expect((shown["participants"] as? [String])?.contains(scenario.ito.advisor) == true)
        let events = try #require(
            try scenario.ito.json(["event", "list", scenario.confidentialCase]) as? [[String: Any]])
        let event = try #require(events.first { $0["id"] as? String == referral })
        #expect(event["kind"] as? String == "referral" && event["referred_to"] as? String == scenario.ito.advisor)

        // The IP advisor's lesson on the good-practice case reaches METI's export.
        try scenario.ito.check([
            "event", "add", scenario.confidentialCase, "--kind", "lesson", "--date", "2026-07-01",
            "--body", "出願前に大学の知財部門を交えると、持分の調整が早い。",
        ])
        try scenario.ito.check(["sync"])
        let work = TemporaryDirectory("exports")
        let out = try scenario.export("meti", ["--format", "jsonl"], into: work.path)
        let lessons = try ExportEndToEndTests.rows(out, "good-practices").filter {
            $0["case"] as? String == scenario.confidentialCase
        }
        #expect(
            lessons.contains {
                $0["lesson"] as? String == "出願前に大学の知財部門を交えると、持分の調整が早い。" && $0["author"] as? String == "伊藤誠"
            })
    }
}
