import Foundation
import GRDB
import KakehashiShared
import Testing

@testable import KakehashiClient

@Suite struct LocalStoreTests {
    func laptop() async throws -> TestLaptop {
        try await TestLaptop.enroll(InProcessServer(), name: "山田太郎")
    }

    func changeCount(_ laptop: TestLaptop) throws -> Int {
        try laptop.client.store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM changes") ?? 0 }
    }

    /// The push queue's statements and `status` read only the partial index of pending or
    /// rejected changes: a laptop holding a large log (a bootstrap's history) does not read every
    /// change it holds for each push batch or each `kakehashi status`. (A status bound as a value
    /// hides the index from SQLite's planner: each of these was a scan of the whole table.)
    @Test func thePushQueueReadsOnlyThePendingChangesIndex() async throws {
        let laptop = try await laptop()
        let statements = [
            PushQueue.countSQL: "changes_pending", PushQueue.oldestSQL: "changes_pending",
            PushQueue.oldestAfterSQL: "changes_pending",
            "SELECT * FROM changes WHERE \(ChangeStatus.rejected.condition) ORDER BY id": "changes_rejected",
        ]
        for (sql, index) in statements {
            let plan = try laptop.client.store.read { db in
                try Row.fetchAll(
                    db, sql: "EXPLAIN QUERY PLAN \(sql)",
                    arguments: StatementArguments(Array(repeating: DatabaseValue.null, count: sql.count { $0 == "?" }))
                ).map { $0["detail"] as String }
            }
            #expect(plan.contains { $0.contains(index) }, "\(sql): \(plan)")
            #expect(!plan.contains { $0.hasPrefix("SCAN changes") }, "\(sql): \(plan)")
        }
    }

