import Foundation
import HTTPTypes
import Hummingbird
import KakehashiServer
import KakehashiShared
import Testing

/// A device that gains access to records in the change stream (Docs/protocol.md, "Gained
/// records as states"), over both stores: a client that asks for states receives each gained
/// record's merged state, as it may see it now, and a history cursor scoped to it instead of the
/// record's history; the history follows through `GET /v1/history`, filtered like a pull. An
/// older client is back-filled with changes as before.
@Suite struct GainedStatesTests {
    /// The world of `BootstrapTests`, the devices of one advisor that watch a gain (one taking
    /// states as JSON, one as binary pages, one of the previous protocol), and the gains made.
    struct Gain {
        let world: BootstrapTests.World
        let gainers: [Laptop]
        let replay: Laptop
        /// An event moved from the secret case (hidden from the colleague) into the confidential
        /// one (fully readable by the colleague).
        let movedEvent: String
    }

    /// The colleague gains the strict case (made a participant) and an event moved into a case
    /// it reads; the outsider gains the stub of the case whose level went back to confidential.
    static func gain(
        _ server: TestServer, _ client: APIClient, viewer: (BootstrapTests.World) -> Laptop
    )
        async throws -> Gain
    {
        let world = try await BootstrapTests.world(server, client)
        let advisor = viewer(world)
        let json = try await server.secondDevice(of: advisor, client: client)
        let binary = try await server.secondDevice(of: advisor, client: client)
        let replay = try await server.secondDevice(of: advisor, client: client)
        json.takesGainedStates = true
        binary.takesGainedStates = true
        binary.binaryPages = true
        for laptop in [json, binary, replay] { try await laptop.pullAll() }
        let movedEvent = try #require(world.owner.events(of: world.secret).first).id
        world.owner.write(.case, world.strict, "participants", .string(world.colleague.advisor), op: .add)
        world.owner.write(.event, movedEvent, "case", .string(world.confidential))
        world.owner.write(.case, world.raised, "level", .string("confidential"))
        #expect(try await world.owner.sync().allSatisfy { $0.status == .accepted })
        for laptop in [json, binary, replay] { try await laptop.pullAll() }
        return Gain(world: world, gainers: [json, binary], replay: replay, movedEvent: movedEvent)
    }

    /// The world of `BootstrapTests`, and two new devices of the colleague: one that takes gained
    /// records as states, one of the previous protocol.
    static func colleagueDevices(
        _ server: TestServer, _ client: APIClient
    ) async throws -> (BootstrapTests.World, gainer: Laptop, replay: Laptop) {
        let world = try await BootstrapTests.world(server, client)
        let gainer = try await server.secondDevice(of: world.colleague, client: client)
        let replay = try await server.secondDevice(of: world.colleague, client: client)
        gainer.takesGainedStates = true
        return (world, gainer, replay)
    }

