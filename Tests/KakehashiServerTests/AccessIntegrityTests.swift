import Foundation
import KakehashiServer
import KakehashiShared
import Testing

/// The insider's attacks on who may see and change what (Docs/security.md, threat model): raw
/// pushes with real device tokens over real HTTP on loopback, against both stores.
@Suite struct AccessIntegrityTests {
    static let secretBody = "厳秘：試作ラインの歩留まりデータ（ＸＹＺ精工）"

    /// A case of `owner`'s program at `level` with one event; returns both ids.
    static func makeCase(
        by owner: Laptop, level: String, program: String = "business-production", title: String = "厳秘の試作案件"
    ) async throws -> (case: String, event: String) {
        let caseID = owner.create(
            .case,
            [
                "owner": .string(owner.advisor), "program": .string(program), "level": .string(level),
                "title": .string(title), "kind": .string("ip-business-matching"),
            ])
        let event = owner.create(
            .event,
            [
                "case": .string(caseID), "kind": .string("visit"), "date": .string("2026-10-01"),
                "body": .string(secretBody), "author": .string(owner.advisor),
            ])
        let results = try await owner.sync()
        try #require(results.allSatisfy { $0.status == .accepted }, "\(results)")
        return (caseID, event)
    }

    /// Pushes exactly `changes` and returns their results.
    static func push(_ laptop: Laptop, _ changes: [Change]) async throws -> [PushResult] {
        let response = try await laptop.client.push(changes, token: laptop.token)
        try #require(response.status == .ok, "push: \(String(decoding: response.body, as: UTF8.self))")
        return try response.decode(PushResponse.self).results
    }

    /// The laptop's queued changes, taken off the queue so the test pushes them itself.
    static func drain(_ laptop: Laptop, _ make: () -> Void) -> [Change] {
        let before = laptop.pending.count
        make()
        let made = Array(laptop.pending[before...])
        laptop.pending.removeLast(made.count)
        return made
    }

    // MARK: - 1. Taking an event out of a case

