import Foundation
import KakehashiShared
import Testing

/// What a release reads from a newer one without failing (Docs/protocol.md, "Versions and upgrades").
@Suite struct WireCompatibilityTests {
    @Test func aRejectionCodeOfANewerServerReadsAsInvalidWithTheCodeKept() throws {
        let body = """
            {"results": [{"id": "d-0123456789abcdef:7", "status": "rejected", "code": "quota-exceeded",
                          "reason": "too many cases"},
                         {"id": "d-0123456789abcdef:8", "status": "rejected", "code": "forbidden", "reason": "no"},
                         {"id": "d-0123456789abcdef:9", "status": "accepted"}],
             "serverTime": 1763700000000}
            """
        let results = try JSONDecoder().decode(PushResponse.self, from: Data(body.utf8)).results
        #expect(results[0].status == .rejected && results[0].code == .invalid)
        #expect(results[0].reason == "[quota-exceeded] too many cases")
        #expect(results[1].code == .forbidden && results[1].reason == "no")
        #expect(results[2].status == .accepted && results[2].code == nil && results[2].reason == nil)
        // And it encodes as before: no key for what is absent.
        let encoded = String(decoding: try JSONEncoder().encode(results[2]), as: UTF8.self)
        #expect(!encoded.contains("code") && !encoded.contains("reason"))
    }

    @Test func aChangeToAFieldThisSchemaLacksDecodesAndMergesByName() throws {
        let device = try #require(DeviceID("d-0123456789abcdef"))
        let author = "0192f1c4-0000-7000-8000-000000000001"
        let record = "0192f1c4-0000-7000-8000-0000000000aa"
        let first = Change(
            id: ChangeID(device: device, counter: 1), entity: .case, record: record, field: "next_release_field",
            op: .set, value: .string("値"), hlc: HLC(millis: 1_000, counter: 0, device: device), prev: [],
            author: author)
        let decoded = try JSONDecoder().decode(Change.self, from: JSONEncoder().encode(first))
        #expect(decoded == first)
        #expect(throws: KakehashiError.self) { try decoded.validated() }  // this schema does not know it
        let second = Change(
            id: ChangeID(device: device, counter: 2), entity: .case, record: record, field: "title", op: .set,
            value: .string("件名"), hlc: HLC(millis: 2_000, counter: 0, device: device), prev: [], author: author)
        var state = RecordState(entity: .case, id: record)
        state.apply(decoded)
        state.apply(second)
        #expect(state.value("next_release_field") == .string("値") && state.value("title") == .string("件名"))
        let restored = try RecordState(entity: .case, id: record, binary: state.binaryEncoded())
        #expect(restored == state)
    }
}
