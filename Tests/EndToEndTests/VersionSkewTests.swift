import Foundation
import KakehashiClient
import KakehashiShared
import KakehashiTestSupport
import Testing

/// Upgrades as operators and field staff meet them (Docs/operations.md, "Upgrades"), with real
/// processes: a server that no longer accepts a laptop's version, a laptop one schema version
/// behind a newer server and laptop, and a newer laptop talking to an older server.
///
/// The "newer release" is this build with `KAKEHASHI_TEST_EXTRA_FIELD=case.test_extra`
/// (`Schema.testExtraField`): its schema has one more case field than the "older" processes.
@Suite struct VersionSkewTests {
    static let newerSchema = [Schema.testExtraFieldVariable: "case.test_extra"]

    @Test func aClientBelowTheServersMinimumIsToldToUpgradeAndKeepsItsPendingChanges() async throws {
        let first = ServerProcess()
        try await first.start()
        // The laptops keep the proxy's address while the server restarts with other options.
        let proxy = try FaultProxy(upstreamPort: first.port, seed: 11)
        let yamada = try Laptop.enroll(first, "山田太郎", via: proxy.url)
        try yamada.check(["org", "add", "--name", "株式会社川崎精密製作所", "--kind", "中小企業", "--prefecture", "神奈川県"])
        let pending = try Self.pending(yamada)
        #expect(pending > 0)
        let (satoID, satoCode) = try first.advisor("佐藤花子")
        first.stop()

        // The operator raises the minimum above this laptop's version.
        let strict = ServerProcess(database: first.database)
        strict.serveArguments = ["--min-client-version", "99.1.0"]
        try await strict.start()
        proxy.upstreamPort = strict.port
        let health = try await CurlTransport(baseURL: strict.url).health().value
        #expect(health.minClientVersion == "99.1.0")

        let refused = try yamada.run(["sync"])
        #expect(refused.status == 76, "\(refused)")
        #expect(refused.stderr.contains("kakehashi を 99.1.0 以上に更新してください"), "\(refused)")
        #expect(refused.stderr.contains("upgrade kakehashi to 99.1.0"), "\(refused)")
        #expect(try Self.pending(yamada) == pending, "pending changes stay pending")
        let orgs = try #require(try yamada.json(["org", "list"]) as? [[String: Any]])
        #expect(orgs.map { $0["name"] as? String } == ["株式会社川崎精密製作所"])
        // Enrolling with an old client is refused the same way, and the one-time code is not spent.
        let sato = Laptop(advisor: satoID)
        let refusedInit = try sato.run(["init", "--server", proxy.url, "--code", satoCode])
        #expect(refusedInit.status == 76 && refusedInit.stderr.contains("99.1.0"), "\(refusedInit)")
        strict.stop()

        // The same store served with a lower minimum: everything kept goes through.
        let lenient = ServerProcess(database: first.database)
        lenient.serveArguments = ["--min-client-version", "0.1"]
        try await lenient.start()
        proxy.upstreamPort = lenient.port
        let synced = try #require(try yamada.json(["sync"]) as? [String: Any])
        #expect(synced["accepted"] as? Int == pending, "\(synced)")
        #expect(try Self.pending(yamada) == 0)
        try sato.check(["init", "--server", proxy.url, "--code", satoCode])
        let satoOrgs = try #require(try sato.json(["org", "list"]) as? [[String: Any]])
        #expect(satoOrgs.map { $0["name"] as? String } == ["株式会社川崎精密製作所"])
    }

