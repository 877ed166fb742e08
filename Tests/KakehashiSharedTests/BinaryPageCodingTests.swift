import Foundation
import KakehashiShared
import Testing

/// `BinaryPage`: a page read back from its bytes is the page that was written, the same page JSON
/// carries; bytes that are not a whole page are refused with a message, never half-read.
@Suite struct BinaryPageCodingTests {
    static let devices = ["d-0123456789abcdef", "d-fedcba9876543210", "d-00000000000000aa"].compactMap(DeviceID.init)
    static let authors = ["0192f1c4-0000-7000-8000-000000000001", "0192f1c4-0000-7000-8000-000000000002"]
    static let texts = ["", "精密加工技術の試作マッチング", "line\nbreak \"quoted\" \\ back", "🌸 絵文字", "a"]

    static func change(_ generator: inout SplitMix64) -> Change {
        let device = devices.randomElement(using: &generator)!
        let op = Change.Operation.allCases.randomElement(using: &generator)!
        let value: FieldValue =
            switch (op, Int.random(in: 0..<4, using: &generator)) {
            case (.delete, _): .bool(Bool.random(using: &generator))
            case (.add, _), (.remove, _), (.set, 0): .string(texts.randomElement(using: &generator)!)
            case (.set, 1): .integer(Int64.random(in: Int64.min...Int64.max, using: &generator))
            case (.set, 2): .bool(Bool.random(using: &generator))
            default: .null
            }
        let prev = (0..<Int.random(in: 0..<4, using: &generator)).map { _ in
            HLC(
                millis: Int64.random(in: 0...2_000_000_000_000, using: &generator),
                counter: UInt32.random(in: 0...HLC.maxCounter, using: &generator),
                device: devices.randomElement(using: &generator)!)
        }
        return Change(
            id: ChangeID(device: device, counter: Int64.random(in: 1...Int64.max, using: &generator)),
            entity: Entity.allCases.randomElement(using: &generator)!, record: UUID().uuidString.lowercased(),
            field: op == .delete ? nil : ["title", "tags", "未来の項目"].randomElement(using: &generator)!, op: op,
            value: value,
            hlc: HLC(
                millis: Int64.random(in: 0...2_000_000_000_000, using: &generator),
                counter: UInt32.random(in: 0...HLC.maxCounter, using: &generator), device: device),
            prev: prev, author: authors.randomElement(using: &generator)!)
    }

    static func page(_ generator: inout SplitMix64) -> PullResponse {
        let changes = (0..<Int.random(in: 0..<30, using: &generator)).map { _ in change(&generator) }
        var states: [RecordState]?
        if Bool.random(using: &generator) {
            var state = RecordState(entity: .case, id: UUID().uuidString.lowercased())
            for change in changes.prefix(5) {
                state.apply(
                    Change(
                        id: change.id, entity: .case, record: state.id, field: change.field, op: change.op,
                        value: change.value, hlc: change.hlc, prev: change.prev, author: change.author))
            }
            states = [state, RecordState(entity: .event, id: "e")]
        }
        return PullResponse(
            changes: changes,
            purges: Bool.random(using: &generator) ? [] : [RecordRef(entity: .case, record: "0192-秘")],
            nextCursor: "\(Int.random(in: 0..<1_000, using: &generator)).2", hasMore: Bool.random(using: &generator),
            serverTime: Int64.random(in: 0...2_000_000_000_000, using: &generator),
            epoch: Bool.random(using: &generator) ? nil : "e-1234", states: states,
            history: Bool.random(using: &generator) ? nil : "h.0.99",
            // A stream page's gained records, named with their scoped history cursors.
            gained: states.flatMap { states in
                Bool.random(using: &generator)
                    ? nil
                    : states.map {
                        GainedHistory(
                            entity: $0.entity, record: $0.id, history: "h.0.42.\($0.entity.rawValue).\($0.id)")
                    }
            })
    }

