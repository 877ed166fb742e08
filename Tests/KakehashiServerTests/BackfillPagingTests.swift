import Foundation
import HTTPTypes
import KakehashiServer
import KakehashiShared
import KakehashiTestSupport
import Testing

/// A client older than gained states is back-filled with the histories of the cases it gains, as
/// changes (Docs/protocol.md, "Purge and back-fill"). When a page's cases owe more than its budget
/// (its `limit`, at least 1,000 changes), the page holds the histories read so far, none of its
/// rows, and the cursor's own position again, so one pull never reads every gained case's history
/// at once. Over both stores: the pages add up to exactly what one unpaged answer holds, a page
/// not stored is handed out again, what a stub may not show never arrives; a full
/// reconciliation's back-fill and moved events' histories are never cut (a cut page would be a
/// repeat the gate rations, or one that never moves on).
@Suite struct BackfillPagingTests {
    /// Cases the participant makes in its program (the colleague sees their stubs), each with
    /// three visits: 22 changes a case, 2,640 in all, over two budgets of 1,000.
    static let caseCount = 120

    /// The world of `BootstrapTests`, `caseCount` more confidential cases of the other program,
    /// and three devices of the colleague, all caught up: one older client pulling pages of the
    /// default size, one older client pulling pages of 5,000, one taking gained records as states.
    struct Devices {
        let world: BootstrapTests.World
        let paged: Laptop
        let whole: Laptop
        let gainer: Laptop
        let cases: [String]
    }

    static func devices(_ server: TestServer, _ client: APIClient) async throws -> Devices {
        let world = try await BootstrapTests.world(server, client)
        var cases: [String] = []
        for index in 0..<caseCount {
            let caseID = world.participant.create(
                .case,
                [
                    "title": .string("大学シーズの試作評価 \(index)"), "summary": .string("評価条件の調整（\(index)）"),
                    "kind": .string("industry-academia"), "level": .string("confidential"),
                    "owner": .string(world.participant.advisor), "program": .string("matching-planner"),
                    "stage": .string("matching"),
                ])
            for visit in 0..<3 {
                _ = world.participant.create(
                    .event,
                    [
                        "case": .string(caseID), "kind": .string("visit"), "date": .string("2026-06-1\(visit)"),
                        "body": .string("研究室を訪問し試作条件を確認した（\(index)-\(visit)）"),
                        "author": .string(world.participant.advisor),
                    ])
            }
            cases.append(caseID)
            if index % 30 == 29 { #expect(try await world.participant.sync().allSatisfy { $0.status == .accepted }) }
        }
        #expect(try await world.participant.sync().allSatisfy { $0.status == .accepted })
        let paged = try await server.secondDevice(of: world.colleague, client: client)
        let whole = try await server.secondDevice(of: world.colleague, client: client)
        let gainer = try await server.secondDevice(of: world.colleague, client: client)
        gainer.takesGainedStates = true
        for laptop in [paged, whole, gainer] { try await laptop.pullAll() }
        return Devices(world: world, paged: paged, whole: whole, gainer: gainer, cases: cases)
    }

    /// The participant adds the colleague to every one of its cases in one push (each gained
    /// whole), and the owner moves the confidential case to the other program (a stub for the
    /// colleague now): one page of rows that gains `caseCount` cases and lowers one.
    static func gainInOnePage(_ devices: Devices) async throws {
        let world = devices.world
        for caseID in devices.cases {
            world.participant.write(.case, caseID, "participants", .string(world.colleague.advisor), op: .add)
        }
        #expect(try await world.participant.sync().allSatisfy { $0.status == .accepted })
        world.owner.write(.case, world.confidential, "program", .string("matching-planner"))
        #expect(try await world.owner.sync().allSatisfy { $0.status == .accepted })
    }

    /// The changes of `changes` by the case they belong to (a case's own, its events'), as
    /// `laptop` files them.
    static func byCase(_ changes: [Change], in laptop: Laptop) -> [String: Int] {
        var counts: [String: Int] = [:]
        for change in changes {
            let caseID =
                change.entity == .case
                ? change.record : laptop.record(.event, change.record)?.value("case").stringValue
            if let caseID { counts[caseID, default: 0] += 1 }
        }
        return counts
    }

    /// Pulls `laptop` to the end, page by page, checking after each that it holds no more of
    /// `stub` than a stub's fields and that no page hands out the cursor it was asked from with
    /// more to come (a page that never moves on); returns the pages.
    static func pullPages(_ laptop: Laptop, stub: String?) async throws -> [PullResponse] {
        var pages: [PullResponse] = []
        var more = true
        while more, pages.count < 100 {
            let asked = laptop.cursor
            more = try await laptop.pullPage(limit: WireProtocol.defaultPullLimit)
            let page = try #require(laptop.lastPage)
            pages.append(page)
            #expect(!(page.hasMore && page.nextCursor == asked), "page \(pages.count) hands out \(asked) again")
            if let stub, let record = laptop.record(.case, stub) {
                #expect(
                    record.heads.keys.allSatisfy { $0.isTombstone || AccessPolicy.caseStubFields.contains($0.field) })
            }
        }
        #expect(!more, "the back-fill pages do not end")
        return pages
    }

