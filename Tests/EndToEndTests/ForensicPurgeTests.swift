import Foundation
import GRDB
import KakehashiShared
import KakehashiTestSupport
import Testing

@testable import KakehashiClient

/// A laptop that loses access to a case keeps no recoverable trace of it (issue 10, point 4):
/// after the sync that loses it, a forensic reading of every file of the data directory — raw
/// bytes, every database page and WAL frame parsed as a B-tree page, and the FTS5 index decoded
/// term by term — finds no title, summary or event body of the case, in any form. Store files
/// the laptop unlinked are read through hard links taken before the sync, as a reader of the
/// disk would find their blocks.
@Suite struct ForensicPurgeTests {
    enum Loss: String, CaseIterable, Sendable, CustomStringConvertible {
        case unshare = "the owner unshares the case"
        case levelRaised = "the owner raises the level to strict"
        case participantsReplaced = "the owner sets participants= without the reader"
        case advisorDeactivated = "the reader's advisor is deactivated"
        case deviceRevoked = "the reader's device is revoked"
        case eventMoved = "the owner moves the event to a strict case"

        var description: String { rawValue }

        /// The reader takes part from another program (and keeps a stub of the case), rather than
        /// seeing it as a colleague of the owner's program.
        var readerIsParticipant: Bool { self == .unshare || self == .participantsReplaced }

        var wipesTheLaptop: Bool { self == .advisorDeactivated || self == .deviceRevoked }
    }

    /// Three canaries whose trigrams share nothing, so the case title may stay where only the
    /// event is lost.
    static func canaries() -> (title: Canary, summary: Canary, body: Canary) {
        while true {
            let made = (Canary.random(), Canary.random(), Canary.random())
            let sets = [made.0.trigrams, made.1.trigrams, made.2.trigrams]
            if sets[0].isDisjoint(with: sets[1]), sets[0].isDisjoint(with: sets[2]), sets[1].isDisjoint(with: sets[2]) {
                return made
            }
        }
    }

