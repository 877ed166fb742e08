import Foundation
import HTTPTypes
import Hummingbird
import KakehashiServer
import KakehashiShared
import Testing

/// Bootstrap from states (Docs/protocol.md, "Bootstrap from states"), over both stores: a
/// device that asks for states from cursor `0` must end up holding exactly what a device of the
/// same advisor holds after replaying the log — no more (nothing a stub or a hidden case must
/// not show), no less — before and after the access changes that follow, and whatever happens
/// between its pages.
@Suite struct BootstrapTests {
    /// Text that only the people involved in the strict and secret cases may ever receive.
    static let hiddenTitle = "厳秘：大学発ベンチャーの資本政策"
    static let hiddenBody = "機密：ライセンス料率の交渉メモ"
    static let stubHiddenSummary = "秘：共同研究先との試作条件"

    /// The advisors and records of one world: every level, a stub, a participant, a moved
    /// event, a deleted case and a level raised after the fact.
    struct World {
        let owner: Laptop  // 山田, business-production: owns every case but one
        let colleague: Laptop  // 佐藤, business-production: full on confidential, stub elsewhere
        let outsider: Laptop  // 鈴木, matching-planner: stubs of confidential cases only
        let participant: Laptop  // 田中, matching-planner: participant of the strict case
        let confidential: String
        let strict: String
        let secret: String
        let raised: String
    }

    static func world(_ server: TestServer, _ client: APIClient) async throws -> World {
        let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
        let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
        let outsider = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
        let participant = try await server.advisor("田中美咲", program: "matching-planner", client: client)
        func makeCase(_ title: String, level: String, summary: String, participants: [String] = []) -> String {
            let org = owner.create(.organization, ["name": .string("株式会社\(level)製作所"), "kind": .string("sme")])
            let id = owner.create(
                .case,
                [
                    "title": .string(title), "summary": .string(summary), "kind": .string("ip-business-matching"),
                    "level": .string(level), "owner": .string(owner.advisor),
                    "program": .string("business-production"), "stage": .string("matching"),
                ], sets: ["organizations": [org], "tags": ["精密加工"], "participants": participants])
            _ = owner.create(
                .event,
                [
                    "case": .string(id), "kind": .string("visit"), "date": .string("2026-04-15"),
                    "body": .string(level == "strict" || level == "secret" ? hiddenBody : "\(title)の訪問記録"),
                    "author": .string(owner.advisor),
                ])
            return id
        }
        _ = makeCase("開放特許のライセンス相談", level: "open", summary: "公開の相談")
        let confidential = makeCase("精密加工技術の試作マッチング", level: "confidential", summary: stubHiddenSummary)
        let strict = makeCase(hiddenTitle, level: "strict", summary: hiddenBody, participants: [participant.advisor])
        let secret = makeCase(hiddenTitle, level: "secret", summary: hiddenBody)
        let raised = makeCase("後から厳秘になる案件", level: "confidential", summary: stubHiddenSummary)
        let deleted = makeCase("取り下げた案件", level: "open", summary: "取り下げ")
        #expect(try await owner.sync().allSatisfy { $0.status == .accepted })
        // An event moved from the confidential case into the strict one, a deletion, a level raised.
        let moved = owner.events(of: confidential)[0].id
        owner.write(.event, moved, "case", .string(strict))
        owner.write(.case, deleted, nil, .bool(true), op: .delete)
        owner.write(.case, raised, "level", .string("strict"))
        owner.write(.case, confidential, "stage", .string("prototyping"))
        // The confidential case keeps an event: a stub never carries one.
        _ = owner.create(
            .event,
            [
                "case": .string(confidential), "kind": .string("meeting"), "date": .string("2026-05-20"),
                "body": .string(stubHiddenSummary), "author": .string(owner.advisor),
            ])
        #expect(try await owner.sync().allSatisfy { $0.status == .accepted })
        // Another program's confidential case, with its own advisor writing (the outsider's
        // program: full for the outsider, a stub for the owner and the colleague).
        _ = participant.create(
            .case,
            [
                "title": .string("大学の評価設備の共同利用"), "summary": .string("評価設備の利用条件"),
                "kind": .string("industry-academia"), "level": .string("confidential"),
                "owner": .string(participant.advisor), "program": .string("matching-planner"),
                "stage": .string("intake"),
            ])
        #expect(try await participant.sync().allSatisfy { $0.status == .accepted })
        return World(
            owner: owner, colleague: colleague, outsider: outsider, participant: participant,
            confidential: confidential, strict: strict, secret: secret, raised: raised)
    }

