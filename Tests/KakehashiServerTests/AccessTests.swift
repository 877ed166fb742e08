import Foundation
import Hummingbird
import KakehashiServer
import KakehashiShared
import KakehashiTestSupport
import Testing

/// Docs/design.md §6 on every pull: levels, stubs, purges and back-fill, over both stores.
@Suite struct AccessTests {
    static let caseTitle = "精密加工技術の試作マッチング"
    static let caseSummary = "株式会社〇〇製作所の精密加工技術と大学の評価設備をつなぐ試作案件"
    static let eventBody = "川崎市産業振興財団の紹介で訪問。試作条件を確認した。"

    /// A confidential case of `program` (the owner's own: a new case belongs to its creator's
    /// program) owned by `owner`, with one event.
    /// The administrators move an advisor to another program (an admin write to the directory).
    static func moveAdvisor(_ advisor: String, to program: String, in store: any ChangeLogStore) async throws {
        let state = try await store.record(.advisor, advisor)
        var maker = ChangeMaker(clock: HybridClock(device: DeviceID("server-test")!), author: WireProtocol.systemAuthor)
        let move = maker.make(
            .set, entity: .advisor, record: advisor, field: "program", value: .string(program), state: state,
            wallMillis: Laptop.now())
        _ = try await store.append([move], viewer: nil, wallMillis: Laptop.now(), onlyIfEmpty: false)
    }

    static func makeCase(
        by owner: Laptop, level: String = "confidential", program: String = "business-production"
    ) async throws -> (case: String, event: String) {
        let org = owner.create(.organization, ["name": .string("株式会社〇〇製作所"), "kind": .string("sme")])
        let caseID = owner.create(
            .case,
            [
                "title": .string(caseTitle), "summary": .string(caseSummary), "kind": .string("ip-business-matching"),
                "level": .string(level), "owner": .string(owner.advisor), "program": .string(program),
                "stage": .string("matching"),
            ], sets: ["organizations": [org], "tags": ["精密加工"]])
        let event = owner.create(
            .event,
            [
                "case": .string(caseID), "kind": .string("visit"), "date": .string("2026-04-15"),
                "body": .string(eventBody), "author": .string(owner.advisor),
            ])
        let results = try await owner.sync()
        #expect(results.allSatisfy { $0.status == .accepted })
        return (caseID, event)
    }

