import Foundation
import Testing

/// Who may change what, as advisors meet it on real laptops: the laptop refuses, before anything
/// is written, what the server would refuse (exit 77 with the reason), and an administrator hands a
/// leaver's case to a colleague.
@Suite struct WriteRightsEndToEndTests {
    /// Pending changes on a laptop.
    static func pending(_ laptop: Laptop) throws -> Int {
        let status = try #require(try laptop.json(["status"]) as? [String: Any])
        return try #require(status["pending"] as? Int)
    }

    /// Runs a command that must be refused on the laptop with exit `code`, leaving nothing to sync.
    static func expectRefused(
        _ laptop: Laptop, _ arguments: [String], code: Int32 = 77, mentioning text: String
    ) throws {
        let before = try pending(laptop)
        let result = try laptop.run(arguments)
        #expect(result.status == code, "\(arguments): \(result)")
        #expect(result.stderr.contains(text), "\(arguments): \(result.stderr)")
        #expect(try pending(laptop) == before, "\(arguments) queued a change")
    }

    @Test func laptopsRefuseWhatTheServerWouldAndAnAdminReassignsACase() async throws {
        let server = ServerProcess()
        try await server.start()
        let owner = try Laptop.enroll(server, "山田太郎")
        let colleague = try Laptop.enroll(server, "佐藤花子")
        let partner = try Laptop.enroll(server, "高橋次郎", program: "coordinator")
        let planner = try Laptop.enroll(server, "鈴木一郎", program: "matching-planner")
        for laptop in [owner, colleague, partner, planner] { try laptop.check(["sync"]) }

        let confidential = try owner.check([
            "case", "add", "--title", "表面処理技術の事業化", "--kind", "ip-business-matching",
            "--participant", partner.advisor,
        ]).output
        let open = try owner.check([
            "case", "add", "--title", "開放特許の活用相談", "--kind", "consultation", "--level", "open",
        ]).output
        try owner.check(["sync"])
        for laptop in [colleague, partner, planner] { try laptop.check(["sync"]) }

        // A colleague of the same program edits the content, but cannot lower the level.
        try colleague.check(["case", "set", confidential, "stage=matching"])
        try Self.expectRefused(colleague, ["case", "set", confidential, "level=open"], mentioning: "only the owner")
        try Self.expectRefused(
            colleague, ["case", "refer", confidential, planner.advisor, "--note", "紹介"],
            mentioning: "only the owner or a participant")
        // A participant may refer the case to another program, but not share it.
        try Self.expectRefused(
            partner, ["case", "share", confidential, colleague.advisor], mentioning: "only the owner")
        try partner.check(["case", "refer", confidential, planner.advisor, "--note", "マッチング先の大学を探してほしい"])
        // Another program reads an open case and never writes to it.
        try Self.expectRefused(
            planner, ["case", "set", open, "title=乗っ取り"], mentioning: "may read case")
        try Self.expectRefused(
            planner, ["event", "add", open, "--kind", "note", "--body", "メモ"], mentioning: "may read case")
        // A referral goes to another program.
        try Self.expectRefused(
            owner, ["case", "refer", open, colleague.advisor, "--note", "同じ事業内"], code: 65,
            mentioning: "another program")

        for laptop in [colleague, partner] {
            let sync = try laptop.run(["sync", "--json"])
            #expect(sync.status == 0, "\(sync)")
        }
        try owner.check(["sync"])
        let shown = try #require(try owner.json(["case", "show", confidential]) as? [String: Any])
        #expect(shown["level"] as? String == "confidential")
        #expect(shown["stage"] as? String == "matching")
        #expect((shown["participants"] as? [String])?.contains(planner.advisor) == true)

        // The owner leaves; an administrator hands the case to the colleague, who now controls it.
        try server.admin(["advisor", "deactivate", owner.advisor])
        let badAdvisor = try Executables.run(
            "kakehashi-server", ["case", "reassign", confidential, owner.advisor, "--db", server.database])
        #expect(badAdvisor.status == 65 && badAdvisor.stderr.contains("advisor"), "\(badAdvisor)")
        let listed = try server.admin(["case", "list", "--owner", owner.advisor])
        #expect(listed.contains(confidential) && listed.contains(open))
        #expect(!listed.contains("表面処理技術"), "the admin list shows no content")
        try server.admin(["case", "reassign", confidential, colleague.advisor])
        #expect(!(try server.admin(["case", "list", "--owner", owner.advisor])).contains(confidential))
        try colleague.check(["sync"])
        try colleague.check(["case", "set", confidential, "level=strict"])
        try colleague.check(["sync"])
        try partner.check(["sync"])
        let after = try #require(try partner.json(["case", "show", confidential]) as? [String: Any])
        #expect(after["owner"] as? String == colleague.advisor)
        #expect(after["level"] as? String == "strict")
        server.stop()
    }
}
