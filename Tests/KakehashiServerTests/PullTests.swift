import CompressNIO
import Foundation
import Hummingbird
import KakehashiServer
import KakehashiShared
import NIOCore
import Testing

/// Paging, gzip, health and metrics (both stores).
@Suite struct PullTests {
    @Test(arguments: StoreKind.available)
    func pagesAreBoundedAndTogetherHoldEveryChangeOnce(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let writer = try await server.advisor("山田太郎", program: "business-production", client: client)
            let reader = try await server.advisor("佐藤花子", program: "coordinator", client: client)
            for index in 1...12 {
                _ = writer.create(.organization, ["name": .string("株式会社試作\(index)製作所"), "kind": .string("sme")])
            }
            try await writer.sync()
            let total = try await server.store.changeCount()

            var cursor = WireProtocol.initialCursor
            var seen: [ChangeID] = []
            var pages = 0
            while true {
                let page = try await client.pull(after: cursor, limit: 7, token: reader.token).decode(PullResponse.self)
                pages += 1
                #expect(page.changes.count <= 7)
                seen += page.changes.map(\.id)
                cursor = page.nextCursor
                if !page.hasMore { break }
            }
            #expect(pages == (total + 6) / 7)
            #expect(seen.count == total && Set(seen).count == total)
            let empty = try await client.pull(after: cursor, token: reader.token).decode(PullResponse.self)
            #expect(empty.changes.isEmpty && !empty.hasMore)
        }
    }

    @Test(arguments: StoreKind.available)
    func responsesAreGzippedWhenAskedAndCarryTheServerTime(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let reader = try await server.advisor("佐藤花子", program: "coordinator", client: client)
            let before = serverWallMillis()
            let response = try await client.send(
                .get, "/v1/pull?after=0", token: reader.token, headers: [.acceptEncoding: "br, gzip"])
            #expect(response.headers[.contentEncoding] == "gzip")
            var buffer = ByteBuffer(bytes: response.body)
            let plain = try buffer.decompress(with: .gzip())
            let page = try JSONDecoder().decode(PullResponse.self, from: Data(buffer: plain))
            #expect(page.changes.contains { $0.entity == .program && $0.record == "business-production" })
            #expect((response.serverTime ?? 0) >= before && page.serverTime >= before)

            let plainResponse = try await client.send(.get, "/v1/health")
            #expect(plainResponse.headers[.contentEncoding] == nil)
            let health = try plainResponse.decode(HealthResponse.self)
            #expect(health.status == "ok" && health.version == KakehashiVersion.current)
        }
    }

    @Test(arguments: StoreKind.available)
    func metricsCountRequestsAndPushedChanges(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let writer = try await server.advisor("山田太郎", program: "business-production", client: client)
            _ = writer.create(.need, ["title": .string("精密加工の試作先を探したい")])
            try await writer.sync()
            let metrics = String(decoding: try await client.send(.get, "/metrics").body, as: UTF8.self)
            #expect(metrics.contains("kakehashi_pushed_changes_total{status=\"accepted\"} 1"))
            #expect(metrics.contains("kakehashi_http_requests_total{path=\"/v1/enroll\",status=\"200\"} 1"))
        }
    }

    @Test(arguments: StoreKind.available)
    func theServerSeedsTheSixProgramsThroughTheLog(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            // Seeding twice (a second process starting) adds nothing.
            try await server.admin.seedProgramsIfEmpty()
            let programs = try await server.admin.programList()
            #expect(
                Set(programs.map(\.id)) == [
                    "business-production", "matching-planner", "ip-advisor", "ip-producer", "coordinator",
                    "cabinet-office",
                ])
            #expect(programs.first { $0.id == "cabinet-office" }?.ministry == "cao")
            #expect(try await server.store.changeCount() == 12)
            let reader = try await server.advisor("佐藤花子", program: "cabinet-office", client: client)
            try await reader.pullAll()
            #expect(reader.record(.program, "business-production")?.value("name") == .string("事業プロデュース"))
            #expect(reader.received.allSatisfy { $0.author == WireProtocol.systemAuthor })
        }
    }
}
