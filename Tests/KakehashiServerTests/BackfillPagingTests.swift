import Foundation
import HTTPTypes
import KakehashiServer
import KakehashiShared
import KakehashiTestSupport
import Testing

/// A client older than gained states is back-filled with the histories of the cases it gains, as
/// changes (Docs/protocol.md, "Back-fill"). A page carries about its `limit` of them: when the
/// histories go over it, the page holds the histories read so far, none of its rows, and the
/// cursor's own position again, so one pull never reads every gained case's history at once. Over
/// both stores: the pages add up to exactly what one unpaged answer holds, a page not stored is
/// handed out again, what a stub may not show never arrives, and the full reconciliation that
/// goes on over such pages is not an allowance an insider can replay.
@Suite struct BackfillPagingTests {
    /// The page size the older client asks for: smaller than one gained case's history with its
    /// events, so every page of the back-fill carries one case's.
    static let limit = 10

    /// The world of `BootstrapTests`, eight more confidential cases of the other program (each
    /// with three visits), and three devices of the colleague: one older client pulling in pages of
    /// `limit`, one older client pulling whole pages, one taking gained records as states. All
    /// are caught up; then the colleague moves to the other program.
    struct Move {
        let world: BootstrapTests.World
        let paged: Laptop
        let whole: Laptop
        let gainer: Laptop
        let cases: [String]
    }

    static func move(_ server: TestServer, _ client: APIClient) async throws -> Move {
        let world = try await BootstrapTests.world(server, client)
        var cases: [String] = []
        for index in 0..<8 {
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
        }
        #expect(try await world.participant.sync().allSatisfy { $0.status == .accepted })
        let paged = try await server.secondDevice(of: world.colleague, client: client)
        let whole = try await server.secondDevice(of: world.colleague, client: client)
        let gainer = try await server.secondDevice(of: world.colleague, client: client)
        gainer.takesGainedStates = true
        for laptop in [paged, whole, gainer] { try await laptop.pullAll() }
        try await AccessTests.moveAdvisor(world.colleague.advisor, to: "matching-planner", in: server.store)
        return Move(world: world, paged: paged, whole: whole, gainer: gainer, cases: cases)
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

    @Test(arguments: StoreKind.available)
    func anOlderClientsBackFillComesInPagesOfAboutItsLimit(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let move = try await Self.move(server, client)
            let (paged, whole, gainer) = (move.paged, move.whole, move.gainer)
            let receivedBefore = (paged: paged.received.count, whole: whole.received.count)
            try await whole.pullAll(limit: WireProtocol.maxPullLimit)
            let wholeChanges = Array(whole.received[receivedBefore.whole...])
            let histories = Self.byCase(wholeChanges, in: whole)
            let longest = try #require(histories.values.max())
            #expect(move.cases.allSatisfy { (histories[$0] ?? 0) >= Self.limit }, "\(histories)")

            // The older client in pages of 10: each within its limit and one more history; at no
            // page does the case it now sees as a stub hold more than a stub's fields (it is
            // purged at once, its stub's fields back-filled in some page).
            var pages: [PullResponse] = []
            var more = true
            while more {
                more = try await paged.pullPage(limit: Self.limit)
                pages.append(try #require(paged.lastPage))
                let stub = paged.record(.case, move.world.confidential)
                #expect(
                    stub?.heads.keys.allSatisfy { $0.isTombstone || AccessPolicy.caseStubFields.contains($0.field) }
                        ?? true)
                #expect(pages.count < 100, "the back-fill pages do not end")
                if pages.count >= 100 { break }
            }
            #expect(pages.first?.purges.contains(RecordRef(entity: .case, record: move.world.confidential)) == true)
            #expect(pages.allSatisfy { $0.changes.count < Self.limit + longest }, "\(pages.map(\.changes.count))")
            let pagesWithGainedHistory = pages.filter { page in
                page.changes.contains { move.cases.contains($0.record) }
            }
            #expect(pagesWithGainedHistory.count >= 4, "\(pages.map(\.changes.count))")

            // Together: each change once, exactly the unpaged answer's, and the same replica as
            // the whole pages' and the states' (with their history downloaded).
            let pagedChanges = Array(paged.received[receivedBefore.paged...])
            #expect(Set(pagedChanges.map(\.id)).count == pagedChanges.count)
            #expect(Set(pagedChanges.map(\.id)) == Set(wholeChanges.map(\.id)))
            try await gainer.pullAll()
            try await gainer.downloadHistory(limit: 7)
            #expect(try paged.canonicalState() == whole.canonicalState(), "\(paged.differences(from: whole))")
            #expect(try gainer.canonicalState() == whole.canonicalState(), "\(gainer.differences(from: whole))")
            #expect(paged.events(of: move.world.confidential).isEmpty)
            #expect(
                paged.received.filter { $0.record == move.world.confidential && $0.field == "summary" }.count
                    == whole.received.filter { $0.record == move.world.confidential && $0.field == "summary" }.count)
        }
    }

    /// A laptop that crashes before storing a back-fill page asks again from the cursor it had:
    /// the server forgets the levels that page recorded and back-fills those cases again.
    @Test(arguments: StoreKind.available)
    func aBackFillPageNotStoredIsHandedOutAgain(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let move = try await Self.move(server, client)
            let (paged, whole) = (move.paged, move.whole)
            try await whole.pullAll(limit: WireProtocol.maxPullLimit)
            let lost = try await client.pull(after: paged.cursor, limit: Self.limit, token: paged.token)
            let lostPage = try lost.decode(PullResponse.self)
            #expect(lostPage.hasMore && !lostPage.changes.isEmpty)
            let before = paged.received.count
            try await paged.pullAll(limit: Self.limit)
            let again = Set(paged.received[before...].map(\.id))
            #expect(Set(lostPage.changes.map(\.id)).isSubset(of: again))
            #expect(try paged.canonicalState() == whole.canonicalState(), "\(paged.differences(from: whole))")
        }
    }

    /// An insider replays the cursors of back-fill pages that go on with a full reconciliation
    /// (its own advisor moved): the cursor before the move, and a continuation cursor already
    /// followed. Each is a repeat that draws on the device's allowance of three, then 429, while
    /// the device's own next page goes on. The server's clock is moved by the test only.
    @Test(arguments: StoreKind.available)
    func replayedBackFillCursorsAreRationedLikeAnyRepeat(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        let clock = ManualClock(startingAt: Laptop.now())
        try await server.run(clock: clock.reading) { client in
            let move = try await Self.move(server, client)
            let paged = move.paged
            let before = paged.cursor
            let first = try await client.pull(after: before, limit: Self.limit, token: paged.token)
            let firstPage = try first.decode(PullResponse.self)
            #expect(firstPage.hasMore)
            // The continuation goes on, free, and again from its own next cursor.
            let second = try await client.pull(after: firstPage.nextCursor, limit: Self.limit, token: paged.token)
            #expect(second.status == .ok)
            let third = try await client.pull(
                after: try second.decode(PullResponse.self).nextCursor, limit: Self.limit, token: paged.token)
            #expect(third.status == .ok)
            // Replays: the continuation already followed, then the cursor before the move.
            var statuses: [HTTPResponse.Status] = []
            for cursor in [firstPage.nextCursor, before, before, before, before] {
                statuses.append(try await client.pull(after: cursor, limit: Self.limit, token: paged.token).status)
            }
            #expect(statuses.prefix(3).allSatisfy { $0 == .ok }, "\(statuses)")
            #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests }, "\(statuses)")
        }
    }
}
