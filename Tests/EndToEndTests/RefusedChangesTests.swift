import Foundation
import KakehashiShared
import Testing

/// Offline work that cannot stay in the records (the server refused it, or access to its case was
/// withdrawn) is kept in the refused store, and `kakehashi refused` shows, prints and exports it.
/// Real `kakehashi` and `kakehashi-server` processes over loopback.
@Suite struct RefusedChangesTests {
    static let note = """
        工場を訪問し、試作の課題を聴取した。社長によれば、精密切削の歩留まりが七割を切っており、治具の見直しと
        熱処理条件の再検討が必要とのこと。次回は大学の研究室と三者で打合せを行い、共同研究の可否を判断する。
        """
    static let summary = "開放特許を活用した精密加工の試作と量産化の支援"

    /// Two laptops of one program, a strict (厳秘) case of Yamada's shared with Sato, and Sato's
    /// laptop holding it.
    func sharedStrictCase(
        _ server: ServerProcess, level: String = "strict", participantProgram: String = "business-production"
    ) throws -> (owner: Laptop, participant: Laptop, caseID: String) {
        let owner = try Laptop.enroll(server, "山田太郎", environment: ["COLUMNS": "80"])
        let participant = try Laptop.enroll(
            server, "佐藤花子", program: participantProgram, environment: ["COLUMNS": "80"])
        try owner.check(["sync"])
        let caseID = try owner.check([
            "case", "add", "--title", "精密加工技術の試作マッチング", "--kind", "ip-business-matching", "--level", level,
            "--participant", participant.advisor,
        ]).output
        try owner.check(["sync"])
        try participant.check(["sync"])
        #expect(try participant.run(["case", "show", caseID]).status == 0)
        return (owner, participant, caseID)
    }

    @Test func workWrittenOfflineOnACaseThatWasUnsharedIsKeptAndCanBeReadAndExported() async throws {
        let server = ServerProcess()
        try await server.start()
        let (owner, sato, caseID) = try sharedStrictCase(server)

        // Sato, offline, writes a note and edits the summary; meanwhile Yamada unshares the case.
        let event = try sato.check(["event", "add", caseID, "--kind", "visit", "--body", Self.note]).output
        try sato.check(["case", "set", caseID, "summary=\(Self.summary)"])
        try owner.check(["case", "unshare", caseID, sato.advisor])
        try owner.check(["sync"])

        let sync = try sato.run(["sync"])
        #expect(sync.status == 0, "\(sync)")
        #expect(sync.stdout.contains("サーバーが 2 件の変更を受け付けませんでした"), "\(sync)")
        #expect(sync.stdout.contains("kakehashi refused"))

        // The case and the note are gone from Sato's records, as the owner decided.
        let show = try sato.run(["case", "show", caseID])
        #expect(show.status == 65, "\(show)")
        #expect(!(try sato.check(["case", "list", "--json"]).stdout.contains(caseID)))
        #expect(try sato.run(["search", "歩留まり"]).stdout.contains(event) == false)

        // …but what Sato typed is in the refused store, in full.
        let entries = try #require(try sato.json(["refused"]) as? [[String: Any]])
        #expect(entries.count == 2, "\(entries)")
        let noteEntry = try #require(entries.first { $0["entity"] as? String == "event" })
        let summaryEntry = try #require(entries.first { $0["entity"] as? String == "case" })
        #expect(noteEntry["record"] as? String == event)
        #expect(noteEntry["case"] as? String == caseID)
        #expect(noteEntry["cause"] as? String == "rejected")
        #expect(noteEntry["code"] as? String == "forbidden")
        let noteChanges = try #require(noteEntry["changes"] as? [[String: Any]])
        #expect(noteChanges.contains { $0["field"] as? String == "body" && $0["value"] as? String == Self.note })
        let summaryChanges = try #require(summaryEntry["changes"] as? [[String: Any]])
        #expect(summaryChanges.map { $0["value"] as? String } == [Self.summary])
        #expect(summaryEntry["record"] as? String == caseID)
        // What Sato typed stays; what the owner wrote (the case title) left with the case.
        let title = "精密加工技術の試作マッチング"
        #expect(!(try sato.check(["refused", "--json"]).stdout.contains(title)))

        // The list: one line per record, aligned, within 80 columns.
        let list = try sato.check(["refused"])
        let lines = list.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(list)")
        #expect(lines.allSatisfy { DisplayWidth.of($0) <= 80 }, "\(list)")
        #expect(lines.contains { $0.contains("活動記録") && $0.contains("工場を訪問し") })
        #expect(lines.contains { $0.contains("案件") && $0.contains("開放特許を活用") })
        let noteID = try #require(noteEntry["id"] as? String)
        #expect(lines.contains { $0.hasPrefix(noteID) })

        // `show` takes a unique prefix and prints the whole note, never cut.
        let shown = try sato.check(["refused", "show", String(noteID.prefix(7))])
        for line in Self.note.split(separator: "\n") { #expect(shown.stdout.contains(line), "\(shown)") }
        #expect(shown.stdout.contains(caseID) && !shown.stdout.contains(title))
        let missing = try sato.run(["refused", "show", "zzzz"])
        #expect(missing.status == 65 && missing.stderr.contains("id"), "\(missing)")

        // `export` writes every entry to a JSON file, and never overwrites one unasked.
        let file = sato.home.path + "/refused.json"
        try sato.check(["refused", "export", file])
        let exported = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [[String: Any]])
        #expect(exported.count == 2)
        let exportedValues = exported.flatMap { ($0["changes"] as? [[String: Any]]) ?? [] }.compactMap {
            $0["value"] as? String
        }
        #expect(exportedValues.contains(Self.note) && exportedValues.contains(Self.summary))
        #expect(!String(decoding: try Data(contentsOf: URL(fileURLWithPath: file)), as: UTF8.self).contains(title))
        let again = try sato.run(["refused", "export", file])
        #expect(again.status == 65 && again.stderr.contains("file"), "\(again)")
        #expect(try sato.run(["refused", "export", file, "--force"]).status == 0)

        // `status` counts the entries; they stay until Sato removes them.
        let status = try #require(try sato.json(["status"]) as? [String: Any])
        #expect(status["refused"] as? Int == 2)
        try sato.check(["sync"])
        #expect((try sato.json(["refused"]) as? [Any])?.count == 2)
        #expect(try sato.run(["refused", "clear"]).status == 64)
        try sato.check(["refused", "clear", noteID])
        #expect((try sato.json(["refused"]) as? [Any])?.count == 1)
    }

