import Foundation
import GRDB
import KakehashiShared
import KakehashiTestSupport
import Testing

@testable import KakehashiClient

/// Issue 13, page streams: a laptop that takes its pull pages in page streams (a real
/// `kakehashi-server`, libcurl, each page applied as its frame arrives) ends with exactly the
/// store of a laptop that asks every page alone, over fewer requests.
@Suite struct PageStreamEndToEndTests {
    /// `CurlTransport` as a client older than page streams sees the server: the feature unlisted,
    /// so every page is asked alone (ahead, with `ack`, as before).
    struct SinglePages: SyncTransport {
        let base: CurlTransport

        func strip<T>(_ reply: Transferred<T>) -> Transferred<T> {
            Transferred(
                reply.value, bytes: reply.bytes,
                features: reply.features.subtracting([WireProtocol.pageStreamsFeature]),
                serverTiming: reply.serverTiming, received: reply.received)
        }

        func enroll(_ request: EnrollRequest) async throws(TransportFailure) -> Transferred<EnrollResponse> {
            strip(try await base.enroll(request))
        }

        func push(_ request: PushRequest, token: String) async throws(TransportFailure) -> Transferred<PushResponse> {
            strip(try await base.push(request, token: token))
        }

        func push(
            _ request: PushRequest, token: String, gzip: Bool, binary: Bool
        ) async throws(TransportFailure) -> Transferred<PushResponse> {
            strip(try await base.push(request, token: token, gzip: gzip, binary: binary))
        }

        func pull(
            after cursor: String, limit: Int, token: String
        ) async throws(TransportFailure)
            -> Transferred<PullResponse>
        {
            strip(try await base.pull(after: cursor, limit: limit, token: token))
        }

        func pull(
            after cursor: String, acknowledged: String?, states: Bool, limit: Int, token: String
        ) async throws(TransportFailure) -> Transferred<PullResponse> {
            strip(
                try await base.pull(
                    after: cursor, acknowledged: acknowledged, states: states, limit: limit, token: token))
        }

        func pullStates(limit: Int, token: String) async throws(TransportFailure) -> Transferred<PullResponse> {
            strip(try await base.pullStates(limit: limit, token: token))
        }

        func history(
            after cursor: String, limit: Int, token: String
        ) async throws(TransportFailure) -> Transferred<HistoryResponse> {
            strip(try await base.history(after: cursor, limit: limit, token: token))
        }
    }

    /// Every record's merged state in a laptop's store.
    static func states(_ client: FieldClient) throws -> [[String]] {
        try client.store.read { db in
            try Row.fetchAll(db, sql: "SELECT entity, id, hex(state) FROM record_states ORDER BY 1, 2").map {
                [$0[0], $0[1], $0[2]]
            }
        }
    }

    /// Pull requests answered and pull pages handed out so far, from the server's `/metrics`.
    static func pulls(_ server: ServerProcess) throws -> (requests: Int, pages: Int) {
        let text = try Executables.runTool(["curl", "-s", server.url + "/metrics"]).output
        func value(_ prefix: String) -> Int {
            text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { $0.split(separator: " ").last }
                .flatMap { Double($0) }.map { Int($0) } ?? 0
        }
        let history = value(#"kakehashi_http_requests_total{path="/v1/history",status="200"}"#)
        return (
            value(#"kakehashi_http_requests_total{path="/v1/pull",status="200"}"#),
            value(#"kakehashi_pages_total{form="binary"}"#) - history
        )
    }

    @Test func aLaptopTakingPageStreamsEndsWithTheStoreOfOneAskingPageByPage() async throws {
        let server = ServerProcess()
        try await server.start()
        defer { server.stop() }
        let proxy = try FaultProxy(upstreamPort: server.port, seed: 13)
        let scratch = TemporaryDirectory("page-streams")
        var csv = "名称,説明,保有機関,保有機関種別,特許番号,ライセンス可,タグ\n"
        for number in 1...400 {
            csv += "表面処理技術 第\(number)号,大気圧プラズマによる樹脂と金属の表面改質の応用 \(number),"
            csv += "国立大学法人東北大学,university,特許第\(6_000_000 + number)号,可,表面処理;接着\n"
        }
        try csv.write(toFile: scratch.path + "/seeds.csv", atomically: true, encoding: .utf8)
        try server.admin(["import", "seeds", scratch.path + "/seeds.csv"])

        var summaries: [SyncEngine.Summary] = []
        var stores: [[[String]]] = []
        var requests: [(requests: Int, pages: Int)] = []
        // Both advisors first: each laptop then sees the same directory.
        var advisors: [String: String] = [:]
        for name in ["stream", "single"] {
            advisors[name] = try server.admin([
                "advisor", "add", "--name", "佐藤花子 \(name)", "--role", "business-producer", "--program",
                "matching-planner",
            ])
        }
        for (name, streams) in [("stream", true), ("single", false)] {
            let advisor = try #require(advisors[name])
            let opened = proxy.connectionsAccepted
            let curl = CurlTransport(baseURL: proxy.url)
            let transport: any SyncTransport = streams ? curl : SinglePages(base: curl)
            let client = try await FieldClient.enroll(
                directory: scratch.path + "/" + name, server: proxy.url, code: try server.admin(["enroll", advisor]),
                cacert: nil, deviceName: name, transport: transport)
            var engine = SyncEngine(client: client, transport: transport)
            engine.pullPageSize = 50
            engine.pullStreamPages = 4
            let pulls = try Self.pulls(server)
            summaries.append(try await engine.run())
            // Page by page, enrollment and sync keep one connection. A stream waits while four
            // pages wait to be applied; a laptop that takes none for 30 s (here: a test runner
            // whose few threads the other end-to-end tests hold) has the stream ended by the
            // stall check and resumed from its last page on a new connection, so the count of
            // connections is the scheduler's, not the protocol's (Docs/benchmarks.md, page streams).
            if !streams {
                #expect(proxy.connectionsAccepted - opened == 1, "enrollment and sync over one connection")
            }
            let after = try Self.pulls(server)
            requests.append((after.requests - pulls.requests, after.pages - pulls.pages))
            stores.append(try Self.states(client))
        }
        let (streamed, single) = (summaries[0], summaries[1])
        #expect(stores[0].count > 400)
        let differing = Set(stores[0].map { $0.joined(separator: " ") }).symmetricDifference(
            stores[1].map { $0.joined(separator: " ") })
        #expect(differing.isEmpty, "\(differing.count) records differ, e.g. \(differing.first?.prefix(80) ?? "")")
        #expect(streamed.states == single.states && streamed.pulled == single.pulled)
        // Alone, a request per page; in streams, up to four pages a request.
        #expect(requests[1].requests == requests[1].pages && requests[1].pages == single.pageLimits.count)
        #expect(requests[0].pages == streamed.pageLimits.count && requests[0].pages > 4)
        #expect(requests[0].requests * 2 <= requests[0].pages + 1, "\(requests[0])")
    }
}