    /// Checks that `laptop` never received anything beyond a stub of `caseID`.
    static func expectNothingSecret(_ laptop: Laptop, caseID: String, eventID: String) {
        for change in laptop.received {
            if change.entity == .case && change.record == caseID {
                #expect(
                    change.field.map(AccessPolicy.caseStubFields.contains) ?? true,
                    "received case field \(change.field ?? "") of a case it may not fully see")
            }
            #expect(!(change.entity == .event && change.record == eventID), "received an event of a hidden case")
            if case .string(let text) = change.value {
                #expect(text != caseTitle && text != caseSummary && text != eventBody)
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func confidentialCaseIsFullForItsProgramAndAStubForOthers(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let outsider = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            let made = try await Self.makeCase(by: owner)
            try await colleague.sync()
            try await outsider.sync()

            #expect(colleague.record(.case, made.case)?.value("title") == .string(Self.caseTitle))
            #expect(colleague.events(of: made.case).count == 1)
            let stub = try #require(outsider.record(.case, made.case))
            #expect(stub.value("stage") == .string("matching"))
            #expect(stub.value("program") == .string("business-production"))
            #expect(stub.value("owner") == .string(owner.advisor))
            #expect(stub.value("title") == .null && stub.value("summary") == .null)
            #expect(stub.elements("tags").isEmpty)
            #expect(outsider.events(of: made.case).isEmpty)
            Self.expectNothingSecret(outsider, caseID: made.case, eventID: made.event)
            // Organizations are shared directory data.
            #expect(outsider.records.keys.contains { $0.entity == .organization })
        }
    }

    @Test(arguments: StoreKind.available, ["strict", "secret"])
    func strictAndSecretCasesAreInvisibleToEveryoneNotInvolved(kind: StoreKind, level: String) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let participant = try await server.advisor("高橋次郎", program: "coordinator", client: client)
            let made = try await Self.makeCase(by: owner, level: level)
            owner.write(.case, made.case, "participants", .string(participant.advisor), op: .add)
            try await owner.sync()
            try await colleague.sync()
            try await participant.sync()

            #expect(colleague.record(.case, made.case) == nil)
            #expect(colleague.received.allSatisfy { $0.record != made.case && $0.record != made.event })
            #expect(participant.record(.case, made.case)?.value("summary") == .string(Self.caseSummary))
            #expect(participant.events(of: made.case).count == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func openCasesAreFullForEveryone(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let outsider = try await server.advisor("鈴木一郎", program: "cabinet-office", client: client)
            let made = try await Self.makeCase(by: owner, level: "open")
            try await outsider.sync()
            #expect(outsider.record(.case, made.case)?.value("title") == .string(Self.caseTitle))
            #expect(outsider.events(of: made.case).count == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func addingAParticipantBackFillsTheFullHistoryOlderThanTheCursor(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let outsider = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            let made = try await Self.makeCase(by: owner)
            try await outsider.sync()
            #expect(outsider.record(.case, made.case)?.value("title") == .null)

            owner.write(.case, made.case, "participants", .string(outsider.advisor), op: .add)
            try await owner.sync()
            try await outsider.sync()
            let full = try #require(outsider.record(.case, made.case))
            #expect(full.value("title") == .string(Self.caseTitle))
            #expect(full.value("summary") == .string(Self.caseSummary))
            #expect(full.elements("tags") == ["精密加工"])
            #expect(outsider.events(of: made.case).first?.value("body") == .string(Self.eventBody))
        }
    }

    @Test(arguments: StoreKind.available)
    func raisingTheLevelPurgesTheCaseFromLaptopsThatLoseIt(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let outsider = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            let made = try await Self.makeCase(by: owner)
            try await colleague.sync()
            try await outsider.sync()
            #expect(colleague.events(of: made.case).count == 1)

            owner.write(.case, made.case, "level", .string("strict"))
            owner.write(.case, made.case, "summary", .string("厳秘に変更後の概要"))
            try await owner.sync()
            try await colleague.sync()
            try await outsider.sync()

            for laptop in [colleague, outsider] {
                #expect(laptop.purged.contains(RecordRef(entity: .case, record: made.case)))
                #expect(laptop.record(.case, made.case) == nil, "the purge reached the laptop's store")
                #expect(laptop.events(of: made.case).isEmpty)
                #expect(!laptop.received.contains { $0.value == .string("厳秘に変更後の概要") })
            }
            Self.expectNothingSecret(outsider, caseID: made.case, eventID: made.event)
            // The owner keeps everything.
            #expect(owner.record(.case, made.case)?.value("summary") == .string("厳秘に変更後の概要"))
        }
    }

    @Test(arguments: StoreKind.available)
    func removingAParticipantPurgesAndLeavesTheStub(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let partner = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            let made = try await Self.makeCase(by: owner)
            owner.write(.case, made.case, "participants", .string(partner.advisor), op: .add)
            try await owner.sync()
            try await partner.sync()
            #expect(partner.record(.case, made.case)?.value("title") == .string(Self.caseTitle))

            owner.write(.case, made.case, "participants", .string(partner.advisor), op: .remove)
            owner.write(.case, made.case, "title", .string("非公開の新件名"))
            try await owner.sync()
            try await partner.sync()
            #expect(partner.purged.contains(RecordRef(entity: .case, record: made.case)))
            let stub = try #require(partner.record(.case, made.case), "the stub is back-filled after the purge")
            #expect(stub.value("title") == .null && stub.value("summary") == .null)
            #expect(stub.value("stage") == .string("matching"))
            #expect(partner.events(of: made.case).isEmpty)
            #expect(!partner.received.contains { $0.value == .string("非公開の新件名") })
        }
    }

    @Test(arguments: StoreKind.available)
    func changingTheCaseProgramMovesFullAccess(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let planner = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            let made = try await Self.makeCase(by: owner)
            try await colleague.sync()
            try await planner.sync()

            owner.write(.case, made.case, "program", .string("matching-planner"))
            try await owner.sync()
            try await colleague.sync()
            try await planner.sync()
            #expect(colleague.purged.contains(RecordRef(entity: .case, record: made.case)))
            #expect(colleague.record(.case, made.case)?.value("title") == .null)
            #expect(colleague.events(of: made.case).isEmpty)
            #expect(planner.record(.case, made.case)?.value("title") == .string(Self.caseTitle))
            #expect(planner.events(of: made.case).count == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func movingAnAdvisorToAnotherProgramSwapsFullAndStubAccess(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let planner = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            let mover = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let ours = try await Self.makeCase(by: owner)
            let theirs = try await Self.makeCase(by: planner, program: "matching-planner")
            try await mover.sync()
            #expect(mover.record(.case, ours.case)?.value("title") == .string(Self.caseTitle))
            #expect(mover.record(.case, theirs.case)?.value("title") == .null)

            try await Self.moveAdvisor(mover.advisor, to: "matching-planner", in: server.store)

            try await mover.sync()
            #expect(mover.purged.contains(RecordRef(entity: .case, record: ours.case)))
            #expect(mover.record(.case, ours.case)?.value("title") == .null)
            #expect(mover.record(.case, ours.case)?.value("stage") == .string("matching"))
            #expect(mover.events(of: ours.case).isEmpty)
            #expect(mover.record(.case, theirs.case)?.value("title") == .string(Self.caseTitle))
            #expect(mover.events(of: theirs.case).count == 1)
        }
    }

    /// A device that crafts cursors to be shown its own advisor's move again and again would have
    /// every case compared under the store's writer at each request (review M2): repeated full
    /// reconciliations draw on an allowance of three, one more per 10 s, then 429; moving on, and
    /// other devices, are not held back. The server's clock is moved by the test, so a slow
    /// machine cannot earn an allowance back between requests.
    @Test(arguments: StoreKind.available)
    func fullReconciliationsAreRationedPerDevice(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        let clock = ManualClock(startingAt: Laptop.now())
        try await server.run(clock: clock.reading) { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let mover = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let other = try await server.advisor("高橋美咲", program: "business-production", client: client)
            _ = try await Self.makeCase(by: owner)
            try await mover.sync()
            try await other.sync()
            let before = mover.cursor
            try await Self.moveAdvisor(mover.advisor, to: "matching-planner", in: server.store)

            let first = try await client.pull(after: before, token: mover.token)
            #expect(first.status == .ok)
            // The same page again at once: a laptop pulling from the start again passes a few
            // times, a device that keeps replaying is refused for now, nothing computed.
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<5 { statuses.append(try await client.pull(after: before, token: mover.token).status) }
            #expect(statuses.prefix(3).allSatisfy { $0 == .ok }, "\(statuses)")
            #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests }, "\(statuses)")
            let again = try await client.pull(after: before, token: mover.token)
            #expect(again.status == .tooManyRequests && again.error?.code == "too-many-requests")
            // Ten seconds later, one more is allowed, and only one.
            clock.advance(by: 10_000)
            #expect(try await client.pull(after: before, token: mover.token).status == .ok)
            #expect(try await client.pull(after: before, token: mover.token).status == .tooManyRequests)
            // Ordinary pulls of that device, and other devices, go on.
            let next = try first.decode(PullResponse.self).nextCursor
            #expect(try await client.pull(after: next, token: mover.token).status == .ok)
            #expect(try await client.pull(after: other.cursor, token: other.token).status == .ok)
        }
    }

    @Test(arguments: StoreKind.available)
    func deactivatedAdvisorsAndRevokedDevicesGet401Revoked(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let leaving = try await server.advisor("佐藤花子", program: "business-production", client: client)
            _ = try await Self.makeCase(by: owner)
            try await leaving.sync()

            try await server.admin.deactivateAdvisor(leaving.advisor)
            for response in [
                try await client.pull(after: leaving.cursor, token: leaving.token),
                try await client.push([], token: leaving.token),
            ] {
                #expect(response.status == .unauthorized)
                #expect(response.error?.code == "revoked")
            }

            try await server.admin.revoke(owner.device.rawValue)
            let revoked = try await client.pull(after: "0", token: owner.token)
            #expect(revoked.status == .unauthorized && revoked.error?.code == "revoked")
        }
    }

    /// A client that asks for the next page while it still applies the current one (issue 13)
    /// and then crashes before storing either retries from its stored cursor; the server must
    /// still know what that client holds. Without `ack`, the request ahead told the server the
    /// current page was stored, the server dropped the level the client really holds, and the
    /// retry left a case on the laptop that must be purged.
    @Test(arguments: StoreKind.available)
    func aPageAskedAheadWithAckDoesNotCostAPurgeWhenTheClientCrashes(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let made = try await Self.makeCase(by: owner)
            try await colleague.sync()  // holds the case in full
            let stored = colleague.cursor
            func setLevel(_ level: String) async throws {
                owner.write(.case, made.case, "level", .string(level))
                try await owner.sync()
            }
            // Page 1 purges the case (now strict); page 2, asked ahead with ack = the stored
            // cursor while the case is confidential again, back-fills it.
            try await setLevel("strict")
            let first = try await client.send(.get, "/v1/pull?after=\(stored)&limit=1", token: colleague.token)
                .decode(PullResponse.self)
            #expect(first.purges == [RecordRef(entity: .case, record: made.case)])
            try await setLevel("confidential")
            let ahead = try await client.send(
                .get, "/v1/pull?after=\(first.nextCursor)&ack=\(stored)&limit=1", token: colleague.token
            ).decode(PullResponse.self)
            #expect(ahead.changes.contains { $0.record == made.case })
            try await setLevel("strict")
            // The laptop crashes before storing either page and starts again from what it stored:
            // it still holds the case in full, so the case must be purged.
            let retried = try await client.pull(after: stored, token: colleague.token).decode(PullResponse.self)
            #expect(retried.purges == [RecordRef(entity: .case, record: made.case)])

            // ack ahead of after, or not a cursor: 400 naming ack.
            for query in ["after=\(stored)&ack=\(first.nextCursor)", "after=\(first.nextCursor)&ack=soon"] {
                let bad = try await client.send(.get, "/v1/pull?\(query)", token: colleague.token)
                #expect(bad.status == .badRequest && bad.error?.field == "ack", "\(query)")
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func aRetriedPullRepeatsItsPurgesAndBackFill(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let made = try await Self.makeCase(by: owner)
            try await colleague.sync()
            owner.write(.case, made.case, "level", .string("secret"))
            try await owner.sync()

            // The first response is lost in transit: the client asks again with the same cursor.
            let lost = try await client.pull(after: colleague.cursor, token: colleague.token).decode(PullResponse.self)
            let retried = try await client.pull(after: colleague.cursor, token: colleague.token).decode(
                PullResponse.self)
            #expect(lost.purges == [RecordRef(entity: .case, record: made.case)])
            #expect(retried.purges == lost.purges)
            #expect(retried.changes.map(\.id) == lost.changes.map(\.id))
        }
    }
    /// An insider's device is handed six cases in one page (its bookkeeping written for the whole
    /// page at once: one statement pair on PostgreSQL). When the owner lowers three of them, the
    /// next page purges exactly those three, its retry repeats exactly that, raising one again
    /// back-fills that one alone, and the three never lowered are still held (a new change to them
    /// travels alone): each case's level is kept apart though all were written together.
    @Test(arguments: StoreKind.available)
    func levelsHandedOutInOnePageArePurgedAndBackFilledCaseByCase(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            var cases: [String] = []
            for _ in 0..<6 { cases.append(try await Self.makeCase(by: owner).case) }
            let first = try await client.pull(after: "0", token: colleague.token).decode(PullResponse.self)
            #expect(!first.hasMore)
            #expect(Set(first.changes.filter { $0.entity == .case }.map(\.record)) == Set(cases))

            let lowered = [cases[0], cases[2], cases[4]]
            for caseID in lowered { owner.write(.case, caseID, "level", .string("strict")) }
            try await owner.sync()
            let purging = try await client.pull(after: first.nextCursor, token: colleague.token)
                .decode(PullResponse.self)
            #expect(Set(purging.purges) == Set(lowered.map { RecordRef(entity: .case, record: $0) }))
            #expect(purging.changes.allSatisfy { !lowered.contains($0.record) })
            // The answer is lost: the same request again purges the same cases, no more, no fewer.
            let retried = try await client.pull(after: first.nextCursor, token: colleague.token)
                .decode(PullResponse.self)
            #expect(Set(retried.purges) == Set(purging.purges))

            owner.write(.case, cases[2], "level", .string("confidential"))
            try await owner.sync()
            let back = try await client.pull(after: retried.nextCursor, token: colleague.token)
                .decode(PullResponse.self)
            #expect(back.purges.isEmpty)
            #expect(Set(back.changes.filter { $0.entity == .case }.map(\.record)) == [cases[2]])
            #expect(back.changes.contains { $0.entity == .case && $0.field == "title" })

            // The cases never lowered are still recorded as held: a new change to two of them
            // travels alone, with no back-fill of what the device already holds.
            for caseID in [cases[1], cases[3]] { owner.write(.case, caseID, "stage", .string("prototyping")) }
            try await owner.sync()
            let next = try await client.pull(after: back.nextCursor, token: colleague.token)
                .decode(PullResponse.self)
            #expect(next.purges.isEmpty)
            #expect(next.changes.map(\.field) == ["stage", "stage"])
            #expect(Set(next.changes.map(\.record)) == [cases[1], cases[3]])
        }
    }
}