    @Test func aPageReadsBackAsWrittenAndAsJSONCarriesIt() throws {
        var generator = SplitMix64(seed: 0x5EED)
        for _ in 0..<300 {
            let page = Self.page(&generator)
            let bytes = BinaryPage.encode(page)
            let read = try BinaryPage.pullResponse(from: bytes)
            #expect(read == page)
            let json = try JSONDecoder().decode(PullResponse.self, from: JSONEncoder().encode(page))
            #expect(read == json)
            #expect(read.states == page.states)
        }
        // A history page is the pull page's sections without purges or states.
        let history = HistoryResponse(
            changes: [Self.change(&generator)], nextCursor: "h.4.9", hasMore: true, serverTime: 1_763_700_000_000)
        #expect(try BinaryPage.historyResponse(from: BinaryPage.encode(history)) == history)
    }

    @Test func bytesThatAreNotAWholePageAreRefusedNamingThePage() throws {
        var generator = SplitMix64(seed: 7)
        var page = Self.page(&generator)
        while page.changes.isEmpty || page.stateBatch == nil { page = Self.page(&generator) }
        let bytes = BinaryPage.encode(page)
        // Every cut: a page is whole or refused; none reads as a shorter page.
        for length in 0..<bytes.count {
            #expect(throws: KakehashiError.self, "cut at \(length) of \(bytes.count)") {
                try BinaryPage.pullResponse(from: Array(bytes.prefix(length)))
            }
        }
        func refusal(_ bytes: [UInt8]) -> KakehashiError? {
            do {
                _ = try BinaryPage.pullResponse(from: bytes)
                return nil
            } catch {
                return error
            }
        }
        let notAPage = try #require(refusal(Array("{\"changes\":[]}".utf8)))
        #expect(notAPage.field == "page" && notAPage.message.contains("KKHP"))
        #expect(refusal(Array("KKHP".utf8) + [9])?.message.contains("version") == true)
        // A section twice.
        let envelope: [UInt8] = [1, 3, 0, 0, 0]
        #expect(refusal(Array("KKHP".utf8) + [1] + envelope + envelope + [0])?.message.contains("twice") == true)
        #expect(try BinaryPage.pullResponse(from: Array("KKHP".utf8) + [1] + envelope + [0]).nextCursor == "")
        // A page cut at a section's end is not a shorter page: the end mark is missing.
        #expect(refusal(Array("KKHP".utf8) + [1] + envelope)?.message.contains("cut short") == true)
        #expect(refusal(Array("KKHP".utf8) + [1] + envelope + [0, 0])?.message.contains("follow") == true)
        // Invalid UTF-8 in a cursor.
        #expect(refusal(Array("KKHP".utf8) + [1, 1, 4, 0, 1, 0xFF, 0, 0])?.message.contains("page section") == true)
        // A has-more byte that is neither 0 nor 1; bytes left over in a section.
        #expect(refusal(Array("KKHP".utf8) + [1, 1, 3, 0, 0, 7, 0]) != nil)
        #expect(refusal(Array("KKHP".utf8) + [1, 1, 4, 0, 0, 0, 0, 0])?.message.contains("left over") == true)
        // Without a page section there is no cursor to store.
        #expect(refusal(Array("KKHP".utf8) + [1, 0])?.message.contains("no page section") == true)
    }

    @Test func aSectionOfANewerServerIsSkipped() throws {
        let page = PullResponse(
            changes: [], purges: [], nextCursor: "12.0", hasMore: false, serverTime: 1_763_700_000_000, epoch: "e-1")
        let bytes = BinaryPage.encode(page)
        // Tag 99, four bytes, inserted after the header.
        let extended = Array(bytes.prefix(5)) + [99, 4, 1, 2, 3, 4] + Array(bytes.dropFirst(5))
        #expect(extended.last == 0)
        #expect(try BinaryPage.pullResponse(from: extended) == page)
    }
}
