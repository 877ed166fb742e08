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

    @Test(arguments: [LogFormat.json, .binary])
    func aCaseWrittenAgainIsReadAsWrittenNotAsCached(format: LogFormat) throws {
        var generator = SystemRandomNumberGenerator()
        let id = RecordID.uuidV7(unixMillis: serverWallMillis(), using: &generator)
        let open = StoreCoding.pack(Self.caseState(id: id, title: "試作マッチング", level: "open"), format: format)
        let secret = StoreCoding.pack(Self.caseState(id: id, title: "試作マッチング", level: "secret"), format: format)
        #expect(try StoreCoding.state(open, entity: .case, id: id).value("level") == .string("open"))
        #expect(try StoreCoding.state(open, entity: .case, id: id).value("level") == .string("open"))
        // The same case, raised to 機密 by another process on the same database.
        #expect(try StoreCoding.state(secret, entity: .case, id: id).value("level") == .string("secret"))
        #expect(try StoreCoding.state(open, entity: .case, id: id).value("level") == .string("open"))
    }

    @Test func aFullCacheStartsOverAndStillAnswers() {
        let states = (0..<40).map { Self.caseState(id: "case-\($0)", title: "案件\($0)", level: "open") }
        let stored = states.map { StoreCoding.pack($0, format: .json) }
        // Room for sixteen states of the largest size: forty do not fit.
        let cache = DecodedStates(byteLimit: 16 * (stored.map(\.count).max() ?? 0))
        for (state, bytes) in zip(states, stored) { cache.keep(state, stored: bytes) }
        #expect(cache.state(id: "case-0", stored: stored[0]) == nil, "dropped when full")
        #expect(cache.state(id: "case-39", stored: stored[39]) == states[39])
        #expect(cache.state(id: "case-39", stored: stored[38]) == nil, "other bytes")
    }

    @Test func aStateTooLargeForTheCacheIsNotKept() {
        let state = Self.caseState(id: "case-large", title: String(repeating: "大", count: 4_000), level: "open")
        let stored = StoreCoding.pack(state, format: .json)
        let cache = DecodedStates(byteLimit: stored.count * 8)
        cache.keep(state, stored: stored)
        #expect(cache.state(id: "case-large", stored: stored) == nil)
    }
}