    @Test func aChangeTheServerRefusesAsForbiddenIsKeptThoughTheCaseStays() async throws {
        let server = ServerProcess()
        try await server.start()
        // An open (共有) case: after the unshare Sato, of another program, may still read it but
        // no longer write to it.
        let (owner, sato, caseID) = try sharedStrictCase(
            server, level: "open", participantProgram: "matching-planner")
        let event = try sato.check(["event", "add", caseID, "--kind", "meeting", "--body", Self.note]).output
        try owner.check(["case", "unshare", caseID, sato.advisor])
        try owner.check(["sync"])

        let sync = try #require(try sato.json(["sync"]) as? [String: Any])
        #expect(sync["refused"] as? Int == 1, "\(sync)")
        #expect(sync["keptFromPurges"] as? Int == 0)
        #expect(try sato.run(["case", "show", caseID]).status == 0)
        #expect(try sato.run(["event", "list", caseID]).stdout.contains("工場を訪問") == false)

        let entries = try #require(try sato.json(["refused"]) as? [[String: Any]])
        #expect(entries.count == 1)
        let entry = try #require(entries.first)
        #expect(entry["record"] as? String == event)
        #expect(entry["code"] as? String == "forbidden")
        #expect((entry["reason"] as? String)?.isEmpty == false)
        #expect(entry["title"] as? String == "精密加工技術の試作マッチング")
        let shown = try sato.check(["refused", "show", try #require(entry["id"] as? String)])
        for line in Self.note.split(separator: "\n") { #expect(shown.stdout.contains(line), "\(shown)") }
        #expect(shown.stdout.contains("forbidden"))
    }

    @Test func ownChangesAlreadySyncedAreKeptWhenTheCaseIsPurged() async throws {
        let server = ServerProcess()
        try await server.start()
        let (owner, sato, caseID) = try sharedStrictCase(server)
        try sato.check(["event", "add", caseID, "--kind", "visit", "--body", Self.note])
        try sato.check(["sync"])
        #expect((try sato.json(["refused"]) as? [Any])?.isEmpty == true)
        try owner.check(["sync"])
        try owner.check(["case", "unshare", caseID, sato.advisor])
        try owner.check(["sync"])

        let sync = try sato.check(["sync"])
        #expect(sync.stdout.contains("あなたの変更 1 件を消える前に保管しました"), "\(sync)")
        #expect(try sato.run(["case", "show", caseID]).status == 65)
        let entries = try #require(try sato.json(["refused"]) as? [[String: Any]])
        #expect(entries.count == 1)
        let entry = try #require(entries.first)
        #expect(entry["cause"] as? String == "withdrawn")
        #expect(entry["case"] as? String == caseID && entry["title"] is NSNull)
        let changes = try #require(entry["changes"] as? [[String: Any]])
        #expect(changes.contains { $0["value"] as? String == Self.note && $0["onServer"] as? Bool == true })
        let status = try #require(try sato.json(["status"]) as? [String: Any])
        #expect(status["refused"] as? Int == 1)
    }
}