    @Test func aLaptopOneSchemaVersionBehindKeepsShowsAndPassesOnFieldsItDoesNotKnow() async throws {
        let server = ServerProcess()
        server.environment = Self.newerSchema
        try await server.start()
        // One advisor with two laptops: the new office PC already upgraded, the field laptop not.
        let (advisor, newerCode) = try server.advisor("山田太郎")
        let olderCode = try server.admin(["enroll", advisor])
        let newer = Laptop(advisor: advisor, environment: Self.newerSchema)
        try newer.check(["init", "--server", server.url, "--code", newerCode, "--name", "新しいPC"])
        let older = Laptop(advisor: advisor)
        try older.check(["init", "--server", server.url, "--code", olderCode, "--name", "現場のノートPC"])

        let org = try newer.check([
            "org", "add", "--name", "株式会社川崎精密製作所", "--kind", "中小企業", "--prefecture", "神奈川県",
        ]).output
        let id = try newer.check([
            "case", "add", "--title", "精密加工技術の試作マッチング", "--kind", "ip-business-matching", "--org", org,
        ]).output
        try newer.check(["case", "set", id, "test_extra=次期版で追加された項目"])
        try newer.check(["sync"])

        // The older laptop receives the change to a field it does not know, keeps it and shows it raw.
        try older.check(["sync"])
        #expect(try Self.unknownFields(older, id)["test_extra"] as? String == "次期版で追加された項目")
        let shown = try older.check(["case", "show", id]).stdout
        #expect(shown.contains("未対応の項目 (test_extra)") && shown.contains("次期版で追加された項目"), "\(shown)")
        // Its own edits and the sync after them leave the field alone.
        try older.check(["case", "set", id, "stage=matching", "title=精密加工技術の試作マッチング（第2期）"])
        try older.check(["sync"])
        #expect(try Self.unknownFields(older, id)["test_extra"] as? String == "次期版で追加された項目")

        // The newer side still has the field, with the older laptop's edits merged beside it.
        try newer.check(["sync"])
        let onNewer = try #require(try newer.json(["case", "show", id]) as? [String: Any])
        #expect(onNewer["test_extra"] as? String == "次期版で追加された項目", "\(onNewer)")
        #expect(onNewer["stage"] as? String == "matching" && onNewer["unknownFields"] == nil, "\(onNewer)")
        #expect(onNewer["title"] as? String == "精密加工技術の試作マッチング（第2期）")

        // A later write of the field reaches the older laptop as a newer value, not a conflict.
        try newer.check(["case", "set", id, "test_extra=改訂した値"])
        try newer.check(["sync"])
        try older.check(["sync"])
        #expect(try Self.unknownFields(older, id)["test_extra"] as? String == "改訂した値")
        let conflicts = try #require(try older.json(["conflicts"]) as? [Any])
        #expect(conflicts.isEmpty)
        #expect(try Self.pending(older) == 0 && Self.pending(newer) == 0)

        // The server holds both sides' writes: a newer laptop enrolled now gets all of them.
        let spare = Laptop(advisor: advisor, environment: Self.newerSchema)
        try spare.check(["init", "--server", server.url, "--code", try server.admin(["enroll", advisor])])
        let onSpare = try #require(try spare.json(["case", "show", id]) as? [String: Any])
        #expect(onSpare["test_extra"] as? String == "改訂した値" && onSpare["stage"] as? String == "matching")
        #expect(onSpare["title"] as? String == "精密加工技術の試作マッチング（第2期）", "\(onSpare)")
    }

    @Test func anOlderServerRefusesANewerFieldChangeByChangeAndTheLaptopKeepsIt() async throws {
        let server = ServerProcess()
        try await server.start()
        let (advisor, newerCode) = try server.advisor("山田太郎")
        let olderCode = try server.admin(["enroll", advisor])
        let newer = Laptop(advisor: advisor, environment: Self.newerSchema)
        try newer.check(["init", "--server", server.url, "--code", newerCode])
        let org = try newer.check([
            "org", "add", "--name", "株式会社川崎精密製作所", "--kind", "中小企業", "--prefecture", "神奈川県",
        ]).output
        let id = try newer.check([
            "case", "add", "--title", "精密加工技術の試作マッチング", "--kind", "ip-business-matching", "--org", org,
        ]).output
        try newer.check(["case", "set", id, "test_extra=次期版で追加された項目"])

        let sync = try newer.check(["sync"])
        #expect(sync.stdout.contains("サーバーが 1 件の変更を受け付けませんでした"), "\(sync)")
        let kept = try #require(try newer.json(["refused"]) as? [[String: Any]])
        #expect(kept.count == 1, "\(kept)")
        let entry = try #require(kept.first.flatMap { $0["id"] as? String })
        let detail = try newer.check(["refused", "show", entry]).stdout
        #expect(detail.contains("test_extra") && detail.contains("次期版で追加された項目"), "\(detail)")
        #expect(detail.contains("does not know the field 'test_extra'"), "\(detail)")
        #expect(try Self.pending(newer) == 0)

        // The rest of the batch was stored: another laptop of the advisor gets the case without it.
        let older = Laptop(advisor: advisor)
        try older.check(["init", "--server", server.url, "--code", olderCode])
        let shown = try #require(try older.json(["case", "show", id]) as? [String: Any])
        #expect(shown["title"] as? String == "精密加工技術の試作マッチング" && shown["unknownFields"] == nil, "\(shown)")
    }

    static func pending(_ laptop: Laptop) throws -> Int {
        let status = try #require(try laptop.json(["status"]) as? [String: Any])
        return try #require(status["pending"] as? Int, "\(status)")
    }

    static func unknownFields(_ laptop: Laptop, _ id: String) throws -> [String: Any] {
        let shown = try #require(try laptop.json(["case", "show", id]) as? [String: Any])
        return try #require(shown["unknownFields"] as? [String: Any], "\(shown)")
    }
}