    @Test(arguments: StoreKind.available)
    func anOlderClientsBackFillComesInPagesOfAboutItsBudget(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let devices = try await Self.devices(server, client)
            let (paged, whole, gainer) = (devices.paged, devices.whole, devices.gainer)
            let receivedBefore = (paged: paged.received.count, whole: whole.received.count)
            try await Self.gainInOnePage(devices)
            try await whole.pullAll(limit: WireProtocol.maxPullLimit)
            #expect(whole.lastPage.map { $0.changes.count > 2 * WireProtocol.defaultPullLimit } == true)
            let wholeChanges = Array(whole.received[receivedBefore.whole...])
            let longest = try #require(Self.byCase(wholeChanges, in: whole).values.max())

            // In pages of the default size: each within the budget and one more history; the
            // case now a stub is purged in the first and never holds more than a stub's fields.
            let pages = try await Self.pullPages(paged, stub: devices.world.confidential)
            let stub = RecordRef(entity: .case, record: devices.world.confidential)
            #expect(pages.first?.purges.contains(stub) == true)
            #expect(
                pages.allSatisfy { $0.changes.count < WireProtocol.defaultPullLimit + longest },
                "\(pages.map(\.changes.count))")
            let carrying = pages.filter { page in page.changes.contains { devices.cases.contains($0.record) } }
            #expect(carrying.count >= 3, "\(pages.map(\.changes.count))")

