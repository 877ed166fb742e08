import KakehashiShared
import KakehashiTestSupport
import Testing

/// `AccessPolicy.CaseFacts(binaryState:id:)`, which servers use for every access decision of a
/// pull, reads a case's access from its stored bytes without decoding the state: it must decide
/// exactly as the facts of the decoded state, in both versions of the coding. A bootstrap page
/// reads each event's case the same way (`RecordState.value(_:binaryState:entity:id:)`): the
/// value must be the decoded state's.
@Suite struct CaseFactsCodingTests {
    static let advisors = (1...4).map { "0192f1c4-0000-7000-8000-0000000000a\($0)" }
    static let levels = ["open", "confidential", "strict", "secret"]
    static let programs = ["business-production", "matching-planner", "ip-advisor"]

    /// Three laptops editing one case's access and other fields, exchanging changes now and then,
    /// so registers end with concurrent heads, removed participants and superseded writes.
    static func states(seed: UInt64) throws -> [RecordState] {
        var random = SplitMix64(seed: seed)
        var laptops = ["a", "b", "c"].enumerated().map { ReplicaLaptop($1, author: advisors[$0]) }
        var states: [RecordState] = []
        for step in 0..<120 {
            let who = Int(random.next() % 3)
            let millis = Int64(step + 1)
            let pick = { (options: [String]) in options[Int(random.next() % UInt64(options.count))] }
            switch random.next() % 9 {
            case 0: _ = laptops[who].write(.set, "level", .string(pick(levels)), at: millis)
            case 1: _ = laptops[who].write(.set, "owner", .string(pick(advisors)), at: millis)
            case 2: _ = laptops[who].write(.set, "program", .string(pick(programs)), at: millis)
            case 3: _ = laptops[who].write(.add, "participants", .string(pick(advisors)), at: millis)
            case 4: _ = laptops[who].write(.remove, "participants", .string(pick(advisors)), at: millis)
            case 5: _ = laptops[who].write(.set, "title", .string("試作マッチング案件\(step)"), at: millis)
            case 6: _ = laptops[who].write(.add, "tags", .string(pick(["精密加工", "知財", "ライセンス"])), at: millis)
            case 7: _ = laptops[who].write(.set, "amount_yen", .integer(Int64(step) * 10_000), at: millis)
            default:
                let other = (who + 1 + Int(random.next() % 2)) % 3
                try laptops[other].receive(laptops[who].log)
            }
            if step % 10 == 9 { states += laptops.compactMap { $0.record(.case, MergeTests.caseID) } }
        }
        return states
    }

    @Test(arguments: [1, 2, 3, 20_261_203] as [UInt64])
    func factsReadFromTheBytesAreTheDecodedStatesFacts(seed: UInt64) throws {
        let states = try Self.states(seed: seed)
        #expect(states.count > 20)
        var conflicts = 0
        for state in states {
            if state.heads.values.contains(where: { $0.count > 1 }) { conflicts += 1 }
            let expected = AccessPolicy.CaseFacts(state)
            for version in [1, 2] as [UInt8] {
                let bytes = state.binaryEncoded(version: version)
                #expect(
                    try AccessPolicy.CaseFacts(binaryState: bytes, id: MergeTests.caseID) == expected,
                    "version \(version)")
            }
        }
        #expect(conflicts > 0, "the states include concurrent heads")
    }

    @Test(arguments: [1, 2, 20_261_204] as [UInt64])
    func aValueReadFromTheBytesIsTheDecodedStatesValue(seed: UInt64) throws {
        // Scalars that conflict, set fields (no scalar value), a field never written.
        let fields = ["level", "owner", "program", "title", "amount_yen", "participants", "tags", "case"]
        var read = 0
        for state in try Self.states(seed: seed) {
            for version in [1, 2] as [UInt8] {
                let bytes = state.binaryEncoded(version: version)
                for field in fields {
                    let value = try RecordState.value(field, binaryState: bytes, entity: .case, id: MergeTests.caseID)
                    #expect(value == state.value(field), "\(field), version \(version)")
                    if value != .null { read += 1 }
                }
            }
        }
        #expect(read > 100, "most scalar fields hold values")
    }

    /// A version-1 state of one `level` register whose heads are `heads` (device, level, time),
    /// in that order.
    static func levelState(_ heads: [(device: String, level: String, millis: UInt8)]) -> [UInt8] {
        var bytes: [UInt8] = [1, 1]  // version 1, one register
        func string(_ text: String) {
            bytes.append(UInt8(text.utf8.count))
            bytes += Array(text.utf8)
        }
        string("level")
        bytes += [0, UInt8(heads.count)]  // no element, the heads
        for (device, level, millis) in heads {
            string(device)
            bytes.append(1)  // counter
            bytes.append(4)  // a string value
            string(level)
            bytes += [millis, 0]
            string(device)
            bytes.append(0)  // no prev
            string(advisors[0])
        }
        bytes.append(0)  // nothing superseded
        return bytes
    }

    /// Heads stored oldest first (not as the coding writes them) are put in order, as the full
    /// decoder does: the newest head's value wins, not the first one read. Heads that tie in
    /// time and counter (two devices' concurrent writes an insider forged to the same timestamp)
    /// are ordered by device, as the merge orders them, in whichever order they are stored.
    @Test(
        arguments: [
            [("a", "open", 1), ("b", "secret", 2)],
            [("b", "secret", 1), ("a", "open", 1)],
            [("a", "open", 1), ("b", "secret", 1)],
        ] as [[(device: String, level: String, millis: UInt8)]])
    func headsOutOfOrderOrTiedAreDecidedByTheNewest(heads: [(device: String, level: String, millis: UInt8)]) throws {
        let bytes = Self.levelState(heads)
        let decoded = try RecordState(entity: .case, id: MergeTests.caseID, binary: bytes)
        #expect(decoded.value("level") == .string("secret"))
        let facts = try AccessPolicy.CaseFacts(binaryState: bytes, id: MergeTests.caseID)
        #expect(facts.level == "secret")
        #expect(facts == AccessPolicy.CaseFacts(decoded))
        #expect(
            try RecordState.value("level", binaryState: bytes, entity: .case, id: MergeTests.caseID)
                == .string("secret"))
    }

    @Test func damagedBytesAreRefused() throws {
        let state = try #require(try Self.states(seed: 5).last)
        for version in [1, 2] as [UInt8] {
            let bytes = state.binaryEncoded(version: version)
            #expect(throws: KakehashiError.self) {
                try AccessPolicy.CaseFacts(binaryState: Array(bytes.prefix(bytes.count / 2)), id: MergeTests.caseID)
            }
            #expect(throws: KakehashiError.self) {
                try AccessPolicy.CaseFacts(binaryState: [9] + bytes.dropFirst(), id: MergeTests.caseID)
            }
            #expect(throws: KakehashiError.self) {
                try RecordState.value(
                    "title", binaryState: Array(bytes.prefix(bytes.count / 2)), entity: .case, id: MergeTests.caseID)
            }
        }
    }
}