    @Test func theStoreIsReadableByItsOwnerOnly() async throws {
        let laptop = try await laptop()
        let attributes = try FileManager.default.attributesOfItem(atPath: laptop.client.store.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let directory = try FileManager.default.attributesOfItem(atPath: laptop.home.path)
        #expect((directory[.posixPermissions] as? NSNumber)?.intValue == 0o700)
    }

    @Test func invalidInputNamesTheFieldAndChangesNothing() async throws {
        let laptop = try await laptop()
        let before = try changeCount(laptop)
        let badKind = #expect(throws: KakehashiError.self) {
            try laptop.client.create(.case, RecordInput(values: ["title": "試作", "kind": "partnership"]))
        }
        #expect(badKind?.field == "kind" && badKind?.code == .invalidData)
        #expect(badKind?.message.contains("ip-business-matching") == true)
        let unknownOrg = #expect(throws: KakehashiError.self) {
            try laptop.client.create(
                .case,
                RecordInput(
                    values: ["title": "試作", "kind": "venture"],
                    sets: ["organizations": ["0192f1c4-0000-7000-8000-000000000099"]]))
        }
        #expect(unknownOrg?.field == "organizations")
        let badDate = #expect(throws: KakehashiError.self) {
            let caseID = try laptop.client.create(.case, RecordInput(values: ["title": "試作", "kind": "venture"]))
            _ = try laptop.client.create(
                .event, RecordInput(values: ["case": caseID, "kind": "visit", "body": "訪問", "date": "2026-02-30"]))
        }
        #expect(badDate?.field == "date")
        let caseCount = try laptop.client.list(.case).count
        #expect(try changeCount(laptop) > before)  // the valid case above was stored…
        let afterValid = try changeCount(laptop)
        #expect(throws: KakehashiError.self) {
            try laptop.client.update(
                .case, id: laptop.client.list(.case)[0].id,
                RecordInput(values: ["title": String(repeating: "長", count: 201)]))
        }
        #expect(try changeCount(laptop) == afterValid)  // …and the refused edits added nothing
        #expect(try laptop.client.list(.case).count == caseCount)
    }

    @Test func japaneseSearchFindsTwoAndLongerTerms() async throws {
        let laptop = try await laptop()
        let first = try laptop.client.create(
            .case,
            RecordInput(values: ["title": "知財を活用した新製品開発", "kind": "ip-strategy", "summary": "開放特許のマッチングを検討"]))
        _ = try laptop.client.create(.case, RecordInput(values: ["title": "補助金申請の相談", "kind": "consultation"]))
        let org = try laptop.client.create(
            .organization, RecordInput(values: ["name": "Saitama Precision Co.", "kind": "sme"]))
        #expect(try laptop.client.search("知財").map(\.id) == [first])
        #expect(try laptop.client.search("マッチング").map(\.id) == [first])
        #expect(try laptop.client.search("知財 マッチング").map(\.id) == [first])
        #expect(try laptop.client.search("precision").map(\.id) == [org])
        #expect(try laptop.client.search("知財 補助金").isEmpty)
        #expect(try laptop.client.search("マッチング").first?.excerpt.contains("マッチング") == true)
    }

    @Test func titleHitsRankAboveBodyHits() async throws {
        let laptop = try await laptop()
        let inBody = try laptop.client.create(
            .case, RecordInput(values: ["title": "設備更新の相談", "kind": "consultation", "summary": "表面処理の外注先を探している"]))
        let inTitle = try laptop.client.create(.case, RecordInput(values: ["title": "表面処理の試作", "kind": "venture"]))
        #expect(try laptop.client.search("表面処理").map(\.id) == [inTitle, inBody])
    }

    @Test func aReferralWithABadNoteChangesNothing() async throws {
        let laptop = try await laptop()
        let caseID = try laptop.client.create(.case, RecordInput(values: ["title": "知財戦略", "kind": "ip-strategy"]))
        let before = try changeCount(laptop)
        let error = #expect(throws: KakehashiError.self) {
            try laptop.client.refer(caseID: caseID, to: laptop.advisor, note: "  ")
        }
        #expect(error?.field == "body")
        #expect(try changeCount(laptop) == before)
        #expect(try laptop.client.show(.case, id: caseID).sets["participants"] == [])
    }

    @Test func matchRanksTheRelevantSeedFirstAndExplainsWhy() async throws {
        let laptop = try await laptop()
        let precise = try laptop.client.create(
            .seed,
            RecordInput(
                values: ["title": "超精密加工技術", "kind": "open-patent", "description": "金属部品の精密加工と表面処理に関する開放特許"],
                sets: ["tags": ["精密加工"]]))
        let sensor = try laptop.client.create(
            .seed,
            RecordInput(values: ["title": "農業用センサネットワーク", "kind": "research-result", "description": "圃場の水分を測るセンサ"]))
        let need = try laptop.client.create(
            .need, RecordInput(values: ["title": "精密加工の試作パートナー", "description": "医療機器部品の表面処理を試作したい"]))
        let result = try laptop.client.match(need: need, limit: 5)
        #expect(result.hits.first?.id == precise)
        #expect(result.hits.first?.matched.contains("精密加工") == true)
        #expect(result.hits.first?.matched.contains("表面処理") == true)
        // A seed that shares no word is listed only after the matches, marked as such.
        #expect(result.hits.first { $0.id == sensor }.map { $0.matched == [SeedMatcher.weakMark] } ?? true)
    }

    @Test func logShowsEveryChangeWithOldAndNewValues() async throws {
        let laptop = try await laptop()
        let caseID = try laptop.client.create(.case, RecordInput(values: ["title": "試作評価", "kind": "venture"]))
        try laptop.client.update(.case, id: caseID, RecordInput(values: ["stage": "matching"]))
        try laptop.client.update(.case, id: caseID, RecordInput(values: ["stage": "prototyping"]))
        let stages = try laptop.client.history(caseID).entries.filter { $0.field == "stage" }
        #expect(stages.map(\.new) == [.string("intake"), .string("matching"), .string("prototyping")])
        #expect(stages.map(\.old) == [.null, .string("intake"), .string("matching")])
        #expect(stages.allSatisfy { $0.author == laptop.advisor && $0.status == "pending" })
    }

    /// A store written before migration v6 (states in a WITHOUT ROWID table, the history index
    /// over record and HLC) opens with every record, its history and its search intact, in the
    /// compact layout.
    @Test func aStoreFromBeforeTheCompactLayoutOpensWithEverythingInIt() async throws {
        let laptop = try await laptop()
        let caseID = try laptop.client.create(
            .case,
            RecordInput(values: [
                "title": "精密加工技術の試作マッチング", "kind": "venture", "summary": String(repeating: "試作の評価。", count: 200),
            ]))
        try laptop.client.update(.case, id: caseID, RecordInput(values: ["stage": "matching"]))
        let before = try laptop.client.show(.case, id: caseID)
        try laptop.client.store.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE record_states_v1 (
                        entity TEXT NOT NULL, id TEXT NOT NULL, state BLOB NOT NULL, PRIMARY KEY (entity, id)
                    ) WITHOUT ROWID
                    """)
            try db.execute(sql: "INSERT INTO record_states_v1 SELECT * FROM record_states")
            try db.execute(sql: "DROP TABLE record_states")
            try db.execute(sql: "ALTER TABLE record_states_v1 RENAME TO record_states")
            try db.execute(sql: "DROP INDEX changes_by_record")
            // Over record and timestamp, as v1 made it (in the columns of today's rows).
            try db.execute(sql: "CREATE INDEX changes_by_record ON changes (record, hlc_millis, hlc_counter)")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v6-compact'")
        }

        let reopened = try FieldClient.open(directory: laptop.home.path)
        let schema = try reopened.store.read { db in
            try String.fetchAll(
                db, sql: "SELECT sql FROM sqlite_schema WHERE name IN ('record_states', 'changes_by_record')")
        }
        #expect(
            schema.count == 2 && schema.allSatisfy { !$0.contains("WITHOUT ROWID") && !$0.contains("hlc") }, "\(schema)"
        )
        #expect(try reopened.show(.case, id: caseID) == before)
        #expect(
            try reopened.history(caseID).entries.filter { $0.field == "stage" }.map(\.new) == [
                .string("intake"), .string("matching"),
            ])
        #expect(try reopened.search("試作マッチング").map(\.id) == [caseID])
    }

    @Test func deletedCasesLeaveListsAndSearch() async throws {
        let laptop = try await laptop()
        let caseID = try laptop.client.create(.case, RecordInput(values: ["title": "中止になった試作", "kind": "venture"]))
        try laptop.client.delete(.case, id: caseID)
        #expect(try laptop.client.list(.case).isEmpty)
        #expect(try laptop.client.search("試作").isEmpty)
        #expect(throws: KakehashiError.self) {
            try laptop.client.update(.case, id: caseID, RecordInput(values: ["stage": "closed"]))
        }
    }
}

@Suite struct TextTableTests {
    @Test func columnsAlignWithFullWidthText() {
        var table = TextTable(headers: ["ID", "件名", "段階"])
        table.append(["1", "精密加工の試作", "マッチング"])
        table.append(["22", "IoT sensor", "intake"])
        let lines = table.render().split(separator: "\n").map(String.init)
        let starts = lines.map { line -> Int in
            let prefix = line.components(
                separatedBy: line.contains("マッチング") ? "マッチング" : line.contains("段階") ? "段階" : "intake")[0]
            return DisplayWidth.of(prefix)
        }
        #expect(Set(starts).count == 1)
        #expect(DisplayWidth.of("精密") == 4 && DisplayWidth.of("ab") == 2)
        #expect(DisplayWidth.truncate("開放特許のライセンス", to: 9) == "開放特許…")
    }
}
