import Foundation
import GRDB
import KakehashiShared
import KakehashiTestSupport
import Synchronization
import Testing

@testable import KakehashiClient

@Suite struct SyncEngineTests {
    func makeCase(_ laptop: TestLaptop, title: String = "精密加工技術の試作マッチング") throws -> String {
        let org = try laptop.client.create(
            .organization, RecordInput(values: ["name": "株式会社川崎精密製作所", "kind": "sme", "prefecture": "kanagawa"]))
        return try laptop.client.create(
            .case,
            RecordInput(values: ["title": title, "kind": "ip-business-matching"], sets: ["organizations": [org]]))
    }

    func snapshot(_ laptop: TestLaptop) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try laptop.client.store.read { db in
            try encoder.encode(
                try Row.fetchAll(db, sql: "SELECT entity, id, state FROM record_states ORDER BY entity, id").map {
                    [$0["entity"] as String, $0["id"] as String, String(decoding: $0["state"] as Data, as: UTF8.self)]
                })
        }
    }

    @Test func twoLaptopsConvergeAndTheLoserSeesAndResolvesTheConflict() async throws {
        // One clock for the server and both laptops, moved by hand: Sato's write is later.
        let clock = ManualClock()
        let server = InProcessServer()
        await server.setClock(clock.reading)
        let yamada = try await TestLaptop.enroll(server, name: "山田太郎", clock: clock.reading)
        let sato = try await TestLaptop.enroll(server, name: "佐藤花子", clock: clock.reading)
        let caseID = try makeCase(yamada)
        try await yamada.sync()
        try await sato.sync()
        #expect(try sato.client.show(.case, id: caseID).text("title") == "精密加工技術の試作マッチング")

        // Both edit the same field offline; Sato writes later, so Sato's value wins everywhere.
        try yamada.client.update(.case, id: caseID, RecordInput(values: ["stage": "matching"]))
        clock.advance(by: 5)
        try sato.client.update(.case, id: caseID, RecordInput(values: ["stage": "prototyping"]))
        _ = try yamada.client.create(
            .event, RecordInput(values: ["case": caseID, "kind": "visit", "body": "工場を訪問し課題を聴取"]))
        try sato.client.changeSet(.case, id: caseID, field: "tags", element: "知財", add: true)
        try await yamada.sync()
        try await sato.sync()
        try await yamada.sync()

        #expect(try snapshot(yamada) == snapshot(sato))
        #expect(try yamada.client.show(.case, id: caseID).text("stage") == "prototyping")
        let conflict = try #require(try yamada.client.conflicts().first)
        #expect(conflict.field == "stage")
        #expect(conflict.other.value == .string("matching") && conflict.other.mine)
        #expect(conflict.current.value == .string("prototyping") && !conflict.current.mine)

        try yamada.client.resolve(conflict.id, .mine)
        try await yamada.sync()
        try await sato.sync()
        #expect(try yamada.client.conflicts().isEmpty && sato.client.conflicts().isEmpty)
        #expect(try sato.client.show(.case, id: caseID).text("stage") == "matching")
        #expect(try snapshot(yamada) == snapshot(sato))
    }

    @Test func anInterruptedPullResumesAndAppliesEveryChangeOnce() async throws {
        let server = InProcessServer()
        let writer = try await TestLaptop.enroll(server, name: "鈴木一郎")
        for index in 0..<120 { _ = try makeCase(writer, title: "案件その\(index)") }
        let reader = try await TestLaptop.enroll(server, name: "高橋次郎")
        try await writer.sync()
        let total = await server.log.count
        try reader.client.store.write { db in
            try db.execute(sql: "DELETE FROM changes")
            try db.execute(sql: "DELETE FROM record_states")
            try db.execute(sql: "UPDATE device SET cursor = '0'")
        }
        var engine = SyncEngine(client: reader.client, transport: reader.transport)
        engine.pullPageSize = 100
        let failing = FailingAfter(pages: 3, inner: reader.transport)
        var broken = SyncEngine(client: reader.client, transport: failing)
        broken.pullPageSize = 100
        let error = await #expect(throws: KakehashiError.self) { try await broken.run() }
        #expect(error?.code == .unavailable)
        #expect(try reader.client.identity().cursor == "300")

        _ = try await engine.run()
        let stored = try reader.client.store.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM changes") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT id) FROM changes") ?? 0
            )
        }
        #expect(stored.0 == total && stored.1 == total)
        #expect(try reader.client.list(.case).count == 120)
        #expect(try snapshot(reader) == snapshot(writer))
    }

    @Test func aRejectedChangeIsReportedAndTheRecordGoesBack() async throws {
        let server = InProcessServer()
        let laptop = try await TestLaptop.enroll(server, name: "田中誠")
        let caseID = try makeCase(laptop)
        try await laptop.sync()
        await server.setForbidden(["amount_yen"])
        try laptop.client.update(
            .case, id: caseID, RecordInput(values: ["amount_yen": "5,000,000", "stage": "contract"]))
        let summary = try await laptop.sync()
        #expect(summary.rejected.count == 1)
        #expect(summary.rejected.first?.reason.contains("amount_yen") == true)
        let record = try laptop.client.show(.case, id: caseID)
        #expect(record.values["amount_yen"] == .null)
        #expect(record.text("stage") == "contract")
        #expect(try laptop.client.status().rejected.count == 1)
        #expect(try laptop.client.status().pending == 0)
    }

    @Test func aChangeTheServerFindsInvalidIsRefusedAloneAndSyncGoesOn() async throws {
        let server = InProcessServer()
        let laptop = try await TestLaptop.enroll(server, name: "中村優")
        await server.setInvalid(["amount_yen"])
        let caseID = try makeCase(laptop)
        try laptop.client.update(.case, id: caseID, RecordInput(values: ["amount_yen": "1,200,000"]))
        let other = try makeCase(laptop, title: "別の案件")
        let summary = try await laptop.sync()
        #expect(summary.rejected.map(\.field) == ["amount_yen"])
        #expect(summary.rejected.first?.code == "invalid")
        #expect(try laptop.client.status().pending == 0)
        #expect(try laptop.client.show(.case, id: caseID).values["amount_yen"] == .null)
        let titles = await server.log.filter { $0.record == other && $0.field == "title" }
        #expect(titles.count == 1)
    }

    /// The change a 422 names: the typed `change` field, or for a server older than that field
    /// the id in the message ("change N (ID): …").
    @Test func theRefusedChangeIsFoundByItsFieldOrInAnOlderServersMessage() throws {
        var maker = ChangeMaker(clock: HybridClock(device: DeviceID("d-laptop")!), author: "advisor-1")
        let batch = (0..<3).map { index in
            maker.make(
                .set, entity: .organization, record: "org-\(index)", field: "name", value: .string("株式会社\(index)"),
                state: nil, wallMillis: 1_780_000_000_000)
        }
        let typed = ErrorResponse(code: .invalidData, message: "not accepted", change: batch[1].id)
        #expect(SyncEngine.invalidChange(in: typed, batch: batch)?.id == batch[1].id)
        let older = ErrorResponse(code: .invalidData, message: "change 2 (\(batch[2].id)): name: too long")
        #expect(SyncEngine.invalidChange(in: older, batch: batch)?.id == batch[2].id)
        var elsewhere = ChangeMaker(clock: HybridClock(device: DeviceID("d-other")!), author: "advisor-2")
        let stranger = elsewhere.make(
            .set, entity: .organization, record: "org-9", field: "name", value: .string("他社"), state: nil,
            wallMillis: 1_780_000_000_000)
        let unknown = ErrorResponse(code: .invalidData, message: "not accepted", change: stranger.id)
        #expect(SyncEngine.invalidChange(in: unknown, batch: batch) == nil)
    }

    @Test func aServerAskingForSmallerPushesGetsThem() async throws {
        let server = InProcessServer()
        let laptop = try await TestLaptop.enroll(server, name: "小川翔")
        for index in 0..<30 { _ = try makeCase(laptop, title: "案件\(index)") }
        let pending = try laptop.client.status().pending
        await server.setMaxPushChanges(100)
        try await laptop.sync()
        #expect(try laptop.client.status().pending == 0)
        let sizes = await server.pushSizes
        #expect(sizes.allSatisfy { $0 <= 100 } && sizes.reduce(0, +) == pending)
    }

    @Test func aLaptopClockHoursAheadIsCorrectedAndItsWorkStillArrives() async throws {
        let server = InProcessServer()
        let skewed = try await TestLaptop.enroll(
            server, name: "伊藤健", clock: { FieldClient.systemClock() + 3 * 3_600_000 })
        let other = try await TestLaptop.enroll(server, name: "渡辺真理")
        // Enrollment measured the offset; forget it to act like a laptop whose clock drifted later.
        try skewed.client.store.write { db in
            var identity = try DeviceIdentity.load(db)
            identity.clockOffset = 0
            try identity.save(db)
        }
        let caseID = try makeCase(skewed)
        let summary = try await skewed.sync()
        #expect(summary.rejected.isEmpty)
        #expect(abs(summary.clockOffset + 3 * 3_600_000) < 60_000)
        try await other.sync()
        #expect(try other.client.show(.case, id: caseID).text("title") == "精密加工技術の試作マッチング")
        let history = try other.client.history(caseID).entries
        #expect(
            history.allSatisfy {
                $0.hlc < HLC(millis: FieldClient.systemClock() + 60_000, counter: 0, device: DeviceID("z")!).description
            })
    }

    /// A laptop clock three hours ahead, corrected at enrollment, then a sync in which no request
    /// is quick enough to tell the clocks apart (a slow link: each takes 5 s by the laptop's
    /// clock). The sync learns nothing, so the correction stays: the next writes carry the
    /// server's time, nothing is refused or re-stamped. (The offset was reset to 0 by such a
    /// sync, and a chaos run found the re-stamped changes it caused.)
    @Test func aSyncThatLearnsNothingOfTheClocksKeepsTheCorrection() async throws {
        let clock = SteppedClock(start: FieldClient.systemClock() + 3 * 3_600_000)
        let server = InProcessServer()
        let skewed = try await TestLaptop.enroll(server, name: "伊藤健", clock: clock.reading)
        let corrected = try skewed.client.identity().clockOffset
        #expect(abs(corrected + 3 * 3_600_000) < 60_000)
        _ = try makeCase(skewed, title: "遅い回線の案件")
        let slow = SlowTransport(base: skewed.transport, clock: clock)
        let summary = try await SyncEngine(client: skewed.client, transport: slow).run()
        #expect(try skewed.client.identity().clockOffset == corrected)
        #expect(summary.clockOffset == corrected)
        let enrolled = await server.log.count
        _ = try makeCase(skewed, title: "次の案件")
        let next = try await SyncEngine(client: skewed.client, transport: slow).run()
        #expect(next.rejected.isEmpty)
        let restamped = try skewed.client.store.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM changes WHERE status = 'restamped'") ?? 0
        }
        #expect(restamped == 0)
        let limit = HLC(millis: FieldClient.systemClock() + 60_000, counter: 0, device: DeviceID("z")!)
        let log = await server.log.dropFirst(enrolled)
        #expect(!log.isEmpty && log.allSatisfy { $0.hlc < limit })
    }

    /// The batch after the one in flight is read and encoded ahead; it is sent as read only when
    /// the server took every change of the batch before it. Here a refused change in the first
    /// batch: every other change still arrives once, none is sent twice.
    @Test func aBatchReadAheadIsReadAgainAfterAPartlyRefusedBatch() async throws {
        let server = InProcessServer()
        let laptop = try await TestLaptop.enroll(server, name: "田中誠")
        let first = try makeCase(laptop, title: "先頭の案件")
        try laptop.client.update(.case, id: first, RecordInput(values: ["amount_yen": "5,000,000"]))
        for index in 0..<8 { _ = try makeCase(laptop, title: "案件\(index)") }
        let pending = try laptop.client.status().pending
        await server.setForbidden(["amount_yen"])
        let enrolled = await server.log.count  // the directory's records
        var engine = SyncEngine(client: laptop.client, transport: laptop.transport)
        engine.pushBatchSize = 20
        let summary = try await engine.run()
        #expect(summary.rejected.map(\.field) == ["amount_yen"])
        #expect(try laptop.client.status().pending == 0)
        let sizes = await server.pushSizes
        #expect(sizes.count >= 3 && sizes.allSatisfy { $0 <= 20 })
        #expect(sizes.reduce(0, +) == pending)
        let log = await server.log.dropFirst(enrolled)
        #expect(log.count == pending - 1)
        #expect(Set(log.map(\.id)).count == log.count)
    }

    /// A laptop clock hours ahead, with more changes than one batch: the first answer re-stamps
    /// every pending change, so the batch read ahead with the old stamps is never sent; each
    /// change arrives once, re-stamped.
    @Test func aBatchReadAheadIsNeverSentAfterTheQueueWasRestamped() async throws {
        let server = InProcessServer()
        let skewed = try await TestLaptop.enroll(
            server, name: "伊藤健", clock: { FieldClient.systemClock() + 3 * 3_600_000 })
        try skewed.client.store.write { db in
            var identity = try DeviceIdentity.load(db)
            identity.clockOffset = 0
            try identity.save(db)
        }
        var cases: [String] = []
        for index in 0..<8 { cases.append(try makeCase(skewed, title: "案件\(index)")) }
        let written = try skewed.client.status().pending
        let enrolled = await server.log.count  // the directory's records
        var engine = SyncEngine(client: skewed.client, transport: skewed.transport)
        engine.pushBatchSize = 20
        let summary = try await engine.run()
        #expect(summary.rejected.isEmpty)
        #expect(try skewed.client.status().pending == 0)
        let log = await server.log.dropFirst(enrolled)
        let limit = HLC(millis: FieldClient.systemClock() + 60_000, counter: 0, device: DeviceID("z")!)
        #expect(log.count == written)
        #expect(log.allSatisfy { $0.hlc < limit })
        // Every record's writes arrived once: as many as the laptop wrote, per record.
        #expect(Set(cases).isSubset(of: Set(log.map(\.record))))
        #expect(Set(log.map { "\($0.record)/\($0.field ?? "")/\($0.op)/\($0.value)" }).count == written)
    }

    /// A sync cancelled while its transport pauses before trying a failed request again stops
    /// there with `CancellationError`: no further attempt, and every pending change still pending.
    @Test func aSyncCancelledDuringARetryPauseStopsWithoutAnotherAttempt() async throws {
        let server = InProcessServer()
        let laptop = try await TestLaptop.enroll(server, name: "森田聡")
        _ = try makeCase(laptop)
        let pending = try laptop.client.status().pending
        let failing = try FaultyHTTPServer(.status(503))
        defer { failing.stop() }
        let sync = TaskCanceller<SyncEngine.Summary>()
        var transport = CurlTransport(baseURL: failing.url)
        // Pauses long enough that nothing but the cancellation ends one before the test does.
        transport.retry = RetryPolicy(attempts: 5, baseDelay: 3_600, maxDelay: 3_600)
        transport.observer = { event in
            if case .retrying = event { sync.cancel() }
        }
        let engine = SyncEngine(client: laptop.client, transport: transport)
        let running = sync.start { try await engine.run() }
        await #expect(throws: CancellationError.self) { try await running.value }
        #expect(failing.requests == 1)
        #expect(try laptop.client.status().pending == pending)
        try await laptop.sync()
        #expect(try laptop.client.status().pending == 0)
    }

    @Test func aRevokedDeviceWipesItsLocalData() async throws {
        let server = InProcessServer()
        let laptop = try await TestLaptop.enroll(server, name: "小林修")
        _ = try makeCase(laptop)
        await server.revoke(advisor: laptop.advisor)
        let error = await #expect(throws: KakehashiError.self) { try await laptop.sync() }
        #expect(error?.code == .notAuthorized)
        #expect(error?.message.contains("wiped") == true)
        #expect(!LocalStore.exists(in: laptop.home.path))
    }

    /// The insider's case: the device is revoked while its push is under way, with the next
    /// batch read ahead and the batch before it still being marked. The server takes nothing
    /// more from it, and the laptop is wiped: no file left in its directory holds a byte of
    /// the cases it wrote (read raw, WAL included).
    @Test func aDeviceRevokedBetweenTwoBatchesSendsNoMoreAndKeepsNothing() async throws {
        let server = InProcessServer()
        let laptop = try await TestLaptop.enroll(server, name: "小林修")
        for index in 0..<8 { _ = try makeCase(laptop, title: "厳秘の試作案件その\(index)") }
        let enrolled = await server.log.count
        let transport = RevokingAfterFirstPush(inner: laptop.transport, server: server, advisor: laptop.advisor)
        var engine = SyncEngine(client: laptop.client, transport: transport)
        engine.pushBatchSize = 20
        let error = await #expect(throws: KakehashiError.self) { try await engine.run() }
        #expect(error?.code == .notAuthorized)
        #expect(transport.pushes.next() == 3)  // two pushes: the second met the revoked device
        #expect(await server.pushSizes == [20])
        #expect(await server.log.count - enrolled == 20)
        #expect(!LocalStore.exists(in: laptop.home.path))
        let files = FileManager.default.enumerator(atPath: laptop.home.path)?.compactMap { $0 as? String } ?? []
        for file in files {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: laptop.home.path + "/" + file))) ?? Data()
            #expect(bytes.range(of: Data("厳秘の試作案件".utf8)) == nil, "\(file)")
        }
    }

    @Test func aPurgeRemovesTheCaseAndItsEvents() async throws {
        let server = InProcessServer()
        let laptop = try await TestLaptop.enroll(server, name: "加藤恵")
        let caseID = try makeCase(laptop)
        let eventID = try laptop.client.create(
            .event, RecordInput(values: ["case": caseID, "kind": "meeting", "body": "秘密保持契約の打合せ"]))
        try await laptop.sync()
        await server.purgeNext([RecordRef(entity: .case, record: caseID)])
        try await laptop.sync()
        #expect(throws: KakehashiError.self) { try laptop.client.show(.case, id: caseID) }
        #expect(throws: KakehashiError.self) { try laptop.client.show(.event, id: eventID) }
        #expect(try laptop.client.search("秘密保持").isEmpty)
        #expect(throws: KakehashiError.self) { try laptop.client.history(eventID) }
    }
}

