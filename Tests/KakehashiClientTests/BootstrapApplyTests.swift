import Foundation
import KakehashiShared
import KakehashiTestSupport
import Testing

@testable import KakehashiClient

/// How the laptop applies a bootstrap from states: the states' records are all there after the
/// pages, the search index is built in one pass at the end, and a bootstrap cut short leaves a
/// mark that makes the sync that completes it build the index.
@Suite struct BootstrapApplyTests {
    static let advisor = "0192f1c4-0000-7000-8000-0000000000c1"

    /// Thirty open cases, as a server would hand out their states.
    static func states() -> [RecordState] {
        var laptop = ReplicaLaptop(device: DeviceID("d-00000000000000c1")!, author: advisor)
        var generator = SystemRandomNumberGenerator()
        var ids: [String] = []
        for index in 0..<30 {
            let id = RecordID.uuidV7(unixMillis: 1_763_700_000_000 + Int64(index), using: &generator)
            ids.append(id)
            let fields: [(String, String)] = [
                ("title", "開放特許の試作案件 その\(index)"), ("kind", "ip-business-matching"), ("level", "open"),
                ("owner", advisor), ("program", "business-production"), ("stage", "matching"),
            ]
            for (field, value) in fields {
                laptop.write(.set, .case, id, field: field, .string(value), at: 1_763_700_000_000 + Int64(index))
            }
        }
        return ids.compactMap { laptop.record(.case, $0) }
    }

    @Test func aBootstrapCutShortBuildsTheSearchIndexWhenItCompletes() async throws {
        let states = Self.states()
        let home = TemporaryDirectory("laptop", create: false)
        let cut = StatesTransport(states: states, pageSize: 10, advisor: Self.advisor, failAfter: 2)
        let client = try await FieldClient.enroll(
            directory: home.path, server: "states", code: "code", cacert: nil, deviceName: nil, transport: cut)
        #expect(try client.identity().features.contains(WireProtocol.statesFeature))

        await #expect(throws: KakehashiError.self) {
            _ = try await SyncEngine(client: client, transport: cut).run()
        }
        // Two pages in: their records are there, the index waits for the last page.
        #expect(try client.list(.case).count == 20)
        #expect(try client.identity().indexPending)
        #expect(try client.search("試作案件").isEmpty)

        let whole = StatesTransport(states: states, pageSize: 10, advisor: Self.advisor, failAfter: nil)
        let summary = try await SyncEngine(client: client, transport: whole).run()
        #expect(summary.states == 10)
        #expect(try !client.identity().indexPending)
        #expect(try client.list(.case).count == 30)
        #expect(try client.search("試作案件", limit: 100).count == 30)
        #expect(try client.search("その29").map(\.id) == [states[29].id])
    }
}

/// Serves `states` as bootstrap pages of `pageSize` (cursors `s1`, `s2`, …, then `done`), and
/// fails with a cut connection after `failAfter` pages when set.
struct StatesTransport: SyncTransport {
    let states: [RecordState]
    let pageSize: Int
    let advisor: String
    let failAfter: Int?
    let served = FailingAfter.Counter()

    static let features: Set<String> = [WireProtocol.statesFeature, "ack"]

    func enroll(_ request: EnrollRequest) async throws(TransportFailure) -> Transferred<EnrollResponse> {
        Transferred(
            EnrollResponse(device: DeviceID("d-00000000000000c2")!, token: "t", advisor: advisor, serverTime: 0),
            bytes: 0, features: Self.features)
    }

    func push(_ request: PushRequest, token: String) async throws(TransportFailure) -> Transferred<PushResponse> {
        Transferred(PushResponse(results: [], serverTime: 0), bytes: 0, features: Self.features)
    }

    func pullStates(limit: Int, token: String) async throws(TransportFailure) -> Transferred<PullResponse> {
        try page(0)
    }

    func pull(
        after cursor: String, limit: Int, token: String
    ) async throws(TransportFailure)
        -> Transferred<PullResponse>
    {
        if cursor == "done" {
            return Transferred(
                PullResponse(changes: [], purges: [], nextCursor: "done", hasMore: false, serverTime: 0), bytes: 0,
                features: Self.features)
        }
        return try page(Int(cursor.dropFirst()) ?? 0)
    }

    private func page(_ index: Int) throws(TransportFailure) -> Transferred<PullResponse> {
        if let failAfter, served.next() > failAfter { throw .unreachable("connection reset by peer") }
        let slice = Array(states.dropFirst(index * pageSize).prefix(pageSize))
        let last = (index + 1) * pageSize >= states.count
        return Transferred(
            PullResponse(
                changes: [], purges: [], nextCursor: last ? "done" : "s\(index + 1)", hasMore: true, serverTime: 0,
                states: slice),
            bytes: 0, features: Self.features)
    }
}