    /// Every regular file under `directory`.
    static func files(in directory: String) -> [String] {
        let paths = (try? FileManager.default.subpathsOfDirectory(atPath: directory)) ?? []
        return paths.map { directory + "/" + $0 }.filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }.sorted()
    }

    /// The ids `kakehashi search` lists for `words`.
    static func found(_ laptop: Laptop, _ words: String) throws -> [String] {
        let result = try laptop.run(["search", words, "--json"])
        guard result.status == 0, let hits = try? result.json() as? [[String: Any]] else { return [] }
        return hits.compactMap { $0["id"] as? String }
    }

    /// - Parameter bootstraps: the reader's laptop is enrolled after the case exists, so it
    ///   receives the case as merged states, not as changes, and writes to it while its history
    ///   (five changes a sync) has not all arrived, so the case as the server gave it is kept too.
    @Test(arguments: Loss.allCases, [false, true])
    func nothingOfALostCaseCanBeRecoveredFromTheLaptop(loss: Loss, bootstraps: Bool) async throws {
        let (title, summary, body) = Self.canaries()
        let server = ServerProcess()
        try await server.start()
        let owner = try Laptop.enroll(server, "山田太郎")
        let (advisor, code) = try server.advisor(
            "佐藤花子", program: loss.readerIsParticipant ? "matching-planner" : "business-production")
        let reader = Laptop(advisor: advisor, environment: ["KAKEHASHI_TEST_HISTORY_PER_SYNC": "5"])
        let enrollReader = ["init", "--server", server.url, "--code", code]
        if !bootstraps { try reader.check(enrollReader) }
        try owner.check(["sync"])  // learn the reader from the directory

        let org = try owner.check(["org", "add", "--name", "株式会社川崎精密製作所", "--kind", "中小企業", "--prefecture", "神奈川県"])
            .output
        var add = [
            "case", "add", "--title", "極秘試作 \(title)", "--kind", "ip-business-matching", "--org", org, "--summary",
            "概要：\(summary) の評価",
        ]
        if loss.readerIsParticipant { add += ["--participant", reader.advisor] }
        let caseID = try owner.check(add).output
        let eventID = try owner.check([
            "event", "add", caseID, "--kind", "visit", "--body", "工場を訪問し、\(body)について協議した。",
        ]).output
        let strictCase =
            loss == .eventMoved
            ? try owner.check(["case", "add", "--title", "社内検討", "--kind", "ip-business-matching", "--level", "strict"])
                .output : nil
        try owner.check(["sync"])
        try reader.check(bootstraps ? enrollReader : ["sync"])
        if bootstraps {
            // A local write while the history is incomplete keeps the case as the server gave it.
            try reader.check(["case", "set", caseID, "stage=prototyping"])
            let store = try LocalStore.open(directory: reader.home.path)
            let kept = try store.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM bootstrap_bases WHERE id = ?", arguments: [caseID])
            }
            #expect(kept == 1, "the laptop keeps the case as the server gave it while its history is incomplete")
        }
        if loss == .levelRaised {
            // A conflict on the reader's laptop holds the owner's text too.
            try owner.check(["case", "set", caseID, "summary=概要：\(summary) の評価（改訂）"])
            try owner.check(["sync"])
            try reader.check(["case", "set", caseID, "summary=自分のメモ"])
            try reader.check(["sync"])
            #expect((try reader.json(["conflicts"]) as? [Any])?.isEmpty == false)
        }

        // While the reader may see the case, the examination finds every canary in every way.
        #expect(try Self.found(reader, title.text) == [caseID])
        #expect(try Self.found(reader, body.text) == [eventID])
        let held = try SQLiteForensics(canaries: [title, summary, body]).examine(Self.files(in: reader.home.path))
        for canary in [title, summary, body] {
            let mine = held.filter { $0.canary == canary.text }
            #expect(mine.contains { $0.form == "text" }, "the raw scan must see \(canary) while the laptop holds it")
            let terms = Set(mine.filter { $0.file.hasPrefix("search_data") }.map(\.form))
            #expect(
                terms.count == canary.trigrams.count,
                "the FTS5 decoder must see all \(canary.trigrams.count) trigrams of \(canary), saw \(terms.count)")
        }

        // Hard links keep the store files' blocks readable if the sync unlinks them.
        let links = TemporaryDirectory("forensic-links")
        for file in Self.files(in: reader.home.path) {
            try FileManager.default.linkItem(
                atPath: file, toPath: links.path + "/" + URL(fileURLWithPath: file).lastPathComponent)
        }

        switch loss {
        case .unshare:
            try owner.check(["case", "unshare", caseID, reader.advisor])
        case .levelRaised:
            try owner.check(["case", "set", caseID, "level=strict"])
        case .participantsReplaced:
            try owner.check(["case", "set", caseID, "participants="])
        case .advisorDeactivated:
            try server.admin(["advisor", "deactivate", reader.advisor])
        case .deviceRevoked:
            let device = try #require((try reader.json(["status"]) as? [String: Any])?["device"] as? String)
            try server.admin(["revoke", device])
        case .eventMoved:
            let strict = try #require(strictCase)
            try FieldClient.open(directory: owner.home.path).update(
                .event, id: eventID, RecordInput(values: ["case": strict]))
        }
        try owner.check(["sync"])
        let sync = try reader.run(["sync"])
        #expect(sync.status == (loss.wipesTheLaptop ? 77 : 0), "\(sync)")

        let lost = loss == .eventMoved ? [body] : [title, summary, body]
        for canary in lost {
            let hits = try Self.found(reader, canary.text)
            #expect(!hits.contains(caseID) && !hits.contains(eventID), "search still finds \(canary): \(hits)")
        }
        if loss == .eventMoved {
            #expect(try Self.found(reader, title.text) == [caseID], "the case itself stays on the laptop")
        }
        if loss.wipesTheLaptop {
            #expect(!FileManager.default.fileExists(atPath: reader.home.path + "/" + LocalStore.fileName))
        }
        let traces = try SQLiteForensics(canaries: lost).examine(
            Self.files(in: reader.home.path) + Self.files(in: links.path))
        #expect(
            traces.isEmpty,
            "\(traces.count) traces of lost content remain, e.g.:\n\(traces.prefix(15).map { "  \($0)" }.joined(separator: "\n"))"
        )
    }

    /// A case the reader gained in the change stream (its level lowered) arrives as merged states
    /// and is indexed at once; lost again while its history has not all arrived (and after a local
    /// write kept it in `bootstrap_bases`), it leaves no trace, and no pending history.
    @Test func aCaseGainedAsAStateLeavesNoTraceWhenItIsLost() async throws {
        let (title, summary, body) = Self.canaries()
        let server = ServerProcess()
        try await server.start()
        let owner = try Laptop.enroll(server, "山田太郎")
        let (advisor, code) = try server.advisor("佐藤花子", program: "business-production")
        let reader = Laptop(advisor: advisor, environment: ["KAKEHASHI_TEST_HISTORY_PER_SYNC": "1"])
        try reader.check(["init", "--server", server.url, "--code", code])
        try owner.check(["sync"])
        let caseID = try owner.check([
            "case", "add", "--title", "極秘試作 \(title)", "--kind", "ip-business-matching", "--summary",
            "概要：\(summary) の評価", "--level", "strict",
        ]).output
        let eventID = try owner.check([
            "event", "add", caseID, "--kind", "visit", "--body", "工場を訪問し、\(body)について協議した。",
        ]).output
        try owner.check(["case", "set", caseID, "stage=matching"])
        try owner.check(["sync"])
        try reader.check(["sync"])
        #expect(try Self.found(reader, title.text).isEmpty)

        // The level is lowered: the case and its event arrive as states, searchable at once.
        try owner.check(["case", "set", caseID, "level=confidential"])
        try owner.check(["sync"])
        let gained = try reader.check(["sync"])
        #expect(gained.stdout.contains("records as they stand"), "\(gained)")
        #expect(try Self.found(reader, title.text) == [caseID])
        #expect(try Self.found(reader, body.text) == [eventID])
        try reader.check(["case", "set", caseID, "stage=prototyping"])
        let store = try LocalStore.open(directory: reader.home.path)
        let (kept, pending) = try store.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM bootstrap_bases WHERE id = ?", arguments: [caseID]),
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM pending_histories WHERE record = ?", arguments: [caseID])
            )
        }
        #expect(kept == 1 && pending == 1, "bases \(kept ?? 0), pending \(pending ?? 0)")

        let links = TemporaryDirectory("forensic-gained-links")
        for file in Self.files(in: reader.home.path) {
            try FileManager.default.linkItem(
                atPath: file, toPath: links.path + "/" + URL(fileURLWithPath: file).lastPathComponent)
        }
        try owner.check(["case", "set", caseID, "level=strict"])
        try owner.check(["sync"])
        try reader.check(["sync"])
        #expect(try Self.found(reader, title.text).isEmpty && Self.found(reader, body.text).isEmpty)
        let left = try LocalStore.open(directory: reader.home.path).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pending_histories WHERE record = ?", arguments: [caseID])
        }
        #expect(left == 0)
        let traces = try SQLiteForensics(canaries: [title, summary, body]).examine(
            Self.files(in: reader.home.path) + Self.files(in: links.path))
        #expect(
            traces.isEmpty,
            "\(traces.count) traces of lost content remain, e.g.:\n\(traces.prefix(15).map { "  \($0)" }.joined(separator: "\n"))"
        )
    }

    /// `kill -9` after a purge page was committed and before its scrub ran: the purged text is
    /// still in the search index's old segments then, and the next command the user runs scrubs
    /// it before anything else.
    @Test func aPurgeWhoseScrubWasCutShortIsScrubbedAtTheNextStart() async throws {
        let (title, summary, body) = Self.canaries()
        let server = ServerProcess()
        try await server.start()
        let owner = try Laptop.enroll(server, "山田太郎")
        let reader = try Laptop.enroll(server, "佐藤花子")
        let caseID = try owner.check([
            "case", "add", "--title", "極秘試作 \(title)", "--kind", "venture", "--summary", "概要：\(summary)",
        ]).output
        try owner.check(["event", "add", caseID, "--kind", "visit", "--body", "訪問：\(body)"])
        try owner.check(["sync"])
        try reader.check(["sync"])
        #expect(try Self.found(reader, title.text) == [caseID])

        // The pull's transaction commits the purge; the process dies before the scrub.
        do {
            let store = try LocalStore.open(directory: reader.home.path)
            _ = try store.write { db in try ChangeApplier.purge(RecordRef(entity: .case, record: caseID), in: db) }
        }
        let forensics = SQLiteForensics(canaries: [title, summary, body])
        let cutShort = try forensics.examine(Self.files(in: reader.home.path))
        #expect(
            cutShort.contains { $0.form.hasPrefix("FTS5 term") },
            "without its scrub the purge leaves the case's trigrams in the index; the test would prove nothing")

        try reader.check(["status"])
        #expect(try Self.found(reader, title.text).isEmpty)
        let traces = try forensics.examine(Self.files(in: reader.home.path))
        #expect(traces.isEmpty, "\(traces.count) traces remain, e.g. \(traces.prefix(10))")
    }
}