    @Test(arguments: StoreKind.available)
    func aBatchThatCreatesACaseCannotMoveSomeoneElsesEventIntoIt(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let attacker = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            let victim = try await Self.makeCase(by: owner, level: "strict")
            try await attacker.sync()

            // One request: a case of the attacker's own, then the victim's event moved into it.
            var changes: [Change] = []
            var mine = ""
            changes += Self.drain(attacker) {
                mine = attacker.create(
                    .case,
                    [
                        "owner": .string(attacker.advisor), "program": .string("matching-planner"),
                        "level": .string("secret"), "title": .string("自分の案件"), "kind": .string("other"),
                    ])
            }
            let move = attacker.write(.event, victim.event, "case", .string(mine))
            let edit = attacker.write(.event, victim.event, "body", .string("上書き"))
            changes += [move, edit]
            let results = try await Self.push(attacker, changes)
            let byID = Dictionary(uniqueKeysWithValues: results.map { ($0.id, $0) })
            #expect(byID[move.id]?.status == .rejected && byID[move.id]?.code == .forbidden)
            #expect(byID[move.id]?.reason == AccessPolicy.notVisible(victim.event))
            #expect(byID[edit.id]?.status == .rejected)
            #expect(results.filter { $0.status == .accepted }.count == changes.count - 2)

            // The event stays in its case, whole, and its owner still edits it.
            let event = try #require(try await server.store.record(.event, victim.event))
            #expect(event.value("case") == .string(victim.case))
            #expect(event.value("body") == .string(Self.secretBody))
            owner.write(.event, victim.event, "body", .string(Self.secretBody + "（追記）"))
            #expect(try await owner.sync().allSatisfy { $0.status == .accepted })

            attacker.pending.removeAll()
            try await attacker.pullAll()
            #expect(!attacker.received.contains { $0.record == victim.event })
            #expect(attacker.record(.event, victim.event)?.value("body") != .string(Self.secretBody))
        }
    }

    @Test(arguments: StoreKind.available)
    func anOpenCaseIsReadOnlyForOtherProgramsEvenForMovingItsEvents(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let reader = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            let open = try await Self.makeCase(by: owner, level: "open")
            let target = try await Self.makeCase(by: reader, level: "open", program: "matching-planner")
            try await reader.sync()
            #expect(reader.record(.event, open.event)?.value("body") == .string(Self.secretBody))

            let move = reader.write(.event, open.event, "case", .string(target.case))
            let results = try await reader.sync()
            #expect(results.first { $0.id == move.id }?.code == .forbidden)
            #expect(results.first { $0.id == move.id }?.reason?.contains("not change it") == true)
            #expect(try await server.store.record(.event, open.event)?.value("case") == .string(open.case))
        }
    }

    @Test(arguments: StoreKind.available)
    func aColleagueCannotHideTheOwnersEventByMovingItIntoTheirOwnCase(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let made = try await Self.makeCase(by: owner, level: "confidential")
            let hideout = try await Self.makeCase(by: colleague, level: "secret", title: "自分だけの案件")
            try await colleague.sync()
            let move = colleague.write(.event, made.event, "case", .string(hideout.case))
            let results = try await colleague.sync()
            #expect(results.first { $0.id == move.id }?.reason?.contains("only the event's author") == true)
            #expect(try await server.store.record(.event, made.event)?.value("case") == .string(made.case))

            // Their own note in the owner's case is theirs to move.
            let note = colleague.create(
                .event,
                [
                    "case": .string(made.case), "kind": .string("note"), "date": .string("2026-10-04"),
                    "body": .string("誤って登録したメモ"), "author": .string(colleague.advisor),
                ])
            #expect(try await colleague.sync().allSatisfy { $0.status == .accepted })
            colleague.write(.event, note, "case", .string(hideout.case))
            #expect(try await colleague.sync().allSatisfy { $0.status == .accepted })

            // An owner hands a case only to an advisor who exists and is active.
            var generator = SystemRandomNumberGenerator()
            let nobody = RecordID.uuidV7(unixMillis: Laptop.now(), using: &generator)
            owner.write(.case, made.case, "owner", .string(nobody))
            #expect(try await owner.sync().first?.reason == "owner must be an active advisor")
        }
    }

    @Test(arguments: StoreKind.available)
    func creationReplayAndDeleteTricksAreRefused(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let made = try await Self.makeCase(by: owner, level: "confidential")
            try await colleague.sync()

            // A new case cannot be handed to someone else while it is being created.
            let planted = Self.drain(colleague) {
                let id = colleague.create(.case, ["title": .string("押し付け案件"), "kind": .string("other")])
                colleague.write(.case, id, "owner", .string(colleague.advisor))
                colleague.write(.case, id, "owner", .string(owner.advisor))
            }
            let plantedResults = try await Self.push(colleague, planted)
            #expect(plantedResults.last?.reason == "a new case's owner is the advisor who creates it")

            // A change to a case id the log does not hold creates nothing (no headless case that
            // nobody controls, no claim on an id learned elsewhere, e.g. a case a restore lost):
            // a case comes into being only by a first change naming its creator as owner.
            var ids = SystemRandomNumberGenerator()
            let unknown = RecordID.uuidV7(unixMillis: Laptop.now(), using: &ids)
            let headless = Self.drain(colleague) {
                colleague.write(.case, unknown, "summary", .string("見出しのない案件"))
                colleague.write(.case, unknown, "level", .string("open"))
            }
            let headlessResults = try await Self.push(colleague, headless)
            #expect(headlessResults.map(\.status) == [.rejected, .rejected])
            #expect(headlessResults.first?.reason == AccessPolicy.notVisible(unknown))
            #expect(try await server.store.record(.case, unknown) == nil)

            // A timestamp reused under a new change id merges to nothing: refused, not logged.
            let first = colleague.write(.case, made.case, "summary", .string("概要"))
            colleague.pending.removeAll()
            let replay = Change(
                id: ChangeID(device: colleague.device, counter: first.id.counter + 100), entity: .case,
                record: made.case, field: "summary", op: .set, value: .string("別の値"), hlc: first.hlc,
                prev: first.prev, author: colleague.advisor)
            let replayResults = try await Self.push(colleague, [first, replay])
            #expect(replayResults.map(\.status) == [.accepted, .rejected])
            #expect(replayResults.last?.reason?.contains("already used") == true)

            // An event's fields are judged by its case, which comes first: fields pushed before a
            // refused `case` are refused too, so no event is left without a case.
            var generator = SystemRandomNumberGenerator()
            let event = RecordID.uuidV7(unixMillis: Laptop.now(), using: &generator)
            let body = colleague.write(.event, event, "body", .string("先に本文"))
            let skewed = Change(
                id: ChangeID(device: colleague.device, counter: body.id.counter + 200), entity: .event, record: event,
                field: "case", op: .set, value: .string(made.case),
                hlc: HLC(millis: Laptop.now() + 3_600_000, counter: 0, device: colleague.device), prev: [],
                author: colleague.advisor)
            colleague.pending.removeAll()
            let orphanResults = try await Self.push(colleague, [skewed, body])
            #expect(orphanResults.map(\.status) == [.rejected, .rejected])
            #expect(try await server.store.record(.event, event) == nil)

            // Deleting is the owner's (an edit that never saw a delete still revives the case, as a
            // delete-versus-edit conflict the owner sees: Docs/data-model.md).
            let delete = colleague.write(.case, made.case, nil, .bool(true), op: .delete)
            #expect(try await colleague.sync().first { $0.id == delete.id }?.reason?.contains("only the owner") == true)
            #expect(try await server.store.record(.case, made.case)?.isDeleted == false)
        }
    }

    // MARK: - 2. A moved event is purged where it is lost and back-filled where it is gained

    @Test(arguments: StoreKind.available)
    func movingAnEventPurgesItWhereItIsLostAndBackFillsItWhereItIsGained(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let partner = try await server.advisor("高橋次郎", program: "coordinator", client: client)
            let shared = try await Self.makeCase(by: owner, level: "confidential")
            let strict = try await Self.makeCase(by: owner, level: "strict", title: "別の厳秘案件")
            owner.write(.case, strict.case, "participants", .string(partner.advisor), op: .add)
            try await owner.sync()
            try await colleague.sync()
            try await partner.sync()
            #expect(colleague.record(.event, shared.event)?.value("body") == .string(Self.secretBody))
            #expect(partner.record(.event, shared.event) == nil)

            // Into a case the colleague cannot see, the partner can.
            owner.write(.event, shared.event, "case", .string(strict.case))
            owner.write(.event, shared.event, "body", .string("移動後の追記：" + Self.secretBody))
            try await owner.sync()
            try await colleague.sync()
            try await partner.sync()
            #expect(colleague.record(.event, shared.event) == nil)
            #expect(colleague.purged.contains(RecordRef(entity: .event, record: shared.event)))
            let gained = try #require(partner.record(.event, shared.event))
            #expect(gained.value("case") == .string(strict.case))
            #expect(gained.value("kind") == .string("visit"), "history older than the partner's cursor arrives too")
            #expect(gained.value("body") == .string("移動後の追記：" + Self.secretBody))
            let before = colleague.received.count
            owner.write(.event, shared.event, "body", .string("さらに追記"))
            try await owner.sync()
            try await colleague.sync()
            #expect(!colleague.received[before...].contains { $0.record == shared.event })

            // And back: the colleague regains it with its whole history, the partner loses it.
            owner.write(.event, shared.event, "case", .string(shared.case))
            try await owner.sync()
            try await colleague.sync()
            try await partner.sync()
            #expect(colleague.record(.event, shared.event)?.value("body") == .string("さらに追記"))
            #expect(colleague.record(.event, shared.event)?.value("date") == .string("2026-10-01"))
            #expect(partner.record(.event, shared.event) == nil)
        }
    }

    // MARK: - 3. Who may change what

    enum Role: String, CaseIterable, CustomTestStringConvertible {
        case owner, participant, colleague, otherProgram
        var testDescription: String { rawValue }
    }

    /// Each role's push of each kind of change to an `open` case: accepted exactly as the rule
    /// table of Docs/security.md says.
    @Test(arguments: StoreKind.available, Role.allCases)
    func onlyTheOwnerControlsAccessAndOtherProgramsOnlyRead(kind: StoreKind, role: Role) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let participant = try await server.advisor("高橋次郎", program: "coordinator", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let other = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            let third = try await server.advisor("田中三郎", program: "ip-advisor", client: client)
            let made = try await Self.makeCase(by: owner, level: "open")
            owner.write(.case, made.case, "participants", .string(participant.advisor), op: .add)
            try await owner.sync()
            let actor: Laptop =
                switch role {
                case .owner: owner
                case .participant: participant
                case .colleague: colleague
                case .otherProgram: other
                }
            try await actor.sync()

            func attempt(_ label: String, _ write: (Laptop) -> Void) async throws -> Bool {
                let changes = Self.drain(actor) { write(actor) }
                let results = try await Self.push(actor, changes)
                actor.pending.removeAll()
                try await actor.pullAll()
                let refused = results.filter { $0.status == .rejected }
                for result in refused { #expect(result.code == .forbidden, "\(label): \(result)") }
                return refused.isEmpty
            }
            let isOwner = role == .owner
            let writes = role != .otherProgram
            let refers = role == .owner || role == .participant
            #expect(try await attempt("title") { $0.write(.case, made.case, "title", .string("改題")) } == writes)
            #expect(try await attempt("stage") { $0.write(.case, made.case, "stage", .string("contract")) } == writes)
            #expect(
                try await attempt("event") {
                    _ = $0.create(
                        .event,
                        [
                            "case": .string(made.case), "kind": .string("meeting"), "date": .string("2026-10-02"),
                            "body": .string("打合せ"), "author": .string($0.advisor),
                        ])
                } == writes)
            #expect(
                try await attempt("refer") {
                    _ = $0.create(
                        .event,
                        [
                            "case": .string(made.case), "kind": .string("referral"), "date": .string("2026-10-03"),
                            "body": .string("知財の観点で支援を依頼"), "author": .string($0.advisor),
                            "referred_to": .string(third.advisor),
                        ])
                    $0.write(.case, made.case, "participants", .string(third.advisor), op: .add)
                } == refers)
            #expect(
                try await attempt("share") {
                    $0.write(.case, made.case, "participants", .string(colleague.advisor), op: .add)
                } == isOwner)
            #expect(
                try await attempt("unshare") {
                    $0.write(.case, made.case, "participants", .string(participant.advisor), op: .remove)
                } == isOwner)
            #expect(
                try await attempt("program") { $0.write(.case, made.case, "program", .string("coordinator")) }
                    == isOwner)
            #expect(try await attempt("owner") { $0.write(.case, made.case, "owner", .string($0.advisor)) } == isOwner)
            #expect(try await attempt("level") { $0.write(.case, made.case, "level", .string("secret")) } == isOwner)

            let state = try #require(try await server.store.record(.case, made.case))
            #expect(state.value("level") == .string(isOwner ? "secret" : "open"))
            #expect(state.value("owner") == .string(owner.advisor))
        }
    }

    @Test(arguments: StoreKind.available)
    func aColleagueCannotLowerAConfidentialCaseAndAnAdminReassignsALeaversCases(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let made = try await Self.makeCase(by: owner, level: "confidential")
            try await colleague.sync()
            let lower = colleague.write(.case, made.case, "level", .string("open"))
            let results = try await colleague.sync()
            #expect(results.first { $0.id == lower.id }?.code == .forbidden)
            #expect(results.first { $0.id == lower.id }?.reason?.contains("only the owner") == true)

            try await server.admin.deactivateAdvisor(owner.advisor)
            await #expect(throws: KakehashiError.self) {
                try await server.admin.reassignCase(made.case, to: owner.advisor)
            }
            try await server.admin.reassignCase(made.case, to: colleague.advisor)
            try await colleague.pullAll()
            #expect(colleague.record(.case, made.case)?.value("owner") == .string(colleague.advisor))
            colleague.write(.case, made.case, "level", .string("strict"))
            #expect(try await colleague.sync().allSatisfy { $0.status == .accepted })
        }
    }

    /// A push is decided change by change against the case as the changes before it in the same
    /// request left it: a refused hand-over grants nothing to the changes after it, and an
    /// accepted one takes control away from the sender for the rest of the request.
    @Test(arguments: StoreKind.available)
    func anAccessChangeEarlierInARequestDecidesTheChangesAfterIt(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let made = try await Self.makeCase(by: owner, level: "open")
            try await colleague.sync()
            let onlyTheOwner =
                "only the owner of case \(made.case) may change its level, program, owner or participants, or delete it"
            func expectOnlyTheOwner(_ refused: [Change], in results: [PushResult]) {
                for change in refused {
                    let result = results.first { $0.id == change.id }
                    #expect(result?.status == .rejected && result?.code == .forbidden, "\(String(describing: result))")
                    #expect(result?.reason == onlyTheOwner)
                }
            }

            // The colleague claims the case, then uses the claim, in one request.
            let claim = colleague.write(.case, made.case, "owner", .string(colleague.advisor))
            let close = colleague.write(.case, made.case, "level", .string("secret"))
            let share = colleague.write(.case, made.case, "participants", .string(colleague.advisor), op: .add)
            let retitle = colleague.write(.case, made.case, "title", .string("同僚の改題"))
            var results = try await colleague.sync()
            #expect(results.map(\.id) == [claim.id, close.id, share.id, retitle.id])
            expectOnlyTheOwner([claim, close, share], in: results)
            #expect(results.first { $0.id == retitle.id }?.status == .accepted)
            var state = try #require(try await server.store.record(.case, made.case))
            #expect(state.value("owner") == .string(owner.advisor))
            #expect(state.value("level") == .string("open"))
            #expect(state.elements("participants").isEmpty)

            // The owner hands the case over, then tries to keep control of it, in one request.
            try await owner.sync()
            let handOver = owner.write(.case, made.case, "owner", .string(colleague.advisor))
            let lock = owner.write(.case, made.case, "level", .string("secret"))
            let stay = owner.write(.case, made.case, "participants", .string(owner.advisor), op: .add)
            let note = owner.write(.case, made.case, "summary", .string("引き継ぎ済み"))
            results = try await owner.sync()
            #expect(results.first { $0.id == handOver.id }?.status == .accepted)
            expectOnlyTheOwner([lock, stay], in: results)
            #expect(results.first { $0.id == note.id }?.status == .accepted)
            state = try #require(try await server.store.record(.case, made.case))
            #expect(state.value("owner") == .string(colleague.advisor))
            #expect(state.value("level") == .string("open"))
            #expect(state.elements("participants").isEmpty)
            #expect(state.value("summary") == .string("引き継ぎ済み"))

            // The new owner controls it.
            try await colleague.sync()
            colleague.write(.case, made.case, "level", .string("secret"))
            #expect(try await colleague.sync().allSatisfy { $0.status == .accepted })
        }
    }

    // MARK: - 5. Credit

    @Test(arguments: StoreKind.available)
    func authorsAndReferralsCannotBeForged(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let mext = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            let leaver = try await server.advisor("田中三郎", program: "coordinator", client: client)
            try await server.admin.deactivateAdvisor(leaver.advisor)
            let made = try await Self.makeCase(by: owner, level: "open")

            func event(_ values: [String: FieldValue]) -> [Change] {
                Self.drain(owner) {
                    var all: [String: FieldValue] = [
                        "case": .string(made.case), "date": .string("2026-10-05"), "body": .string("面談"),
                    ]
                    all.merge(values) { _, new in new }
                    _ = owner.create(.event, all)
                }
            }
            func refused(_ changes: [Change], field: String) async throws -> String? {
                let results = try await Self.push(owner, changes)
                owner.pending.removeAll()
                let index = try #require(changes.firstIndex { $0.field == field })
                return results[index].status == .rejected ? results[index].reason : nil
            }
            // A matching credited to a MEXT advisor.
            let forgedAuthor = try await refused(
                event(["kind": .string("matching"), "author": .string(mext.advisor)]), field: "author")
            #expect(forgedAuthor?.contains("author") == true)
            // Referrals to one's own program, to a deactivated advisor: not between programs.
            let ownProgram = try await refused(
                event([
                    "kind": .string("referral"), "author": .string(owner.advisor),
                    "referred_to": .string(colleague.advisor),
                ]), field: "referred_to")
            #expect(ownProgram?.contains("another program") == true)
            let inactive = try await refused(
                event([
                    "kind": .string("referral"), "author": .string(owner.advisor),
                    "referred_to": .string(leaver.advisor),
                ]), field: "referred_to")
            #expect(inactive?.contains("active advisor") == true)
            // A real referral, then an attempt to re-credit it.
            let real = event([
                "kind": .string("referral"), "author": .string(owner.advisor), "referred_to": .string(mext.advisor),
            ])
            #expect(try await Self.push(owner, real).allSatisfy { $0.status == .accepted })
            owner.pending.removeAll()
            try await owner.pullAll()
            let eventID = real[0].record
            let retarget = owner.write(.event, eventID, "author", .string(colleague.advisor))
            #expect(try await Self.push(owner, [retarget]).first?.status == .rejected)
            owner.pending.removeAll()

            // A colleague with content rights cannot undo or redate the referral.
            try await colleague.pullAll()
            let undo = [
                colleague.write(.event, eventID, "kind", .string("note")),
                colleague.write(.event, eventID, "date", .string("2025-04-01")),
                colleague.write(.event, eventID, nil, .bool(true), op: .delete),
            ]
            colleague.pending.removeAll()
            for result in try await Self.push(colleague, undo) {
                #expect(result.reason?.contains("only the referral's author") == true, "\(result)")
            }

            let state = try #require(try await server.store.record(.event, eventID))
            #expect(EventCredit.author(of: state) == owner.advisor)
            #expect(EventCredit.referredTo(of: state) == mext.advisor)
            #expect(state.value("kind") == .string("referral") && !state.isDeleted)
        }
    }

    @Test func creditIsTakenOnlyFromWhatTheLogVouchesFor() throws {
        let device = try #require(DeviceID("d-0000000000000001"))
        let writer = "01900000-0000-7000-8000-000000000001"
        let other = "01900000-0000-7000-8000-000000000002"
        let third = "01900000-0000-7000-8000-000000000003"
        var maker = ChangeMaker(clock: HybridClock(device: device), author: writer)
        var state = RecordState(entity: .event, id: "01900000-0000-7000-8000-0000000000e1")
        func write(_ field: String, _ value: String, at millis: Int64) {
            state.apply(
                maker.make(
                    .set, entity: .event, record: state.id, field: field, value: .string(value), state: state,
                    wallMillis: millis))
        }
        // Data written before the server checked credit: an author field naming someone else.
        write("author", other, at: 1_000)
        write("referred_to", third, at: 1_001)
        #expect(EventCredit.author(of: state) == nil)
        #expect(EventCredit.referredTo(of: state) == nil, "a referral counts only with a verified author")
        write("author", writer, at: 2_000)
        #expect(EventCredit.author(of: state) == writer)
        #expect(EventCredit.referredTo(of: state) == third)
        // A referral target written by someone other than the event's author is not credited.
        maker = ChangeMaker(clock: HybridClock(device: device), author: other)
        write("referred_to", other, at: 3_000)
        #expect(EventCredit.referredTo(of: state) == nil)
    }

    // MARK: - 7. Bloat

    @Test(arguments: StoreKind.available)
    func oneDeviceCannotBloatASharedRecord(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let advisor = try await server.advisor("山田太郎", program: "business-production", client: client)
            let other = try await server.advisor("佐藤花子", program: "matching-planner", client: client)
            let seed = advisor.create(.seed, ["title": .string("研磨ロボットの力制御"), "kind": .string("patent")])
            try await advisor.sync()

            // 180,000 made-up timestamps in `prev`: the whole request is refused, naming prev.
            let base = advisor.write(.seed, seed, "description", .string("説明"))
            advisor.pending.removeAll()
            let fake = (0..<180_000).map { HLC(millis: 1_000 + Int64($0), counter: 0, device: advisor.device) }
            let bloated = Change(
                id: ChangeID(device: advisor.device, counter: base.id.counter + 1), entity: .seed, record: seed,
                field: "description", op: .set, value: .string("説明"), hlc: base.hlc, prev: fake,
                author: advisor.advisor)
            let response = try await advisor.client.push([bloated], token: advisor.token)
            #expect(response.status == .unprocessableContent)
            #expect(response.error?.field == "prev")
            #expect(try await server.store.record(.seed, seed)?.value("description") == .null)

            // Set fields are bounded.
            let tags = Self.drain(advisor) {
                for index in 0...RecordLimits.maxSetElements {
                    advisor.write(.seed, seed, "patent_numbers", .string("特許第\(7_000_000 + index)号"), op: .add)
                }
            }
            advisor.pending.removeAll()
            let tagResults = try await Self.push(advisor, tags)
            #expect(tagResults.dropLast().allSatisfy { $0.status == .accepted })
            #expect(tagResults.last?.code == .invalid)
            #expect(tagResults.last?.reason?.contains("at most \(RecordLimits.maxSetElements)") == true)

            // A flood of writes that claim to have seen nothing, so that each stays as a concurrent
            // value: one register holds at most `maxHeads` of them…
            let filler = String(repeating: "研磨条件の記録。", count: 480)
            let concurrent = (0...RecordLimits.maxHeads).map { _ in
                advisor.maker.make(
                    .set, entity: .seed, record: seed, field: "description", value: .string(filler), state: nil,
                    wallMillis: Laptop.now())
            }
            let concurrentResults = try await Self.push(advisor, concurrent)
            #expect(concurrentResults.dropLast().allSatisfy { $0.status == .accepted })
            #expect(concurrentResults.last?.reason?.contains("concurrent values") == true)
            // …and the record as a whole stops at its size limit.
            var refusedFlood = false
            for _ in 0..<4 where !refusedFlood {
                let flood = (0..<RecordLimits.maxSetElements).map { index in
                    advisor.maker.make(
                        .add, entity: .seed, record: seed, field: "tags",
                        value: .string("タグ\(index)" + String(repeating: "長", count: 40)), state: nil,
                        wallMillis: Laptop.now())
                }
                let results = try await Self.push(advisor, flood)
                refusedFlood = results.contains { $0.code == .invalid && $0.reason?.contains("size limit") == true }
            }
            #expect(refusedFlood)
            let state = try #require(try await server.store.record(.seed, seed))
            #expect(state.estimatedBytes <= RecordLimits.maxStateBytes)
            let encoded = try JSONEncoder().encode(state)
            #expect(encoded.count <= RecordLimits.maxStateBytes, "stored state is \(encoded.count) bytes")
            let elsewhere = other.create(.need, ["title": .string("バリ取りを自動化したい")])
            #expect(try await other.sync().allSatisfy { $0.status == .accepted })
            #expect(try await server.store.record(.need, elsewhere) != nil)
        }
    }

    // MARK: - 8. One refusal for everything unseen

    @Test(arguments: StoreKind.available)
    func recordsAnAdvisorCannotSeeAllGetTheSameRefusal(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let attacker = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            let strict = try await Self.makeCase(by: owner, level: "strict")
            let secret = try await Self.makeCase(by: owner, level: "secret")
            try await attacker.sync()
            var generator = SystemRandomNumberGenerator()
            let missing = RecordID.uuidV7(unixMillis: Laptop.now(), using: &generator)

            let probes: [(id: String, change: Change)] = [
                (strict.case, attacker.write(.case, strict.case, "title", .string("x"))),
                (secret.case, attacker.write(.case, secret.case, "title", .string("x"))),
                (strict.case, attacker.write(.event, strict.case, "body", .string("x"))),
                (strict.event, attacker.write(.event, strict.event, "body", .string("x"))),
                (secret.event, attacker.write(.event, secret.event, "case", .string(strict.case))),
                (strict.event, attacker.write(.organization, strict.event, "name", .string("x"))),
                (secret.case, attacker.write(.seed, secret.case, "title", .string("x"))),
                (
                    missing,
                    attacker.write(
                        .event, RecordID.uuidV7(unixMillis: Laptop.now(), using: &generator), "case", .string(missing))
                ),
            ]
            let results = try await Self.push(attacker, probes.map(\.change))
            attacker.pending.removeAll()
            for (probe, result) in zip(probes, results) {
                #expect(result.status == .rejected && result.code == .forbidden, "\(probe.change)")
                #expect(result.reason == AccessPolicy.notVisible(probe.id), "\(result.reason ?? "")")
                for hidden in [strict.case, secret.case, strict.event, secret.event] where hidden != probe.id {
                    #expect(result.reason?.contains(hidden) != true)
                }
            }
            // A new id still creates a record.
            let fresh = attacker.create(.organization, ["name": .string("新規の会社"), "kind": .string("sme")])
            #expect(try await attacker.sync().allSatisfy { $0.status == .accepted })
            #expect(try await server.store.record(.organization, fresh) != nil)
        }
    }

    // MARK: - 9. A caught-up pull reads its token and its advisor with its page

    /// `GET /v1/pull` reads the device's token, its advisor's record and the page in one
    /// transaction (`SessionPullOperation`), the read a laptop at the head of the log repeats at
    /// every sync. Nothing about a device or its advisor may outlive the request: a laptop that
    /// kept pulling at the head, warm, is refused at its very next pull once it is revoked or its
    /// advisor leaves, with its real token over real HTTP, and a move to another program purges
    /// at the next pull; the other devices of the advisor go on until the advisor leaves.
    @Test(arguments: StoreKind.available)
    func aWarmCaughtUpPullSeesARevocationAMoveAndADeactivationAtOnce(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let mover = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let second = try await server.secondDevice(of: mover, client: client)
            second.binaryPages = true
            let made = try await Self.makeCase(by: owner, level: "confidential")
            for laptop in [mover, second] {
                try await laptop.sync()
                #expect(laptop.record(.event, made.event)?.value("body") == .string(Self.secretBody))
            }
            // At the head: the same caught-up request, again and again, as a laptop's syncs ask it.
            for _ in 0..<5 {
                for laptop in [mover, second] {
                    let caughtUp = try await client.pull(after: laptop.cursor, token: laptop.token)
                    #expect(caughtUp.status == .ok)
                    #expect(try caughtUp.decode(PullResponse.self).changes.isEmpty)
                }
            }

            // Moved to another program: the next pull purges the case and its event.
            try await AccessTests.moveAdvisor(mover.advisor, to: "matching-planner", in: server.store)
            try await second.sync()
            #expect(second.purged.contains(RecordRef(entity: .case, record: made.case)))
            #expect(second.record(.case, made.case)?.value("title") == .null)
            #expect(second.events(of: made.case).isEmpty)

            // Revoked: its very next pull is refused, whatever it asks; the advisor's other device goes on.
            try await server.admin.revoke(mover.device.rawValue)
            for query in ["after=\(mover.cursor)", "after=0", "after=0&states=1", "after=\(mover.cursor)&limit=0"] {
                let refused = try await client.send(.get, "/v1/pull?\(query)", token: mover.token)
                #expect(refused.status == .unauthorized && refused.error?.code == "revoked", "\(query)")
                #expect(!String(decoding: refused.body, as: UTF8.self).contains(Self.secretBody))
            }
            // A token one character off is nobody's.
            let forged = String(mover.token.dropLast()) + (mover.token.hasSuffix("A") ? "B" : "A")
            let unknown = try await client.pull(after: mover.cursor, token: forged)
            #expect(unknown.status == .unauthorized && unknown.error?.code == "unauthorized")
            let caughtUp = try await client.pull(after: second.cursor, token: second.token)
            #expect(caughtUp.status == .ok)
            // A malformed query is answered 400 only to a device that may sync.
            #expect(try await client.pull(after: "garbage", token: second.token).status == .badRequest)

            // The advisor leaves: the device not revoked is refused at its next pull.
            try await server.admin.deactivateAdvisor(mover.advisor)
            let left = try await client.pull(after: second.cursor, token: second.token)
            #expect(left.status == .unauthorized && left.error?.code == "revoked")
            let leftGarbage = try await client.pull(after: "garbage", token: second.token)
            #expect(leftGarbage.status == .unauthorized && leftGarbage.error?.code == "revoked")

            // The owner, untouched, still pulls.
            #expect(try await client.pull(after: owner.cursor, token: owner.token).status == .ok)
        }
    }
}
