import Foundation
import KakehashiServer
import KakehashiShared
import Testing

/// An insider tries to make a case's access ambiguous: two devices of the owner push, with their
/// real tokens, concurrent writes of the case's level whose timestamps tie in time and counter,
/// so the winner is decided by device id alone — the one place where the order of heads is not
/// told by time. Every device must be served by the level the merged state says. (The server
/// decides from the stored bytes, `AccessPolicy.CaseFacts(binaryState:id:)`, or from a state it
/// decoded lately; the bytes path with tied heads is pinned by `CaseFactsCodingTests`.)
@Suite struct TiedHeadsAccessTests {
    @Test(arguments: StoreKind.available)
    func tiedLevelWritesAreDecidedAsTheMergedStateDecidesThem(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let world = try await BootstrapTests.world(server, client)
            let owner = world.owner
            let second = try await server.secondDevice(of: owner, client: client)
            let outsider = world.outsider
            try await outsider.pullAll()
            try await world.colleague.pullAll()
            // A stub of the confidential case (another program's advisor); the whole case (its program's).
            #expect(outsider.record(.case, world.confidential) != nil)
            #expect(world.colleague.record(.case, world.confidential)?.value("title") != .null)
            let key = RegisterKey(field: "level", element: nil)
            let prev = (owner.records[RecordRef(entity: .case, record: world.confidential)]?.heads[key] ?? [])
                .map(\.hlc)
            let millis = Laptop.now()
            // The device that wins the tie writes `secret`, the other `open`.
            let (winner, loser) = owner.device > second.device ? (owner, second) : (second, owner)
            func forged(by laptop: Laptop, _ level: String) -> Change {
                Change(
                    id: ChangeID(device: laptop.device, counter: 1_000_000), entity: .case, record: world.confidential,
                    field: "level", op: .set, value: .string(level),
                    hlc: HLC(millis: millis, counter: 0, device: laptop.device), prev: prev, author: owner.advisor)
            }
            #expect(
                try await AccessIntegrityTests.push(loser, [forged(by: loser, "open")]).map(\.status) == [.accepted])
            #expect(
                try await AccessIntegrityTests.push(winner, [forged(by: winner, "secret")]).map(\.status) == [.accepted]
            )
            let merged = try #require(try await server.store.record(.case, world.confidential))
            #expect(merged.heads[key]?.count == 2, "two concurrent heads")
            #expect(merged.value("level") == .string("secret"))

            // The outsider had a stub, the colleague the whole case: `secret` leaves both nothing.
            let confidential = RecordRef(entity: .case, record: world.confidential)
            for laptop in [outsider, world.colleague] {
                laptop.binaryPages = true
                try await laptop.pullAll()
                #expect(laptop.purged.contains(confidential))
                #expect(laptop.record(.case, world.confidential) == nil)
            }
        }
    }
}