    @Test(arguments: StoreKind.available)
    func aDeviceThatGainsACaseReceivesItsStateNotItsHistory(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in try await Self.checkGainedCase(server, client) }
    }

    static func checkGainedCase(_ server: TestServer, _ client: APIClient) async throws {
        let gain = try await Self.gain(server, client) { $0.colleague }
        let (world, replay) = (gain.world, gain.replay)
        // Gained: the strict case (a participant now), the raised case (confidential again, in
        // the colleague's program) and the event moved into the confidential case.
        let cases = [world.strict, world.raised].map { RecordRef(entity: .case, record: $0) }
        let moved = RecordRef(entity: .event, record: gain.movedEvent)
        // The previous protocol received the strict case's whole history as changes.
        #expect(replay.gained.isEmpty && replay.receivedStates.isEmpty)
        #expect(replay.received.contains { $0.record == world.strict && $0.field == "title" })
        // The gained cases' events: the strict case's own, the one moved into it from the
        // confidential case, the raised case's.
        let events = Set(
            (replay.events(of: world.strict) + replay.events(of: world.raised)).map {
                RecordRef(entity: .event, record: $0.id)
            })
        #expect(events.count == 3)
        let gainedRecords = Set(cases + [moved]).union(events)
        let history = replay.received.filter {
            gainedRecords.contains(RecordRef(entity: $0.entity, record: $0.record))
        }
        for gainer in gain.gainers {
            #expect(Set(gainer.gained.map(\.ref)) == Set(cases + [moved]), "\(gainer.gained)")
            // States: exactly the gained records.
            let stateRefs = Set(gainer.receivedStates.map { RecordRef(entity: $0.entity, record: $0.id) })
            #expect(stateRefs == gainedRecords)
            // Changes: none of the history before the gain (titles, bodies), only the page's
            // own rows (the participant, the level, the event's move).
            let carried = gainer.received.filter { change in history.contains { $0.id == change.id } }
            #expect(!gainer.received.contains { $0.record == world.strict && $0.field == "title" })
            #expect(!gainer.received.contains { $0.record == gain.movedEvent && $0.field == "body" })
            #expect(carried.count == 3 && history.count > 20, "\(carried.count) of \(history.count)")
            // The same replica as the replay, and nothing of the secret case.
            #expect(try gainer.canonicalState() == replay.canonicalState(), "\(gainer.differences(from: replay))")
            #expect(!gainer.receivedStates.contains { $0.id == world.secret })
            // The history follows: with the stream, exactly the changes the replay received.
            try await gainer.downloadHistory(limit: 3)
            #expect(gainer.gainedHistories.isEmpty)
            #expect(Set((gainer.history + gainer.received).map(\.id)) == Set(replay.received.map(\.id)))
        }
    }

    /// A case that a device may now see as a stub arrives as a stub's state: the stub's fields,
    /// no event, and a history of the stub's fields alone.
    /// A case first logged after the device's cursor is not a gain: its whole history is in the
    /// stream from there on. Only a case with history before the cursor arrives as a state (the
    /// strict case, gained in the same push as a new case and its visit); the new case and its
    /// visit arrive as changes, with no history to fetch later.
    @Test(arguments: StoreKind.available)
    func aCaseNewSinceTheCursorArrivesAsChangesNotAsAGainedState(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let (world, gainer, replay) = try await Self.colleagueDevices(server, client)
            gainer.binaryPages = true
            for laptop in [gainer, replay] { try await laptop.pullAll() }
            let owner = world.owner
            let fresh = owner.create(
                .case,
                [
                    "title": .string("新規の共同研究相談"), "summary": .string("大学の評価設備を使った試作"),
                    "kind": .string("industry-academia"), "level": .string("confidential"),
                    "owner": .string(owner.advisor), "program": .string("business-production"),
                    "stage": .string("intake"),
                ])
            let visit = owner.create(
                .event,
                [
                    "case": .string(fresh), "kind": .string("visit"), "date": .string("2026-06-02"),
                    "body": .string("研究室を訪問し評価設備を確認"), "author": .string(owner.advisor),
                ])
            owner.write(.case, world.strict, "participants", .string(world.colleague.advisor), op: .add)
            #expect(try await owner.sync().allSatisfy { $0.status == .accepted })
            let statesBefore = gainer.receivedStates.count
            for laptop in [gainer, replay] { try await laptop.pullAll() }
            #expect(gainer.gained.map(\.ref) == [RecordRef(entity: .case, record: world.strict)], "\(gainer.gained)")
            let states = gainer.receivedStates.dropFirst(statesBefore).map(\.id)
            #expect(!states.contains(fresh) && !states.contains(visit), "\(states)")
            #expect(states.contains(world.strict))
            #expect(gainer.received.contains { $0.record == fresh && $0.field == "title" })
            #expect(gainer.received.contains { $0.record == visit && $0.field == "body" })
            #expect(Set(gainer.gainedHistories.keys) == [RecordRef(entity: .case, record: world.strict)])
            #expect(try gainer.canonicalState() == replay.canonicalState(), "\(gainer.differences(from: replay))")
        }
    }

    /// A device that reads the log from the start in small pages, asking for gained states
    /// after its first page, meets every case first in the stream: none is a gain but the one
    /// whose access fell to a stub after earlier pages had handed it out whole (a stub's state).
    @Test(arguments: StoreKind.available)
    func aReplayInSmallPagesGainsOnlyWhatItHadBeforeThePage(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let (world, gainer, replay) = try await Self.colleagueDevices(server, client)
            try await gainer.pullAll(limit: 3)
            try await replay.pullAll()
            let raised = RecordRef(entity: .case, record: world.raised)
            #expect(Set(gainer.gained.map(\.ref)).isSubset(of: [raised]), "\(gainer.gained)")
            #expect(Set(gainer.receivedStates.map(\.id)).isSubset(of: [world.raised]))
            #expect(try gainer.canonicalState() == replay.canonicalState(), "\(gainer.differences(from: replay))")
            try await gainer.downloadHistory()
            #expect(Set((gainer.history + gainer.received).map(\.id)) == Set(replay.received.map(\.id)))
        }
    }

    @Test(arguments: StoreKind.available)
    func aGainedStubCarriesOnlyAStubsFields(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in try await Self.checkGainedStub(server, client) }
    }

    static func checkGainedStub(_ server: TestServer, _ client: APIClient) async throws {
        let gain = try await Self.gain(server, client) { $0.outsider }
        let (world, replay) = (gain.world, gain.replay)
        for gainer in gain.gainers {
            #expect(gainer.gained.map(\.ref) == [RecordRef(entity: .case, record: world.raised)])
            let stub = try #require(gainer.receivedStates.first { $0.id == world.raised })
            #expect(
                stub.heads.keys.allSatisfy { $0.isTombstone || AccessPolicy.caseStubFields.contains($0.field) })
            #expect(gainer.events(of: world.raised).isEmpty)
            #expect(try gainer.canonicalState() == replay.canonicalState(), "\(gainer.differences(from: replay))")
            try await gainer.downloadHistory()
            for change in gainer.history {
                #expect(change.field.map(AccessPolicy.caseStubFields.contains) ?? true, "\(change.field ?? "")")
            }
            #expect(!BootstrapTests.received(BootstrapTests.stubHiddenSummary, by: gainer))
            #expect(Set((gainer.history + gainer.received).map(\.id)) == Set(replay.received.map(\.id)))
        }
    }

    /// The device's advisor moves program, so every case is compared again (a full
    /// reconciliation, in chunks): the cases of the new program arrive as states, those of the
    /// old one are purged and come back as stubs' states, in the same page; the replica is the
    /// replay's and the history completes to the replay's changes.
    @Test(arguments: StoreKind.available)
    func anAdvisorWhoMovesProgramGetsTheNewProgramsCasesAsStates(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in try await Self.checkMovedProgram(server, client) }
    }

    static func checkMovedProgram(_ server: TestServer, _ client: APIClient) async throws {
        let world = try await BootstrapTests.world(server, client)
        let gainer = try await server.secondDevice(of: world.colleague, client: client)
        let replay = try await server.secondDevice(of: world.colleague, client: client)
        gainer.takesGainedStates = true
        for laptop in [gainer, replay] { try await laptop.pullAll() }
        #expect(gainer.record(.case, world.confidential)?.value("title") != .null)
        try await AccessTests.moveAdvisor(world.colleague.advisor, to: "matching-planner", in: server.store)
        for laptop in [gainer, replay] { try await laptop.pullAll() }
        // The confidential case of the old program: purged, then its stub as a state.
        #expect(gainer.purged.contains(RecordRef(entity: .case, record: world.confidential)))
        let stub = try #require(gainer.receivedStates.last { $0.id == world.confidential })
        #expect(stub.heads.keys.allSatisfy { $0.isTombstone || AccessPolicy.caseStubFields.contains($0.field) })
        #expect(gainer.events(of: world.confidential).isEmpty)
        // The new program's confidential case, whole.
        let gainedCases = Set(gainer.gained.filter { $0.entity == .case }.map(\.record))
        let newProgram = gainer.records.values.filter {
            $0.entity == .case && $0.value("program") == .string("matching-planner")
        }
        #expect(!newProgram.isEmpty && newProgram.allSatisfy { gainedCases.contains($0.id) })
        #expect(newProgram.allSatisfy { $0.value("title") != .null })
        #expect(try gainer.canonicalState() == replay.canonicalState(), "\(gainer.differences(from: replay))")
        try await gainer.downloadHistory(limit: 7)
        #expect(Set((gainer.history + gainer.received).map(\.id)) == Set(replay.received.map(\.id)))
    }

    /// A client of the previous protocol (no `states` on stream pulls) is back-filled with the
    /// gained case's history as changes, exactly as before: no `gained`, no `states` — from a log
    /// whose rows keep their JSON and from one whose rows keep only their binary coding
    /// (`LogFormat`): each change in the same JSON text.
    @Test(arguments: StoreKind.available, [LogFormat.json, .binary])
    func aClientThatDoesNotAskForGainedStatesIsBackFilledWithChanges(kind: StoreKind, format: LogFormat) async throws {
        let server = try await TestServer.make(kind, format: format)
        try await server.run { client in try await Self.checkOlderClient(server, client) }
    }

    static func checkOlderClient(_ server: TestServer, _ client: APIClient) async throws {
        let world = try await BootstrapTests.world(server, client)
        let reader = try await server.secondDevice(of: world.colleague, client: client)
        try await reader.pullAll()
        world.owner.write(.case, world.strict, "participants", .string(world.colleague.advisor), op: .add)
        try await world.owner.sync()
        let response = try await client.pull(after: reader.cursor, limit: 5000, token: reader.token)
        let object = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
        #expect(object["gained"] == nil && object["states"] == nil && object["history"] == nil)
        let page = try response.decode(PullResponse.self)
        // Each change is the text a row keeping its JSON holds (sorted keys), spliced as it is.
        let text = String(decoding: response.body, as: UTF8.self)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for change in page.changes {
            #expect(text.contains(String(decoding: try encoder.encode(change), as: UTF8.self)), "\(change.id)")
        }
        #expect(page.changes.contains { $0.record == world.strict && $0.field == "title" })
        #expect(page.changes.contains { $0.entity == .event && $0.value == .string(BootstrapTests.hiddenBody) })
        let features = response.headers[HTTPField.Name(WireProtocol.featuresHeader)!] ?? ""
        #expect(features.contains(WireProtocol.gainedStatesFeature))
    }

    /// Two ways a page's decisions could drop history that an attacker's review of a withdrawn
    /// change (back-fill cut into pages, session 17) found, checked on the one-page back-fill: an
    /// event moved out of a case that the device gains in the same rows, into a case it already
    /// reads (the event's history is filed under its new case, so the gained case's back-fill no
    /// longer holds it); and a case lowered to a stub and purged, then raised again before the
    /// next pull. Each device — one taking states, one of the previous protocol — ends with the
    /// replica of a device of the same advisor that replays the log from the start.
    @Test(arguments: StoreKind.available)
    func anEventMovedOutOfAGainedCaseAndACaseLostAndRegainedKeepTheirHistory(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let (world, gainer, older) = try await Self.colleagueDevices(server, client)
            for laptop in [gainer, older] { try await laptop.pullAll() }
            // In one push: the colleague joins the strict case, and its own visit moves out into
            // the confidential case the colleague reads already.
            let event = try #require(
                world.owner.events(of: world.strict).first { $0.value("body") == .string(BootstrapTests.hiddenBody) })
            world.owner.write(.case, world.strict, "participants", .string(world.colleague.advisor), op: .add)
            world.owner.write(.event, event.id, "case", .string(world.confidential))
            #expect(try await world.owner.sync().allSatisfy { $0.status == .accepted })
            for laptop in [gainer, older] { try await laptop.pullAll() }
            #expect(older.record(.event, event.id)?.value("body") == .string(BootstrapTests.hiddenBody))
            // The confidential case to the other program (a stub for the colleague), pulled, and
            // back to the colleague's program.
            world.owner.write(.case, world.confidential, "program", .string("matching-planner"))
            #expect(try await world.owner.sync().allSatisfy { $0.status == .accepted })
            for laptop in [gainer, older] { try await laptop.pullAll() }
            #expect(older.events(of: world.confidential).isEmpty && gainer.events(of: world.confidential).isEmpty)
            world.owner.write(.case, world.confidential, "program", .string("business-production"))
            #expect(try await world.owner.sync().allSatisfy { $0.status == .accepted })
            for laptop in [gainer, older] { try await laptop.pullAll() }

            let fresh = try await server.secondDevice(of: world.colleague, client: client)
            try await fresh.pullAll()
            #expect(fresh.record(.event, event.id)?.value("case") == .string(world.confidential))
            #expect(try older.canonicalState() == fresh.canonicalState(), "\(older.differences(from: fresh))")
            #expect(try gainer.canonicalState() == fresh.canonicalState(), "\(gainer.differences(from: fresh))")
            try await gainer.downloadHistory(limit: 5)
            #expect(Set(older.received.map(\.id)).isSuperset(of: fresh.received.map(\.id)))
            #expect(Set((gainer.history + gainer.received).map(\.id)).isSuperset(of: fresh.received.map(\.id)))
        }
    }

    /// Scoped history cursors an insider forges or replays: another device's, another case's,
    /// one beyond the head, one kept after access was lost. History is filtered by what the
    /// device may see at the time of the request, and never goes past the cursor's `upTo`. A
    /// purge after the gain takes everything the gain handed out.
    @Test(arguments: StoreKind.available)
    func forgedScopedHistoryCursorsShowNothingTheDeviceMayNotSee(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in try await Self.checkForgedCursors(server, client) }
    }

    static func checkForgedCursors(_ server: TestServer, _ client: APIClient) async throws {
        let gain = try await Self.gain(server, client) { $0.colleague }
        let (world, gainer) = (gain.world, gain.gainers[0])
        let issued = try #require(gainer.gained.first { $0.record == world.strict }).history
        func history(_ cursor: String, _ laptop: Laptop) async throws -> HistoryResponse {
            let response = try await client.send(
                .get, "/v1/history?after=\(cursor)&limit=5000", token: laptop.token)
            try #require(response.status == .ok, "\(cursor): \(String(decoding: response.body, as: UTF8.self))")
            let text = String(decoding: response.body, as: UTF8.self)
            if laptop !== gainer {
                #expect(!text.contains(BootstrapTests.hiddenTitle) && !text.contains(BootstrapTests.hiddenBody))
            }
            return try response.decode(HistoryResponse.self)
        }
        // The outsider replays the colleague's cursor and forges others: nothing hidden.
        let strictEvent = try #require(world.owner.events(of: world.strict).first)
        for forged in [
            issued, "h.0.999999.case.\(world.strict)", "h.0.999999.case.\(world.secret)",
            "h.0.999999.event.\(strictEvent.id)", "h.0.999999.event.\(gain.movedEvent)",
        ] {
            #expect(try await history(forged, world.outsider).changes.isEmpty, "\(forged)")
        }
        // A stub the outsider sees: a stub's fields only.
        for change in try await history("h.0.999999.case.\(world.confidential)", world.outsider).changes {
            #expect(change.entity == .case && (change.field.map(AccessPolicy.caseStubFields.contains) ?? true))
        }
        // The colleague's own cursor, stretched beyond the head, still gives only what it may
        // see: no event of the secret case.
        let stretched = try await history("h.0.999999.case.\(world.secret)", gainer)
        #expect(stretched.changes.isEmpty)
        // Nothing past the cursor's upTo: a change made after the gain is not in its history.
        let later = world.owner.write(.case, world.strict, "summary", .string("共同研究の条件を更新"))
        try await world.owner.sync()
        let replayed = try await history(issued, gainer)
        #expect(!replayed.changes.isEmpty && !replayed.changes.contains { $0.id == later.id })
        #expect(replayed.changes.allSatisfy { $0.record == world.strict || $0.entity == .event })
        // Access lost: the cursor, replayed, gives nothing, and the purge takes the gained
        // case and its events.
        world.owner.write(.case, world.strict, "participants", .string(world.colleague.advisor), op: .remove)
        try await world.owner.sync()
        #expect(try await history(issued, gainer).changes.isEmpty)
        try await gainer.pullAll()
        try await gain.replay.pullAll()
        #expect(gainer.purged.contains(RecordRef(entity: .case, record: world.strict)))
        #expect(gainer.record(.case, world.strict) == nil && gainer.events(of: world.strict).isEmpty)
        #expect(try gainer.canonicalState() == gain.replay.canonicalState())
        // Text that is not a scoped history cursor: 400 naming the field.
        for bad in [
            "h.0.5.widget.abc", "h.0.5.advisor.abc", "h.0.5.case.ABC", "h.0.5.case.", "h.0.5.case",
            "h.0.5.case.a.b", "h.5.2.case.abc",
        ] {
            let response = try await client.send(.get, "/v1/history?after=\(bad)", token: gainer.token)
            #expect(response.status == .badRequest && response.error?.field == "after", "\(bad)")
        }
    }
}
