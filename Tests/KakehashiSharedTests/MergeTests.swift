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
    /// A case with every kind of register: a string, an integer, a set element, a flag, a null,
    /// a concurrent edit resolved by a later one, and a concurrent delete.
    static func sampleState() throws -> RecordState {
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
        return a.state
    }

    /// `sampleState()` as version 1 of the coding wrote it (names in full), kept in laptop and
    /// server stores written before version 2.
    static let sampleVersion1 =
        "0106084064656c65746564000101620202070001620502000161030001610400016105000161060001622430313932663163342d303030302d373030302d383030302d3030303030303030303061320a616d6f756e745f79656e000101610203c08db70102000161002430313932663163342d303030302d373030302d383030302d3030303030303030303061310e6c6963656e73655f7369676e656400010161040204000161002430313932663163342d303030302d373030302d383030302d3030303030303030303061310773756d6d61727900010161050005000161002430313932663163342d303030302d373030302d383030302d30303030303030303030613104746167730106e79fa5e8b2a1010161030203000161002430313932663163342d303030302d373030302d383030302d303030303030303030306131057469746c6500010161060409e7b5b1e59088e6a1880800016101060001622430313932663163342d303030302d373030302d383030302d30303030303030303030613106084064656c65746564000502000161030001610400016105000161060001620a616d6f756e745f79656e00000e6c6963656e73655f7369676e656400000773756d6d617279000004746167730106e79fa5e8b2a100057469746c6500020100016106000162"

    @Test func binaryFormRoundTripsEveryKindOfRegister() throws {
        let state = try Self.sampleState()
        let decoded = try RecordState(entity: .case, id: MergeTests.caseID, binary: state.binaryEncoded())
        #expect(decoded == state)
        #expect(decoded.binaryEncoded() == state.binaryEncoded())
        #expect(throws: KakehashiError.self) {
            try RecordState(entity: .case, id: MergeTests.caseID, binary: Array(state.binaryEncoded().dropLast(3)))
        }
    }

    @Test func aStateWrittenByVersion1StillReadsAndIsRewrittenSmaller() throws {
        let hex = Array(Self.sampleVersion1.utf8)
        let version1 = stride(from: 0, to: hex.count, by: 2).map {
            UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
        let state = try Self.sampleState()
        #expect(try RecordState(entity: .case, id: MergeTests.caseID, binary: version1) == state)
        #expect(state.binaryEncoded(version: 1) == version1, "what servers write for older processes")
        // Each device id and author once instead of up to three times a head (329 bytes against
        // 491 here, where the devices are named "a" and "b"; far less with real 36-character ids).
        #expect(state.binaryEncoded().count < version1.count)
    }

    @Test func aNameIndexOutsideTheTableIsDamagedData() {
        // Version 2, a table of one name ("a"), one register ("title", no element) with one head
        // whose device is name number 5.
        let bytes: [UInt8] = [2, 1, 1, 0x61, 1, 5, 0x74, 0x69, 0x74, 0x6C, 0x65, 0, 1, 5, 1]
        #expect(throws: KakehashiError.self) { try RecordState(entity: .case, id: MergeTests.caseID, binary: bytes) }
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
