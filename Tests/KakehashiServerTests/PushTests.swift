import Foundation
import Hummingbird
import KakehashiServer
import KakehashiShared
import Testing

/// Push semantics: idempotence, per-change rejection, batch order (both stores).
@Suite struct PushTests {
    @Test(arguments: StoreKind.available)
    func aReplayedBatchIsAcknowledgedAsDuplicateAndStoredOnce(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            _ = laptop.create(.organization, ["name": .string("川崎市産業振興財団"), "kind": .string("support-center")])
            let batch = laptop.pending
            let first = try await client.push(batch, token: laptop.token).decode(PushResponse.self)
            #expect(first.results.map(\.status) == [.accepted, .accepted])
            let before = try await server.store.changeCount()
            let replay = try await client.push(batch, token: laptop.token).decode(PushResponse.self)
            #expect(replay.results.map(\.status) == [.duplicate, .duplicate])
            #expect(replay.results.map(\.id) == batch.map(\.id))
            #expect(try await server.store.changeCount() == before)
        }
    }

    @Test(arguments: StoreKind.available)
    func forbiddenChangesAreRejectedWhileTheRestOfTheBatchApplies(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let outsider = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            let made = try await AccessTests.makeCase(by: owner)
            try await outsider.sync()

            let org = outsider.create(.organization, ["name": .string("株式会社〇〇製作所"), "kind": .string("sme")])
            outsider.write(.case, made.case, "title", .string("書き換え"))
            outsider.write(.advisor, outsider.advisor, "program", .string("business-production"))
            outsider.write(.program, "matching-planner", "name", .string("改名"))
            let eventOnHidden = outsider.create(
                .event,
                [
                    "case": .string(made.case), "kind": .string("note"), "date": .string("2026-05-01"),
                    "body": .string("メモ"),
                ])
            let results = try await outsider.sync()
            #expect(results.count == 9)  // organization 2, title, advisor, program, event 4
            #expect(results[0...1].allSatisfy { $0.status == .accepted })
            #expect(results[2...].allSatisfy { $0.status == .rejected && $0.code == .forbidden && $0.reason != nil })
            #expect(try await server.store.record(.organization, org) != nil)
            #expect(try await server.store.record(.case, made.case)?.value("title") == .string(AccessTests.caseTitle))
            #expect(try await server.store.record(.event, eventOnHidden) == nil)
            #expect(
                try await server.store.record(.advisor, outsider.advisor)?.value("program")
                    == .string("matching-planner"))
        }
    }

    @Test(arguments: StoreKind.available)
    func changesFarAheadOfTheServerClockAreRejectedAsClockSkew(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            var maker = ChangeMaker(clock: HybridClock(device: laptop.device), author: laptop.advisor)
            var generator = SystemRandomNumberGenerator()
            let id = RecordID.uuidV7(unixMillis: Laptop.now(), using: &generator)
            let ahead = maker.make(
                .set, entity: .organization, record: id, field: "name", value: .string("未来の組織"), state: nil,
                wallMillis: Laptop.now() + 3_600_000)
            let result = try await client.push([ahead], token: laptop.token).decode(PushResponse.self).results
            #expect(result.first?.status == .rejected && result.first?.code == .clockSkew)
            #expect(try await server.store.record(.organization, id) == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func laterChangesInABatchSeeEarlierOnes(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let made = try await AccessTests.makeCase(by: owner)
            // Hand the case to another owner in the batch, then change its level: the second write
            // is judged with the first applied, and refused.
            let successor = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            owner.write(.case, made.case, "owner", .string(successor.advisor))
            owner.write(.case, made.case, "level", .string("secret"))
            let results = try await owner.sync()
            #expect(results.map(\.status) == [.accepted, .rejected])
        }
    }

    @Test(arguments: StoreKind.available)
    func aRecordIdOfAnotherEntityIsRejectedAsInvalid(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            let org = laptop.create(.organization, ["name": .string("株式会社〇〇製作所"), "kind": .string("sme")])
            try await laptop.sync()
            laptop.write(.need, org, "title", .string("同じIDのニーズ"))
            laptop.write(.seed, laptop.advisor, "title", .string("支援人材と同じIDのシーズ"))
            let results = try await laptop.sync()
            #expect(results.map(\.code) == [.invalid, .invalid])
            #expect(try await server.store.record(.need, org) == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func changesMustCarryTheDevicesOwnIdAndAdvisor(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let first = try await server.advisor("山田太郎", program: "business-production", client: client)
            let second = try await server.advisor("佐藤花子", program: "business-production", client: client)
            _ = second.create(.organization, ["name": .string("なりすまし"), "kind": .string("sme")])
            let results = try await client.push(second.pending, token: first.token).decode(PushResponse.self).results
            #expect(results.allSatisfy { $0.status == .rejected && $0.code == .forbidden })
            // The real owner of those ids can still push them.
            #expect(try await second.sync().allSatisfy { $0.status == .accepted })
        }
    }
}