            // Together: each change once, exactly the unpaged answer's, and the same replica as
            // the whole pages' and the states' (with their history downloaded).
            let pagedChanges = Array(paged.received[receivedBefore.paged...])
            #expect(Set(pagedChanges.map(\.id)).count == pagedChanges.count)
            #expect(Set(pagedChanges.map(\.id)) == Set(wholeChanges.map(\.id)))
            try await gainer.pullAll()
            try await gainer.downloadHistory()
            #expect(try paged.canonicalState() == whole.canonicalState(), "\(paged.differences(from: whole))")
            #expect(try gainer.canonicalState() == whole.canonicalState(), "\(gainer.differences(from: whole))")
            #expect(paged.events(of: devices.world.confidential).isEmpty)
        }
    }

    /// A laptop that crashes before storing a back-fill page asks again from the cursor it had:
    /// the server forgets the levels that page recorded and back-fills those cases again.
    @Test(arguments: StoreKind.available)
    func aBackFillPageNotStoredIsHandedOutAgain(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let devices = try await Self.devices(server, client)
            let (paged, whole) = (devices.paged, devices.whole)
            try await Self.gainInOnePage(devices)
            try await whole.pullAll(limit: WireProtocol.maxPullLimit)
            let lost = try await client.pull(
                after: paged.cursor, limit: WireProtocol.defaultPullLimit, token: paged.token)
            let lostPage = try lost.decode(PullResponse.self)
            #expect(lostPage.hasMore && lostPage.changes.contains { devices.cases.contains($0.record) })
            let before = paged.received.count
            _ = try await Self.pullPages(paged, stub: devices.world.confidential)
            let again = Set(paged.received[before...].map(\.id))
            #expect(Set(lostPage.changes.map(\.id)).isSubset(of: again))
            #expect(try paged.canonicalState() == whole.canonicalState(), "\(paged.differences(from: whole))")
        }
    }

    /// The colleague's advisor moves to the participant's program: the page compares every case
    /// and gains all of them. Its back-fill is not cut (each cut page would compare every case
    /// again, a repeat `ReconcileGate` rations): one page, then replays of its cursor are rationed
    /// as before. The server's clock is moved by the test only.
    @Test(arguments: StoreKind.available)
    func aFullReconciliationsBackFillIsNeverCut(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        let clock = ManualClock(startingAt: Laptop.now())
        try await server.run(clock: clock.reading) { client in
            let devices = try await Self.devices(server, client)
            let paged = devices.paged
            let before = paged.cursor
            try await AccessTests.moveAdvisor(devices.world.colleague.advisor, to: "matching-planner", in: server.store)
            let pages = try await Self.pullPages(paged, stub: devices.world.confidential)
            #expect(pages.count == 1)
            let gained = Set(pages[0].changes.filter { $0.field == "title" }.map(\.record))
            #expect(Set(devices.cases).isSubset(of: gained))
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<5 {
                statuses.append(
                    try await client.pull(after: before, limit: WireProtocol.defaultPullLimit, token: paged.token)
                        .status)
            }
            #expect(statuses.prefix(3).allSatisfy { $0 == .ok }, "\(statuses)")
            #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests }, "\(statuses)")
        }
    }

    /// The owner moves 220 events (five changes each) out of a strict case the colleague cannot
    /// see into the confidential case it reads: its older client is back-filled with each event's
    /// history, over the budget, in one page. Nothing records that a moved event's history went
    /// out, so a page that owed only those and cut them would hand out its own cursor again,
    /// forever (an attacker's review of the first cut).
    @Test(arguments: StoreKind.available)
    func movedEventsHistoriesAreNeverCut(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let world = try await BootstrapTests.world(server, client)
            let paged = try await server.secondDevice(of: world.colleague, client: client)
            let whole = try await server.secondDevice(of: world.colleague, client: client)
            var events: [String] = []
            for index in 0..<220 {
                events.append(
                    world.owner.create(
                        .event,
                        [
                            "case": .string(world.strict), "kind": .string("visit"), "date": .string("2026-07-01"),
                            "body": .string("資本政策の打合せ（\(index)）"), "author": .string(world.owner.advisor),
                        ]))
                if index % 150 == 149 { #expect(try await world.owner.sync().allSatisfy { $0.status == .accepted }) }
            }
            #expect(try await world.owner.sync().allSatisfy { $0.status == .accepted })
            for laptop in [paged, whole] { try await laptop.pullAll() }
            #expect(paged.events(of: world.strict).isEmpty)
            for event in events { world.owner.write(.event, event, "case", .string(world.confidential)) }
            #expect(try await world.owner.sync().allSatisfy { $0.status == .accepted })
            let pages = try await Self.pullPages(paged, stub: nil)
            #expect(pages.count <= 2, "\(pages.map(\.changes.count))")
            #expect(pages.map(\.changes.count).reduce(0, +) > WireProtocol.defaultPullLimit)
            try await whole.pullAll(limit: WireProtocol.maxPullLimit)
            #expect(paged.events(of: world.confidential).count >= 220)
            #expect(try paged.canonicalState() == whole.canonicalState(), "\(paged.differences(from: whole))")
        }
    }
}