/// Passes requests through until `pages` pulls have succeeded, then fails as if the network
/// dropped.
struct FailingAfter: SyncTransport {
    let pages: Int
    let inner: InProcessTransport
    let counter = Counter()

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int {
            lock.withLock {
                value += 1; return value
            }
        }
    }

    func enroll(_ request: EnrollRequest) async throws(TransportFailure) -> Transferred<EnrollResponse> {
        try await inner.enroll(request)
    }

    func push(_ request: PushRequest, token: String) async throws(TransportFailure) -> Transferred<PushResponse> {
        try await inner.push(request, token: token)
    }

    func pull(
        after cursor: String, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<PullResponse> {
        guard counter.next() <= pages else { throw .unreachable("connection reset by peer") }
        return try await inner.pull(after: cursor, limit: limit, token: token)
    }
}

/// Passes pushes to the in-process server and revokes the advisor's devices once the first push
/// is answered: the next push, already prepared, meets a revoked device.
struct RevokingAfterFirstPush: SyncTransport {
    let inner: InProcessTransport
    let server: InProcessServer
    let advisor: String
    let pushes = FailingAfter.Counter()

    func enroll(_ request: EnrollRequest) async throws(TransportFailure) -> Transferred<EnrollResponse> {
        try await inner.enroll(request)
    }

