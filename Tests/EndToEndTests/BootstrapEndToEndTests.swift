import Foundation
import KakehashiShared
import Testing

/// A laptop enrolled after the work was done bootstraps from merged states (Docs/protocol.md,
/// "Bootstrap from states"): it can search and read every record after its first sync, `log`
/// says while part of the history has not arrived, a change the server refuses meanwhile leaves
/// the record as the server holds it, and later syncs bring the whole history.
/// Real `kakehashi` and `kakehashi-server` processes over loopback.
@Suite struct BootstrapEndToEndTests {
    static let title = "精密切削の歩留まり改善と開放特許の活用"
    static let summary = "川崎市の中小企業と大学研究室の三者で、治具と熱処理条件を見直す試作案件"

    @Test func aNewLaptopStartsFromStatesAndItsHistoryFollowsInLaterSyncs() async throws {
        let server = ServerProcess()
        try await server.start()
        let owner = try Laptop.enroll(server, "山田太郎", environment: ["COLUMNS": "80"])
        let org = try owner.check(["org", "add", "--name", "株式会社川崎精密製作所", "--kind", "中小企業"]).output
        let caseID = try owner.check([
            "case", "add", "--title", Self.title, "--kind", "ip-business-matching", "--org", org, "--summary",
            Self.summary,
        ]).output
        for (index, body) in ["工場を訪問し課題を聴取した。", "大学の研究室と打合せ。", "試作条件を決定した。"].enumerated() {
            try owner.check(["event", "add", caseID, "--kind", "visit", "--date", "2026-05-1\(index)", "--body", body])
        }
        try owner.check(["case", "set", caseID, "stage=matching"])
        try owner.check(["case", "set", caseID, "stage=prototyping"])
        try owner.check(["sync"])

        // Sato joins now: her laptop receives states, and its history five changes a sync.
        let (advisor, code) = try server.advisor("佐藤花子", program: "business-production")
        let sato = Laptop(
            advisor: advisor, environment: ["COLUMNS": "80", "KAKEHASHI_TEST_HISTORY_PER_SYNC": "5"])
        let enrolled = try sato.check(["init", "--server", server.url, "--code", code])
        #expect(enrolled.stderr.contains("records as they stand"), "\(enrolled)")
        #expect(enrolled.stderr.contains("変更履歴 (kakehashi log) の一部はまだ受信していません"), "\(enrolled)")

        // Everything is there at once: search, the case, its events.
        #expect(try sato.check(["search", "歩留まり", "--json"]).stdout.contains(caseID))
        let shown = try #require(try sato.json(["case", "show", caseID]) as? [String: Any])
        #expect(shown["title"] as? String == Self.title && shown["stage"] as? String == "prototyping")
        let log = try sato.check(["log", caseID])
        #expect(log.stdout.contains("履歴の一部はまだこの端末に届いていません"), "\(log)")
        for line in log.stdout.split(separator: "\n") { #expect(DisplayWidth.of(String(line)) <= 80, "\(line)") }
        let status = try sato.check(["status"])
        #expect(status.stdout.contains("一部未受信（次の sync で受信）"), "\(status)")
        #expect((try sato.json(["status"]) as? [String: Any])?["historyPending"] as? Bool == true)
        let jsonLog = try sato.check(["log", caseID, "--json"])
        #expect(jsonLog.stderr.contains("履歴の一部はまだこの端末に届いていません"))
        #expect((try jsonLog.json() as? [Any]) != nil)

        // Sato's laptop clock runs a quarter of an hour ahead when she edits the summary: the
        // server refuses the change (clock-skew), and the laptop rebuilds the case without it and
        // writes it again with the corrected clock. Its history has not arrived, so the rebuild
        // starts from the state received: nothing else of the case may go.
        var skewed = sato
        skewed.environment["KAKEHASHI_TEST_CLOCK_SKEW_SECONDS"] = "900"
        try skewed.check(["case", "set", caseID, "summary=\(Self.summary)（改訂）"])
        try skewed.check(["sync"])
        let rebuilt = try #require(try sato.json(["case", "show", caseID]) as? [String: Any])
        #expect(rebuilt["title"] as? String == Self.title && rebuilt["stage"] as? String == "prototyping")
        #expect(rebuilt["summary"] as? String == "\(Self.summary)（改訂）")
        #expect(try sato.check(["search", "歩留まり", "--json"]).stdout.contains(caseID))

        // Later syncs bring the rest of the history; then `log` shows what the owner's shows.
        var syncs = 0
        while try sato.check(["sync"]).stdout.contains("変更履歴 (kakehashi log) の一部はまだ") {
            syncs += 1
            try #require(syncs < 50, "the history never completed")
        }
        #expect(!(try sato.check(["log", caseID]).stdout.contains("履歴の一部はまだ")))
        #expect((try sato.json(["status"]) as? [String: Any])?["historyPending"] as? Bool == false)
        try owner.check(["sync"])
        func changes(_ laptop: Laptop) throws -> Set<String> {
            let entries = try #require(try laptop.json(["log", caseID]) as? [[String: Any]])
            return Set(entries.filter { $0["status"] as? String == "synced" }.compactMap { $0["change"] as? String })
        }
        #expect(try changes(sato) == changes(owner))
    }

    /// A laptop that gains access to a case in the change stream (its level lowered) receives
    /// the case and its events as they stand, not their history; `log` says while the case's
    /// history has not arrived, and later syncs bring it, until `log` shows what the owner's
    /// shows (Docs/protocol.md, "Gained records as states").
    @Test func aLaptopThatGainsACaseGetsItAsItStandsAndItsHistoryFollows() async throws {
        let server = ServerProcess()
        try await server.start()
        let owner = try Laptop.enroll(server, "山田太郎", environment: ["COLUMNS": "80"])
        let org = try owner.check(["org", "add", "--name", "株式会社川崎精密製作所", "--kind", "中小企業"]).output
        let caseID = try owner.check([
            "case", "add", "--title", Self.title, "--kind", "ip-business-matching", "--org", org, "--summary",
            Self.summary, "--level", "strict",
        ]).output
        var events: [String] = []
        for (index, body) in ["工場を訪問し課題を聴取した。", "大学の研究室と打合せ。", "試作条件を決定した。"].enumerated() {
            events.append(
                try owner.check([
                    "event", "add", caseID, "--kind", "visit", "--date", "2026-05-1\(index)", "--body", body,
                ]).output)
        }
        try owner.check(["case", "set", caseID, "stage=matching"])
        try owner.check(["sync"])

        // Sato joins while the case is strict: she may not see it.
        let (advisor, code) = try server.advisor("佐藤花子", program: "business-production")
        let sato = Laptop(
            advisor: advisor, environment: ["COLUMNS": "80", "KAKEHASHI_TEST_HISTORY_PER_SYNC": "3"])
        try sato.check(["init", "--server", server.url, "--code", code])
        var syncs = 0
        while try sato.check(["sync"]).stdout.contains("変更履歴 (kakehashi log) の一部はまだ") {
            syncs += 1
            try #require(syncs < 50, "the bootstrap's history never completed")
        }
        #expect(!(try sato.check(["search", "歩留まり", "--json"]).stdout.contains(caseID)))

        // The level is lowered: the case and its events arrive as they stand.
        try owner.check(["case", "set", caseID, "level=confidential"])
        try owner.check(["case", "set", caseID, "stage=prototyping"])
        try owner.check(["sync"])
        let gained = try sato.check(["sync"])
        #expect(gained.stdout.contains("records as they stand"), "\(gained)")
        #expect(gained.stdout.contains("変更履歴 (kakehashi log) の一部はまだ受信していません"), "\(gained)")
        #expect(try sato.check(["search", "歩留まり", "--json"]).stdout.contains(caseID))
        let shown = try #require(try sato.json(["case", "show", caseID]) as? [String: Any])
        #expect(shown["title"] as? String == Self.title && shown["stage"] as? String == "prototyping")
        #expect(try sato.check(["log", caseID]).stdout.contains("履歴の一部はまだこの端末に届いていません"))
        // An event's history comes with its case's.
        #expect(try sato.check(["log", events[0]]).stdout.contains("履歴の一部はまだこの端末に届いていません"))
        #expect((try sato.json(["status"]) as? [String: Any])?["historyPending"] as? Bool == true)

        // Later syncs bring the case's history; then `log` shows what the owner's shows.
        syncs = 0
        while try sato.check(["sync"]).stdout.contains("変更履歴 (kakehashi log) の一部はまだ") {
            syncs += 1
            try #require(syncs < 50, "the gained case's history never completed")
        }
        #expect(!(try sato.check(["log", caseID]).stdout.contains("履歴の一部はまだ")))
        #expect((try sato.json(["status"]) as? [String: Any])?["historyPending"] as? Bool == false)
        try owner.check(["sync"])
        #expect(!(try sato.check(["log", events[0]]).stdout.contains("履歴の一部はまだ")))
        func changes(_ laptop: Laptop, _ record: String) throws -> Set<String> {
            let entries = try #require(try laptop.json(["log", record]) as? [[String: Any]])
            return Set(entries.filter { $0["status"] as? String == "synced" }.compactMap { $0["change"] as? String })
        }
        for record in [caseID] + events { #expect(try changes(sato, record) == changes(owner, record)) }
        #expect(try changes(sato, caseID).count > 5)
    }
}
