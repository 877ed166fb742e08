import Foundation
import KakehashiShared
import KakehashiTestSupport
import Testing

@testable import KakehashiClient

/// How the laptop sizes its pull pages (`PullPacing`): from `pullPageSize`, twice as large while
/// the network keeps it waiting for the page asked ahead, the same while pages are ready in time
/// or late only because the server said it was busy making them.
@Suite struct PullPacingTests {
    /// A bootstrap of thirty states in pages that start at two.
    func bootstrap(_ transport: PacedTransport) async throws -> SyncEngine.Summary {
        let home = TemporaryDirectory("laptop", create: false)
        let client = try await FieldClient.enroll(
            directory: home.path, server: "paced", code: "code", cacert: nil, deviceName: nil, transport: transport)
        var engine = SyncEngine(client: client, transport: transport)
        engine.pullPageSize = 2
        let summary = try await engine.run()
        #expect(summary.states == transport.states.count)
        #expect(try client.list(.case).count == transport.states.count)
        #expect(summary.pageLimits == transport.asked.limits)
        return summary
    }

    // The engine's own runs are timed by the test's sleeps, with margins far above what a busy
    // machine stretches them by: pages 300 ms late (the threshold is 20 ms), or a server that
    // says it took 10 s. Whether a page that was ready in time keeps its size is the pure
    // `idle` below: on a shared machine a zero-delay transport can still be scheduled late.

    @Test func pagesTheNetworkDelaysGrowUpToTheServersMaximum() async throws {
        let transport = PacedTransport(states: BootstrapApplyTests.states(), delay: .milliseconds(300))
        let summary = try await bootstrap(transport)
        let limits = summary.pageLimits
        // The first page and the one asked ahead with it keep the size the caller set.
        #expect(limits.prefix(2) == [2, 2])
        #expect(limits.count < 15, "\(limits)")
        #expect(zip(limits, limits.dropFirst()).allSatisfy { $1 == $0 || $1 == $0 * 2 }, "\(limits)")
        #expect(limits.last! > 2, "\(limits)")
    }

    @Test func pagesLateBecauseOfTheServerKeepTheStartingSize() async throws {
        // The server says each page took it far longer than the whole request: the network left
        // the laptop no idle time.
        let transport = PacedTransport(
            states: BootstrapApplyTests.states(), delay: .milliseconds(100), serverTiming: .seconds(10))
        let summary = try await bootstrap(transport)
        #expect(summary.pageLimits.allSatisfy { $0 == 2 }, "\(summary.pageLimits)")
        #expect(summary.pages == 16)
    }

    @Test func pagesLateBecauseTheLaptopDecodesThemKeepTheStartingSize() async throws {
        // Each page's last byte arrives at once; the laptop then spends 300 ms decoding it. That
        // is the laptop's own work, not a wait for the network (on a busy laptop, counting it
        // grew pages over loopback).
        let transport = PacedTransport(
            states: BootstrapApplyTests.states(), delay: nil, decoding: .milliseconds(300))
        let summary = try await bootstrap(transport)
        #expect(summary.pageLimits.allSatisfy { $0 == 2 }, "\(summary.pageLimits)")
    }

    /// The idle time the laptop counts against the network: none for a page that arrived before
    /// the page before was applied; all of a late page's wait when the server says nothing; none
    /// of it when the server says it was making the page all that time.
    @Test func idleTimeIsTheWaitTheServerDoesNotExplain() throws {
        let started = ContinuousClock.now
        let reply = Transferred(
            PullResponse(changes: [], purges: [], nextCursor: "x", hasMore: false, serverTime: 0), bytes: 0,
            received: started + .milliseconds(150))
        let asked = SyncEngine.AskedAhead(reply: reply, sent: 0, limit: 2, started: started)
        #expect(asked.idle(since: started + .milliseconds(200), server: nil) == .zero, "ready in time")
        #expect(asked.idle(since: started + .milliseconds(50), server: nil) == .milliseconds(100))
        #expect(asked.idle(since: started + .milliseconds(50), server: .milliseconds(150)) == .zero)
        #expect(asked.idle(since: started + .milliseconds(50), server: .milliseconds(100)) == .milliseconds(50))
    }