    /// The world, and the colleague's devices: one that will replay the log, and one whose
    /// bootstrap has handed out every case and stops before the first event page.
    static func atTheEventPages(
        _ server: TestServer, _ client: APIClient
    ) async throws -> (World, replay: Laptop, bootstrap: Laptop) {
        let world = try await Self.world(server, client)
        let (replay, bootstrap) = try await Self.pair(world.colleague, server, client)
        while !bootstrap.cursor.contains(".event.") { try await bootstrap.pullPage(limit: 2) }
        return (world, replay, bootstrap)
    }

    /// Two more devices of `laptop`'s advisor: one that replays the log, one that bootstraps.
    static func pair(_ laptop: Laptop, _ server: TestServer, _ client: APIClient) async throws -> (Laptop, Laptop) {
        let replay = try await server.secondDevice(of: laptop, client: client)
        let bootstrap = try await server.secondDevice(of: laptop, client: client)
        bootstrap.bootstraps = true
        return (replay, bootstrap)
    }

    /// Whether `text` occurs in any raw page `laptop` received.
    static func received(_ text: String, by laptop: Laptop) -> Bool {
        laptop.rawPages.contains { String(decoding: $0, as: UTF8.self).contains(text) }
    }

    @Test(arguments: StoreKind.available)
    func aBootstrapHoldsExactlyWhatAReplayOfTheLogHolds(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let world = try await Self.world(server, client)
            for viewer in [world.owner, world.colleague, world.outsider, world.participant] {
                let (replay, bootstrap) = try await Self.pair(viewer, server, client)
                try await replay.pullAll()
                // Pages of two records cross every entity boundary.
                try await bootstrap.pullAll(limit: 2)
                #expect(!bootstrap.receivedStates.isEmpty)
                #expect(try bootstrap.canonicalState() == replay.canonicalState(), "advisor \(viewer.advisor)")
            }
            // The outsider and the colleague never received a word of the strict and secret cases,
            // and the outsider no summary of a confidential case (a stub).
            for viewer in [world.colleague, world.outsider] {
                let (_, bootstrap) = try await Self.pair(viewer, server, client)
                try await bootstrap.pullAll(limit: 3)
                #expect(
                    !Self.received(Self.hiddenTitle, by: bootstrap) && !Self.received(Self.hiddenBody, by: bootstrap))
                for hidden in [world.strict, world.secret, world.raised] {
                    #expect(!bootstrap.receivedStates.contains { $0.id == hidden })
                    #expect(bootstrap.events(of: hidden).isEmpty)
                }
            }
            let (_, outsider) = try await Self.pair(world.outsider, server, client)
            try await outsider.pullAll()
            #expect(!Self.received(Self.stubHiddenSummary, by: outsider))
            let stub = try #require(outsider.receivedStates.first { $0.id == world.confidential })
            #expect(stub.heads.keys.allSatisfy { $0.isTombstone || AccessPolicy.caseStubFields.contains($0.field) })
            #expect(stub.value("stage") == .string("prototyping"))
            #expect(outsider.events(of: world.confidential).isEmpty)
        }
    }

    /// Access that moves while a device bootstraps, and after: the stream that follows the states
    /// purges and back-fills as it would after a replay.
    @Test(arguments: StoreKind.available)
    func accessThatChangesDuringAndAfterABootstrapEndsAsForAReplay(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let world = try await Self.world(server, client)
            let (replay, bootstrap) = try await Self.pair(world.colleague, server, client)
            try await replay.pullAll()
            // Directory pages first, then the cases: change their access between the pages.
            try await bootstrap.pullPage(limit: 3)
            try await bootstrap.pullPage(limit: 3)
            // One case lost, one gained, one gained back.
            world.owner.write(.case, world.confidential, "level", .string("strict"))
            world.owner.write(.case, world.strict, "participants", .string(world.colleague.advisor), op: .add)
            world.owner.write(.case, world.raised, "level", .string("confidential"))
            try await world.owner.sync()
            try await bootstrap.pullAll(limit: 3)
            try await replay.pullAll()
            #expect(try bootstrap.canonicalState() == replay.canonicalState())
            #expect(bootstrap.record(.case, world.confidential) == nil)
            #expect(bootstrap.record(.case, world.strict)?.value("title") == .string(Self.hiddenTitle))

            // After the bootstrap: the case is lowered again, a participant removed.
            world.owner.write(.case, world.confidential, "level", .string("confidential"))
            world.owner.write(.case, world.strict, "participants", .string(world.colleague.advisor), op: .remove)
            try await world.owner.sync()
            try await bootstrap.pullAll()
            try await replay.pullAll()
            #expect(try bootstrap.canonicalState() == replay.canonicalState())
            #expect(bootstrap.record(.case, world.strict) == nil)
            #expect(bootstrap.purged.contains(RecordRef(entity: .case, record: world.strict)))
        }
    }

    /// A bootstrap page that never got stored (the laptop crashed), then the case it handed out
    /// is hidden: the retry from the stored cursor must not leave the case behind.
    @Test(arguments: StoreKind.available)
    func aBootstrapPageThatWasNotStoredIsHandedOutAgainOnRetry(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let world = try await Self.world(server, client)
            let (replay, bootstrap) = try await Self.pair(world.colleague, server, client)
            // Walk to the page that holds the confidential case, without storing it.
            var stored = WireProtocol.initialCursor
            var lost: PullResponse?
            while lost == nil {
                let page = try await client.pull(
                    after: stored, limit: 2, states: stored == WireProtocol.initialCursor, token: bootstrap.token
                ).decode(PullResponse.self)
                if page.states?.contains(where: { $0.id == world.confidential }) == true {
                    lost = page
                } else {
                    stored = page.nextCursor
                }
                try #require(page.hasMore)
            }
            // Asked ahead with ack before the crash: the server keeps what the stored cursor needs.
            let ahead = try await client.send(
                .get, "/v1/pull?after=\(try #require(lost).nextCursor)&ack=\(stored)&limit=2", token: bootstrap.token)
            #expect(ahead.status == .ok)
            world.owner.write(.case, world.confidential, "level", .string("secret"))
            try await world.owner.sync()
            // The laptop starts again from what it stored.
            if stored != WireProtocol.initialCursor {
                let retried = try await client.pull(after: stored, limit: 2, token: bootstrap.token)
                    .decode(PullResponse.self)
                #expect(!(retried.states ?? []).contains { $0.id == world.confidential })
            }
            try await bootstrap.pullAll()
            try await replay.pullAll()
            #expect(bootstrap.record(.case, world.confidential) == nil)
            #expect(try bootstrap.canonicalState() == replay.canonicalState())
        }
    }

    /// Access to cases moves after the case pages and before the event pages, and moves back
    /// before the change stream: a case gained then lost must not leave its events on the
    /// laptop (the stream finds nothing to purge), and a case lost then regained must not lose
    /// its events (the stream finds nothing to back-fill).
    @Test(arguments: StoreKind.available)
    func eventPagesFollowAccessThatMovedSinceTheCasePages(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let (world, replay, bootstrap) = try await Self.atTheEventPages(server, client)
            world.owner.write(.case, world.strict, "participants", .string(world.colleague.advisor), op: .add)
            world.owner.write(.case, world.confidential, "level", .string("strict"))
            try await world.owner.sync()
            try await bootstrap.pullPage(limit: 5000)  // every event
            world.owner.write(.case, world.strict, "participants", .string(world.colleague.advisor), op: .remove)
            world.owner.write(.case, world.confidential, "level", .string("confidential"))
            try await world.owner.sync()
            try await bootstrap.pullAll()
            try await replay.pullAll()
            #expect(bootstrap.events(of: world.strict).isEmpty)
            #expect(!bootstrap.events(of: world.confidential).isEmpty)
            #expect(try bootstrap.canonicalState() == replay.canonicalState())
        }
    }

    /// A case the device was handed whole in the case pages and may only see as a stub by the
    /// time the event pages come (moved to another program): the event page purges it and sends
    /// its stub, as a pull would, and none of its events.
    @Test(arguments: StoreKind.available)
    func anEventPageSendsTheStubOfACaseThatFellToAStubSinceTheCasePages(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let (world, replay, bootstrap) = try await Self.atTheEventPages(server, client)
            #expect(bootstrap.record(.case, world.confidential)?.value("title") != .null)
            world.owner.write(.case, world.confidential, "program", .string("matching-planner"))
            #expect(try await world.owner.sync().allSatisfy { $0.status == .accepted })
            try await bootstrap.pullPage(limit: 5000)  // every event
            let confidential = RecordRef(entity: .case, record: world.confidential)
            #expect(bootstrap.purged.contains(confidential))
            let stub = try #require(bootstrap.record(.case, world.confidential))
            #expect(stub.heads.keys.allSatisfy { $0.isTombstone || AccessPolicy.caseStubFields.contains($0.field) })
            #expect(stub.value("program") == .string("matching-planner"))
            #expect(bootstrap.events(of: world.confidential).isEmpty)
            try await bootstrap.pullAll()
            try await replay.pullAll()
            #expect(try bootstrap.canonicalState() == replay.canonicalState(), "\(bootstrap.differences(from: replay))")
        }
    }

    /// History never gives a device more of a case than it was handed: a stub's history stays a
    /// stub's while access rises and falls again before the device pulls, or the stream would
    /// have nothing to purge.
    @Test(arguments: StoreKind.available)
    func historyGivesNoMoreThanTheLevelHandedOut(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let world = try await Self.world(server, client)
            let (replay, bootstrap) = try await Self.pair(world.outsider, server, client)
            try await bootstrap.pullAll()
            #expect(bootstrap.record(.case, world.confidential)?.value("title") == .null)
            // The outsider takes part, downloads the history before pulling, and is removed.
            world.owner.write(.case, world.confidential, "participants", .string(world.outsider.advisor), op: .add)
            try await world.owner.sync()
            try await bootstrap.downloadHistory()
            world.owner.write(.case, world.confidential, "participants", .string(world.outsider.advisor), op: .remove)
            try await world.owner.sync()
            for change in bootstrap.history where change.record == world.confidential {
                #expect(change.field.map(AccessPolicy.caseStubFields.contains) ?? true, "\(change.field ?? "")")
            }
            #expect(
                !bootstrap.history.contains { change in
                    change.entity == .event && change.value == .string(Self.stubHiddenSummary)
                })
            #expect(!Self.received(Self.stubHiddenSummary, by: bootstrap))
            try await bootstrap.pullAll()
            try await replay.pullAll()
            #expect(
                try bootstrap.canonicalState() == replay.canonicalState(), "\(bootstrap.differences(from: replay))")
        }
    }

    /// The history a bootstrap leaves out arrives through `GET /v1/history`, filtered like a
    /// pull: with the changes after the bootstrap, exactly the changes a replay received.
    @Test(arguments: StoreKind.available)
    func theHistoryFillsInWhatTheStatesStandFor(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let world = try await Self.world(server, client)
            for viewer in [world.owner, world.colleague, world.outsider] {
                let (replay, bootstrap) = try await Self.pair(viewer, server, client)
                try await bootstrap.pullAll()
                #expect(bootstrap.historyCursor != nil)
                try await bootstrap.downloadHistory(limit: 4)
                try await replay.pullAll()
                #expect(bootstrap.historyCursor == nil)
                #expect(
                    Set((bootstrap.history + bootstrap.received).map(\.id)) == Set(replay.received.map(\.id)),
                    "advisor \(viewer.advisor)")
                if viewer !== world.owner {
                    #expect(
                        !Self.received(Self.hiddenTitle, by: bootstrap)
                            && !Self.received(Self.hiddenBody, by: bootstrap))
                }
            }
        }
    }

    /// Cursors an insider forges: history beyond the head, bootstraps started past the cases,
    /// generations never issued, text that is not a cursor.
    @Test(arguments: StoreKind.available)
    func forgedCursorsShowNothingTheDeviceMayNotSee(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let world = try await Self.world(server, client)
            let outsider = world.outsider
            let head = try await server.store.changeCount()
            // History up to far beyond the head, in one page: nothing hidden.
            let history = try await client.send(.get, "/v1/history?after=h.0.999999&limit=5000", token: outsider.token)
            #expect(history.status == .ok)
            let text = String(decoding: history.body, as: UTF8.self)
            #expect(!text.contains(Self.hiddenTitle) && !text.contains(Self.hiddenBody))
            #expect(!text.contains(Self.stubHiddenSummary))
            // A bootstrap started at the events: only events of cases the outsider fully sees.
            let events = try await client.pull(after: "\(head).0.event.", limit: 5000, token: outsider.token)
                .decode(PullResponse.self)
            for state in events.states ?? [] {
                #expect(state.entity == .event)
                #expect(
                    ![world.strict, world.secret, world.raised, world.confidential].contains(
                        state.value("case").stringValue ?? ""))
            }
            // Cursors the log never issued: 409; text that is not a cursor: 400 naming the field.
            for forged in ["\(head + 10).0.case.", "\(head).99.case."] {
                let response = try await client.pull(after: forged, token: outsider.token)
                #expect(response.status == .conflict && response.error?.kind == .unknownCursor, "\(forged)")
            }
            for bad in ["1.0.case.ABC", "1.0.widget.", "1.0.case", "1.0.case.a.b"] {
                let response = try await client.pull(after: bad, token: outsider.token)
                #expect(response.status == .badRequest && response.error?.field == "after", "\(bad)")
            }
            for bad in ["0", "h.5.2", "h.x.1", "", "h.-1.4"] {
                let response = try await client.send(.get, "/v1/history?after=\(bad)", token: outsider.token)
                #expect(response.status == .badRequest && response.error?.field == "after", "\(bad)")
            }
            let states = try await client.send(.get, "/v1/pull?after=0&states=yes", token: outsider.token)
            #expect(states.status == .badRequest && states.error?.field == "states")
            // No token, or a revoked device: nothing.
            #expect(try await client.send(.get, "/v1/history?after=h.0.10").status == .unauthorized)
            try await server.admin.revoke(outsider.device.rawValue)
            let revoked = try await client.send(.get, "/v1/history?after=h.0.10", token: outsider.token)
            #expect(revoked.status == .unauthorized && revoked.error?.kind == .revoked)
        }
    }

    /// A client of the previous protocol (no `states`) pulls from `0` as before: every change,
    /// no states, and the features header says what it could ask for.
    @Test(arguments: StoreKind.available)
    func aClientThatDoesNotAskForStatesReplaysTheLogAsBefore(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let world = try await Self.world(server, client)
            let reader = try await server.secondDevice(of: world.colleague, client: client)
            let response = try await client.pull(after: WireProtocol.initialCursor, limit: 5000, token: reader.token)
            let object = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
            #expect(object["states"] == nil && object["history"] == nil)
            #expect(((object["changes"] as? [Any])?.count ?? 0) > 0)
            let features = response.headers[HTTPField.Name(WireProtocol.featuresHeader)!] ?? ""
            #expect(features.contains(WireProtocol.statesFeature))
        }
    }
}
