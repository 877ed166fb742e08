import Foundation
import GRDB
import KakehashiShared
import KakehashiTestSupport
import Testing

@testable import KakehashiClient

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

/// Issue 13, "gzip request bodies": a laptop's push is compressed once the server has listed
/// `gzip-requests`, and sent in `BinaryPush`'s form once it has listed `binary-push`, and
/// everything it pushed arrives once, as a plain JSON push would.
@Suite struct CompressedPushEndToEndTests {
    @Test func aLargePushIsSentGzipAfterItsFirstBatchAndArrivesWhole() async throws {
        let server = ServerProcess()
        try await server.start()
        defer { server.stop() }
        let proxy = try FaultProxy(upstreamPort: server.port, seed: 11)
        let scratch = TemporaryDirectory("gzip-push")
        let advisor = try server.admin([
            "advisor", "add", "--name", "山田太郎", "--role", "business-producer", "--program", "business-production",
        ])
        let writer = try await FieldClient.enroll(
            directory: scratch.path + "/writer", server: proxy.url, code: try server.admin(["enroll", advisor]),
            cacert: nil, deviceName: "ThinkPad", transport: CurlTransport(baseURL: proxy.url))
        // 300 activity records on 60 cases: 1,680 changes, three push batches (500 JSON, then binary).
        var written = 0
        var caseID = ""
        for index in 0..<300 {
            if index % 5 == 0 {
                caseID = try writer.create(
                    .case,
                    RecordInput(values: [
                        "title": "精密加工の事業化支援 その\(index)", "kind": "ip-business-matching", "level": "open",
                        "summary": "中小企業の精密加工技術と大学のシーズをマッチングし、試作から契約までを支援する。",
                    ]))
                written += 1
            }
            _ = try writer.create(
                .event,
                RecordInput(values: [
                    "case": caseID, "kind": "visit", "date": "2026-05-\(index % 20 + 10)",
                    "body": "試作品の評価結果を共有し、次回は知財の扱いを確認する。記録\(index)",
                ]))
            written += 1
        }
        let queued = try writer.store.read { db in
            try ChangeRows.fetch(db, sql: "SELECT * FROM changes WHERE status = 'pending'").map { $0.change }
        }
        let pending = queued.count
        let plainBytes = try JSONEncoder().encode(PushRequest(changes: queued)).count
        let summary = try await SyncEngine(client: writer, transport: CurlTransport(baseURL: proxy.url)).run()
        #expect(summary.accepted == pending && pending > 500 + WireProtocol.maxPushChanges)
        // The first batch went plain JSON (the laptop did not know the server yet), every later one
        // gzip, binary and as large as a push may be.
        let batches = 1 + (pending - 500 + WireProtocol.maxPushChanges - 1) / WireProtocol.maxPushChanges
        #expect(proxy.gzipRequests == batches - 1, "\(proxy.gzipRequests) of \(batches) pushes compressed")
        #expect(proxy.binaryPushRequests == batches - 1, "\(proxy.binaryPushRequests) of \(batches) pushes binary")
        #expect(
            proxy.bytesFromClients < plainBytes / 2,
            "\(proxy.bytesFromClients) bytes sent for \(plainBytes) bytes of changes")

        // A second laptop of the same program receives every record the first one wrote, once.
        let reader = try Laptop.enroll(server, "佐藤花子", program: "business-production")
        try reader.check(["sync"])
        let cases = try #require(try reader.check(["case", "list", "--json"]).json() as? [[String: Any]])
        #expect(cases.count == 60 && written == 360)
        let events = try Executables.runTool([
            "sqlite3", reader.home.path + "/kakehashi.sqlite",
            "SELECT COUNT(DISTINCT record) FROM changes WHERE entity = 'event'",
        ])
        #expect(events.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "300", "\(events)")
    }
}