    @Test func theSizeDoublesOnlyOnNoticeableIdleTimeAndStopsAtTheMaximum() {
        #expect(PullPacing.next(after: 1_000, idle: .zero) == 1_000)
        #expect(PullPacing.next(after: 1_000, idle: PullPacing.noticeableIdle) == 1_000)
        #expect(PullPacing.next(after: 1_000, idle: .milliseconds(150)) == 2_000)
        #expect(PullPacing.next(after: 4_000, idle: .milliseconds(150)) == WireProtocol.maxPullLimit)
        #expect(PullPacing.next(after: WireProtocol.maxPullLimit, idle: .seconds(1)) == WireProtocol.maxPullLimit)
        // A caller's size above the server's maximum is the caller's to choose: kept, not cut.
        #expect(PullPacing.next(after: 8_000, idle: .seconds(1)) == 8_000)
    }

    @Test func theServersTimeIsReadFromServerTiming() {
        #expect(ResponseSink.serverDuration("app;dur=12.5") == .microseconds(12_500))
        #expect(ResponseSink.serverDuration("app;desc=\"pull\";dur=3") == .milliseconds(3))
        #expect(ResponseSink.serverDuration("app") == nil)
        #expect(ResponseSink.serverDuration("app;dur=-1") == nil)
    }
}

/// Serves `states` as bootstrap pages of the `limit` asked (cursors `s<offset>`, then `done`),
/// each after `delay` when set, saying `serverTiming` as the server's time when set, and taking
/// `decoding` after the page's last byte arrived (as a laptop decodes it) when set; records the
/// limits asked.
struct PacedTransport: SyncTransport {
    let states: [RecordState]
    let delay: Duration?
    var serverTiming: Duration?
    var decoding: Duration?
    let asked = Asked()

    final class Asked: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Int] = []
        var limits: [Int] { lock.withLock { values } }
        func note(_ limit: Int) { lock.withLock { values.append(limit) } }
    }

    func enroll(_ request: EnrollRequest) async throws(TransportFailure) -> Transferred<EnrollResponse> {
        Transferred(
            EnrollResponse(
                device: DeviceID("d-00000000000000c3")!, token: "t", advisor: BootstrapApplyTests.advisor,
                serverTime: 0),
            bytes: 0, features: StatesTransport.features)
    }

    func push(_ request: PushRequest, token: String) async throws(TransportFailure) -> Transferred<PushResponse> {
        Transferred(PushResponse(results: [], serverTime: 0), bytes: 0, features: StatesTransport.features)
    }

    func pullStates(limit: Int, token: String) async throws(TransportFailure) -> Transferred<PullResponse> {
        await page(from: 0, limit: limit)
    }

    func pull(
        after cursor: String, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<PullResponse> {
        if cursor == "done" {
            asked.note(limit)
            return Transferred(
                PullResponse(changes: [], purges: [], nextCursor: "done", hasMore: false, serverTime: 0), bytes: 0,
                features: StatesTransport.features)
        }
        return await page(from: Int(cursor.dropFirst()) ?? 0, limit: limit)
    }

    private func page(from offset: Int, limit: Int) async -> Transferred<PullResponse> {
        asked.note(limit)
        if let delay { try? await Task.sleep(for: delay) }
        let received = ContinuousClock.now
        if let decoding { try? await Task.sleep(for: decoding) }
        let slice = Array(states.dropFirst(offset).prefix(limit))
        let next = offset + limit >= states.count ? "done" : "s\(offset + limit)"
        return Transferred(
            PullResponse(
                changes: [], purges: [], nextCursor: next, hasMore: true, serverTime: 0, states: slice),
            bytes: 0, features: StatesTransport.features, serverTiming: serverTiming, received: received)
    }
}
