import Foundation
import Testing

/// Issue 13, "one libcurl handle and one kept-alive connection serve a whole sync": counted at a
/// proxy between a real `kakehashi` and a real `kakehashi-server`. Every new connection costs a
/// round trip, and with TLS a handshake, per request; a sync of many pages must not pay it per page.
@Suite struct SyncConnectionTests {
    @Test func oneConnectionServesAWholeSyncOfManyPages() async throws {
        let server = ServerProcess()
        try await server.start()
        defer { server.stop() }
        let proxy = try FaultProxy(upstreamPort: server.port, seed: 7)

        // 400 seeds of one university: about 3,000 changes, three pull pages and more.
        let scratch = TemporaryDirectory("connections")
        var csv = "名称,説明,保有機関,保有機関種別,特許番号,ライセンス可,タグ\n"
        for number in 1...400 {
            csv += "表面処理技術 第\(number)号,大気圧プラズマによる樹脂と金属の表面改質の応用 \(number),"
            csv += "国立大学法人東北大学,university,特許第\(6_000_000 + number)号,可,表面処理;接着\n"
        }
        let file = scratch.path + "/seeds.csv"
        try csv.write(toFile: file, atomically: true, encoding: .utf8)
        try server.admin(["import", "seeds", file])

        let laptop = try Laptop.enroll(server, "佐藤花子", program: "matching-planner", via: proxy.url)
        try laptop.check(["case", "add", "--title", "東北大学シーズの事業化", "--kind", "industry-academia"])
        let before = proxy.connectionsAccepted
        let sync = try laptop.check(["sync", "--json"])
        let summary = try #require(try sync.json() as? [String: Any])
        #expect(summary["accepted"] as? Int ?? 0 > 0, "\(sync)")
        let opened = proxy.connectionsAccepted - before
        #expect(opened == 1, "a push and its pull opened \(opened) connections")

        // A laptop starting from nothing pulls every page over one connection too.
        let fresh = try Laptop.enroll(server, "高橋美咲", program: "matching-planner", via: proxy.url)
        let start = proxy.connectionsAccepted
        _ = try Executables.runTool([
            "sqlite3", fresh.home.path + "/kakehashi.sqlite", "UPDATE device SET cursor = '0'",
        ])
        let full = try #require(try fresh.check(["sync", "--json"]).json() as? [String: Any])
        #expect(full["pages"] as? Int ?? 0 >= 3, "\(full)")
        #expect(proxy.connectionsAccepted - start == 1)
    }
}
