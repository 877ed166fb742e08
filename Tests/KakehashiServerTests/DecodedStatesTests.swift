import Foundation
import KakehashiShared
import Testing

@testable import KakehashiServer

/// The cache of decoded case states (`StoreCoding.state`): a state is reused only while the store
/// holds the bytes it was decoded from.
@Suite struct DecodedStatesTests {
    static func caseState(id: String, title: String, level: String) -> RecordState {
        var maker = ChangeMaker(clock: HybridClock(device: DeviceID("cache-test")!), author: "admin")
        var state = RecordState(entity: .case, id: id)
        for (field, value) in [("title", title), ("level", level)] {
            let change = maker.make(
                .set, entity: .case, record: id, field: field, value: .string(value), state: state,
                wallMillis: serverWallMillis())
            _ = state.apply(change)
        }
        return state
    }

    @Test func aCaseWrittenAgainIsReadAsWrittenNotAsCached() throws {
        var generator = SystemRandomNumberGenerator()
        let id = RecordID.uuidV7(unixMillis: serverWallMillis(), using: &generator)
        let open = StoreCoding.pack(Self.caseState(id: id, title: "試作マッチング", level: "open"))
        let secret = StoreCoding.pack(Self.caseState(id: id, title: "試作マッチング", level: "secret"))
        #expect(try StoreCoding.state(open, entity: .case, id: id).value("level") == .string("open"))
        #expect(try StoreCoding.state(open, entity: .case, id: id).value("level") == .string("open"))
        // The same case, raised to 機密 by another process on the same database.
        #expect(try StoreCoding.state(secret, entity: .case, id: id).value("level") == .string("secret"))
        #expect(try StoreCoding.state(open, entity: .case, id: id).value("level") == .string("open"))
    }

    @Test func aFullCacheStartsOverAndStillAnswers() {
        let cache = DecodedStates(capacity: 2)
        let states = (0..<3).map { Self.caseState(id: "case-\($0)", title: "案件\($0)", level: "open") }
        for state in states { cache.keep(state, stored: StoreCoding.pack(state)) }
        #expect(cache.state(id: "case-0", stored: StoreCoding.pack(states[0])) == nil, "dropped when full")
        #expect(cache.state(id: "case-2", stored: StoreCoding.pack(states[2])) == states[2])
        #expect(cache.state(id: "case-2", stored: StoreCoding.pack(states[1])) == nil, "other bytes")
    }
}
