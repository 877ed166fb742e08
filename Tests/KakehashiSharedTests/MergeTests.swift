import KakehashiShared
import KakehashiTestSupport
import Testing

/// Hand-written merge scenarios: each is a situation a field advisor could meet.
@Suite struct MergeTests {
    static let caseID = "0192f1c4-0000-7000-8000-00000000000c"
    static let yamada = "0192f1c4-0000-7000-8000-0000000000a1"
    static let suzuki = "0192f1c4-0000-7000-8000-0000000000a2"

    @Test func sequentialEditsDoNotConflict() throws {
        var a = ReplicaLaptop("a", author: Self.yamada)
        var b = ReplicaLaptop("b", author: Self.suzuki)
        let first = a.write(.set, "title", .string("精密加工の試作"), at: 1_000)
        try b.receive([first])
        let second = b.write(.set, "title", .string("精密加工の試作（改）"), at: 900)  // b's clock is behind
        try a.receive([second])
        #expect(a.state.value("title") == .string("精密加工の試作（改）"))
        #expect(a.state.conflicts.isEmpty && b.state.conflicts.isEmpty)
    }

    @Test func concurrentEditsKeepTheLoserAsAConflictOnBothSides() throws {
        var a = ReplicaLaptop("a", author: Self.yamada)
        var b = ReplicaLaptop("b", author: Self.suzuki)
        let created = a.write(.set, "title", .string("案件"), at: 1_000)
        try b.receive([created])
        let fromA = a.write(.set, "stage", .string("matching"), at: 2_000)
        let fromB = b.write(.set, "stage", .string("prototyping"), at: 2_500)
        try a.receive([fromB])
        try b.receive([fromA])
        #expect(try a.replica.canonicalEncoding() == b.replica.canonicalEncoding())
        #expect(a.state.value("stage") == .string("prototyping"))
        let conflict = try #require(a.state.conflicts.first)
        #expect(conflict.loser.value == .string("matching") && conflict.loser.author == Self.yamada)
        #expect(conflict.winner.value == .string("prototyping") && conflict.winner.author == Self.suzuki)

        // Resolving writes one change that has seen both heads; it clears the conflict everywhere.
        let resolution = a.write(.set, "stage", .string("matching"), at: 3_000)
        #expect(resolution.prev.count == 2)
        try b.receive([resolution])
        #expect(a.state.conflicts.isEmpty && b.state.conflicts.isEmpty)
        #expect(b.state.value("stage") == .string("matching"))
    }

    @Test func equalConcurrentValuesAreNotAConflict() throws {
        var a = ReplicaLaptop("a", author: Self.yamada)
        var b = ReplicaLaptop("b", author: Self.suzuki)
        let fromA = a.write(.set, "stage", .string("contract"), at: 2_000)
        let fromB = b.write(.set, "stage", .string("contract"), at: 2_000)
        try a.receive([fromB])
        try b.receive([fromA])
        #expect(a.state.conflicts.isEmpty)
    }

    @Test func setAddAndRemoveRaceIsElementWise() throws {
        var a = ReplicaLaptop("a", author: Self.yamada)
        var b = ReplicaLaptop("b", author: Self.suzuki)
        let tag = a.write(.add, "tags", .string("知財"), at: 1_000)
        try b.receive([tag])
        let removed = a.write(.remove, "tags", .string("知財"), at: 2_000)
        let other = b.write(.add, "tags", .string("マッチング"), at: 2_100)
        try a.receive([other])
        try b.receive([removed])
        #expect(a.state.elements("tags") == ["マッチング"])
        #expect(try a.replica.canonicalEncoding() == b.replica.canonicalEncoding())
        #expect(a.state.conflicts.isEmpty)
    }

    @Test func deleteVersusConcurrentEditIsKeptAndALaterEditRevives() throws {
        var a = ReplicaLaptop("a", author: Self.yamada)
        var b = ReplicaLaptop("b", author: Self.suzuki)
        let created = a.write(.set, "title", .string("廃止予定の案件"), at: 1_000)
        try b.receive([created])
        let deletion = a.write(.delete, nil, .bool(true), at: 2_000)
        let edit = b.write(.set, "summary", .string("まだ続いている"), at: 1_500)
        try a.receive([edit])
        try b.receive([deletion])
        #expect(a.state.isDeleted && b.state.isDeleted)
        let conflict = try #require(a.state.conflicts.first)
        #expect(conflict.kind == .deleteVersusEdit && conflict.loser.value == .string("まだ続いている"))

        let revival = b.write(.set, "summary", .string("再開"), at: 5_000)
        try a.receive([revival])
        #expect(!a.state.isDeleted)
    }