    func push(_ request: PushRequest, token: String) async throws(TransportFailure) -> Transferred<PushResponse> {
        let number = pushes.next()
        let answer = try await inner.push(request, token: token)
        if number == 1 { await server.revoke(advisor: advisor) }
        return answer
    }

    func pull(
        after cursor: String, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<PullResponse> {
        try await inner.pull(after: cursor, limit: limit, token: token)
    }
}

/// A laptop clock that stands still but for `advance`: a test decides how long each request
/// takes by the laptop's clock.
final class SteppedClock: Sendable {
    private let now: Mutex<Int64>

    init(start: Int64) { now = Mutex(start) }

    var reading: @Sendable () -> Int64 { { [self] in now.withLock { $0 } } }

    func advance(by millis: Int64) { now.withLock { $0 += millis } }
}

/// A transport whose every push and pull takes 5 s by the laptop's `SteppedClock`: too slow for
/// the midpoint of a request to say anything about the clocks (`ClockOffset.isTelling`).
struct SlowTransport: SyncTransport {
    let base: any SyncTransport
    let clock: SteppedClock

    func enroll(_ request: EnrollRequest) async throws(TransportFailure) -> Transferred<EnrollResponse> {
        try await base.enroll(request)
    }

    func push(_ request: PushRequest, token: String) async throws(TransportFailure) -> Transferred<PushResponse> {
        defer { clock.advance(by: 5_000) }
        return try await base.push(request, token: token)
    }

    func pull(
        after cursor: String, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<PullResponse> {
        defer { clock.advance(by: 5_000) }
        return try await base.pull(after: cursor, limit: limit, token: token)
    }
}
