import Foundation
import GRDB
import KakehashiShared
import KakehashiTestSupport
import Testing

@testable import KakehashiClient

/// The libcurl transport against a real socket that misbehaves: each failure ends in a clear
/// error, retries happen only when they can help, and nothing pending is lost.
@Suite struct CurlTransportTests {
    func transport(_ server: FaultyHTTPServer) -> CurlTransport {
        var transport = CurlTransport(baseURL: server.url)
        transport.retry = RetryPolicy(attempts: 3, baseDelay: 0.01, maxDelay: 0.05)
        transport.stallSeconds = 1
        transport.requestTimeoutSeconds = 5
        return transport
    }

    @Test func aConnectionCutMidResponseIsRetriedThenReportedAsUnreachable() async throws {
        let server = try FaultyHTTPServer(.cutMidResponse)
        defer { server.stop() }
        let failure = await #expect(throws: TransportFailure.self) {
            try await transport(server).pull(after: "0", limit: 10, token: "t")
        }
        guard case .unreachable = failure else {
            Issue.record("expected unreachable, got \(String(describing: failure))"); return
        }
        #expect(server.requests == 3)
        #expect(failure?.kakehashiError.code == .unavailable)
        #expect(failure?.kakehashiError.message.contains("Your work is kept") == true)
    }

    /// A server older than binary pages ignores `Accept` and answers JSON: the page is read all
    /// the same.
    @Test func anOlderServersJSONPageIsRead() async throws {
        let device = try #require(DeviceID("d-0123456789abcdef"))
        let change = Change(
            id: ChangeID(device: device, counter: 1), entity: .organization,
            record: "0192f1c4-0000-7000-8000-0000000000aa",
            field: "name", op: .set, value: .string("株式会社浜松精密"), hlc: HLC(millis: 1_000, counter: 0, device: device),
            prev: [], author: "0192f1c4-0000-7000-8000-000000000001")
        let page = PullResponse(
            changes: [change], purges: [], nextCursor: "1.0", hasMore: false, serverTime: 1_763_700_000_000)
        let server = try FaultyHTTPServer(
            .answer(contentType: "application/json", body: [UInt8](try JSONEncoder().encode(page))))
        defer { server.stop() }
        #expect(try await transport(server).pull(after: "0", limit: 10, token: "t").value == page)
    }

    /// A binary page cut short at a section's end would read as a shorter page (its cursor
    /// without its changes) if the format allowed it: it is refused, and not tried again.
    @Test func aBinaryPageCutShortIsRefusedNotReadAsAShorterPage() async throws {
        let page = PullResponse(
            changes: [], purges: [RecordRef(entity: .case, record: "0192f1c4-0000-7000-8000-0000000000bb")],
            nextCursor: "9.0", hasMore: false, serverTime: 1_763_700_000_000, epoch: "e-1")
        let server = try FaultyHTTPServer(
            .answer(contentType: BinaryPage.mediaType, body: Array(BinaryPage.encode(page).dropLast())))
        defer { server.stop() }
        let failure = await #expect(throws: TransportFailure.self) {
            try await transport(server).pull(after: "0", limit: 10, token: "t")
        }
        guard case .undecodable(let detail) = failure else {
            Issue.record("expected undecodable, got \(String(describing: failure))"); return
        }
        #expect(detail.contains("binary page") && detail.contains("cut short"), "\(detail)")
        #expect(server.requests == 1)
        #expect(failure?.kakehashiError.code == .unavailable)
    }

    @Test func aStalledServerIsAbandoned() async throws {
        let server = try FaultyHTTPServer(.stall(seconds: 8))
        defer { server.stop() }
        var stalled = transport(server)
        stalled.retry = RetryPolicy(attempts: 1)
        let failure = await #expect(throws: TransportFailure.self) {
            try await stalled.pull(after: "0", limit: 10, token: "t")
        }
        #expect(failure?.kakehashiError.code == .unavailable)
        #expect(
            failure?.description.lowercased().contains("timeout") == true
                || failure?.description.contains("Timeout") == true)
    }

    /// Cancelling the task waiting for a request aborts the transfer under way (libcurl's
    /// progress callback), long before the stall timeout or the server would end it.
    @Test func aCancelledRequestAbortsTheTransferUnderWay() async throws {
        let server = try FaultyHTTPServer(.stall(seconds: 8))
        defer { server.stop() }
        let request = TaskCanceller<Transferred<PullResponse>>()
        var stalled = transport(server)
        stalled.retry = RetryPolicy(attempts: 1)
        stalled.stallSeconds = 60
        stalled.requestTimeoutSeconds = 60
        stalled.waitingNoticeSeconds = 1
        // The first notice of a silent server comes while the transfer is under way.
        stalled.observer = { event in
            if case .waiting = event { request.cancel() }
        }
        let running = request.start { [stalled] in try await stalled.pull(after: "0", limit: 10, token: "t") }
        let failure = await #expect(throws: TransportFailure.self) { try await running.value }
        guard case .cancelled = failure else {
            Issue.record("expected cancelled, got \(String(describing: failure))"); return
        }
        #expect(server.requests == 1)
    }

    @Test func serverErrorsAreRetriedAndReportedWithTheServersMessage() async throws {
        let server = try FaultyHTTPServer(.status(500))
        defer { server.stop() }
        let failure = await #expect(throws: TransportFailure.self) {
            try await transport(server).push(PushRequest(changes: []), token: "t")
        }
        #expect(server.requests == 3)
        #expect(failure?.kakehashiError.code == .unavailable)
        #expect(failure?.kakehashiError.message.contains("データベースに接続できません") == true)
    }

    @Test(arguments: [400, 401, 404, 422])
    func clientErrorsAreNeverRetried(_ status: Int) async throws {
        let server = try FaultyHTTPServer(.status(status))
        defer { server.stop() }
        _ = await #expect(throws: TransportFailure.self) {
            try await transport(server).pull(after: "0", limit: 1, token: "t")
        }
        #expect(server.requests == 1)
    }

    @Test func tooManyRequestsIsRetried() async throws {
        let server = try FaultyHTTPServer(.status(429))
        defer { server.stop() }
        _ = await #expect(throws: TransportFailure.self) {
            try await transport(server).pull(after: "0", limit: 1, token: "t")
        }
        #expect(server.requests == 3)
    }

    @Test func aFailedSyncKeepsEveryPendingChangeAndALaterSyncDeliversThem() async throws {
        let inProcess = InProcessServer()
        let laptop = try await TestLaptop.enroll(inProcess, name: "山本浩二")
        for index in 0..<5 {
            _ = try laptop.client.create(
                .case, RecordInput(values: ["title": "オフライン案件\(index)", "kind": "consultation"]))
        }
        let pending = try laptop.client.status().pending
        let broken = try FaultyHTTPServer(.cutMidResponse)
        defer { broken.stop() }
        let error = await #expect(throws: KakehashiError.self) {
            try await SyncEngine(client: laptop.client, transport: transport(broken)).run()
        }
        #expect(error?.code == .unavailable)
        #expect(try laptop.client.status().pending == pending)
        try await laptop.sync()
        #expect(try laptop.client.status().pending == 0)
        let titles = await inProcess.log.filter { $0.field == "title" && $0.entity == .case }.compactMap(
            \.value.stringValue)
        #expect(Set(titles) == Set((0..<5).map { "オフライン案件\($0)" }))
    }
}