    @Test func reapplyingAndReorderingChangesNothing() throws {
        var a = ReplicaLaptop("a", author: Self.yamada)
        let changes = [
            a.write(.set, "title", .string("一"), at: 1), a.write(.set, "title", .string("二"), at: 2),
            a.write(.set, "title", .string("三"), at: 3),
        ]
        var late = Replica()
        for change in [changes[2], changes[0], changes[1], changes[0], changes[2]] { late.apply(change) }
        var fresh = RecordState(entity: .case, id: Self.caseID)
        for change in changes.reversed() + changes { fresh.apply(change) }
        #expect(try late.canonicalEncoding() == a.replica.canonicalEncoding())
        #expect(fresh == a.state)
        #expect(fresh.conflicts.isEmpty)
    }

    @Test func changeValidationNamesTheProblem() throws {
        var a = ReplicaLaptop("a", author: Self.yamada)
        let good = a.write(.set, "title", .string("  件名  "), at: 1)
        #expect(try good.validated().value == .string("件名"))
        let wrongOp = Change(
            id: good.id, entity: .case, record: Self.caseID, field: "tags", op: .set, value: .string("x"),
            hlc: good.hlc, prev: [], author: Self.yamada)
        #expect((#expect(throws: KakehashiError.self) { try wrongOp.validated() })?.field == "tags")
        let future = Change(
            id: good.id, entity: .case, record: Self.caseID, field: "title", op: .set, value: .string("x"),
            hlc: good.hlc, prev: [HLC(millis: 99, counter: 0, device: good.hlc.device)], author: Self.yamada)
        #expect((#expect(throws: KakehashiError.self) { try future.validated() })?.field == "prev")
        let badID = Change(
            id: good.id, entity: .case, record: "not-a-uuid", field: "title", op: .set, value: .string("x"),
            hlc: good.hlc, prev: [], author: Self.yamada)
        #expect((#expect(throws: KakehashiError.self) { try badID.validated() })?.field == "record")
    }
}

@Suite struct RecordStateCodingTests {
    @Test func binaryFormRoundTripsEveryKindOfRegister() throws {
        var a = ReplicaLaptop("a", author: MergeTests.yamada)
        var b = ReplicaLaptop("b", author: MergeTests.suzuki)
        let changes = [
            a.write(.set, "title", .string("精密加工の試作"), at: 1), a.write(.set, "amount_yen", .integer(3_000_000), at: 2),
            a.write(.add, "tags", .string("知財"), at: 3), a.write(.set, "license_signed", .bool(true), at: 4),
            a.write(.set, "summary", .null, at: 5),
        ]
        try b.receive(changes)
        let concurrent = [b.write(.set, "title", .string("別案"), at: 6), b.write(.delete, nil, .bool(true), at: 7)]
        try a.receive(concurrent)
        try a.receive([a.write(.set, "title", .string("統合案"), at: 8)])
        let state = a.state
        let decoded = try RecordState(entity: .case, id: MergeTests.caseID, binary: state.binaryEncoded())
        #expect(decoded == state)
        #expect(decoded.binaryEncoded() == state.binaryEncoded())
        #expect(throws: KakehashiError.self) {
            try RecordState(entity: .case, id: MergeTests.caseID, binary: Array(state.binaryEncoded().dropLast(3)))
        }
    }
}

/// The laptops of these scenarios: named devices whose every write goes to the one case.
extension ReplicaLaptop {
    init(_ device: String, author: String) { self.init(device: DeviceID(device)!, author: author) }

    mutating func write(_ op: Change.Operation, _ field: String?, _ value: FieldValue, at millis: Int64) -> Change {
        write(op, .case, MergeTests.caseID, field: field, value, at: millis)
    }

    var state: RecordState { record(.case, MergeTests.caseID)! }
}
