import Foundation
import KakehashiShared
import Testing

/// `BinaryPush`: a push body and its answer read back as written, the same as their JSON; bytes
/// that are not a whole body are refused naming the body, never half-read.
@Suite struct BinaryPushCodingTests {
    @Test func aPushAndItsAnswerReadBackAsWrittenAndAsJSONCarriesThem() throws {
        var generator = SplitMix64(seed: 13)
        for _ in 0..<200 {
            let changes = (0..<Int.random(in: 0..<40, using: &generator)).map { _ in
                BinaryPageCodingTests.change(&generator)
            }
            let request = PushRequest(changes: changes)
            let read = try BinaryPush.pushRequest(from: BinaryPush.encode(request))
            #expect(read == request)
            let json = try JSONDecoder().decode(PushRequest.self, from: JSONEncoder().encode(request))
            #expect(read == json)

            let statuses: [PushResult.Status] = [.accepted, .duplicate, .rejected]
            let results = changes.map { change in
                let status = statuses.randomElement(using: &generator)!
                return status == .rejected
                    ? PushResult(id: change.id, status: status, code: .forbidden, reason: "案件 \(change.record) は見えません")
                    : PushResult(id: change.id, status: status)
            }
            let response = PushResponse(
                results: results, serverTime: Int64.random(in: 0...2_000_000_000_000, using: &generator),
                epoch: Bool.random(using: &generator) ? nil : "e-1234")
            #expect(try BinaryPush.pushResponse(from: BinaryPush.encode(response)) == response)
        }
    }

    @Test func aNewerServersRejectionCodeReadsAsInvalidAsInJSON() throws {
        let id = ChangeID(device: DeviceID("d-0123456789abcdef")!, counter: 7)
        let json = Data(
            #"{"results":[{"id":"d-0123456789abcdef:7","status":"rejected","code":"quota","reason":"full"}],"serverTime":1}"#
                .utf8)
        let fromJSON = try JSONDecoder().decode(PushResponse.self, from: json)
        #expect(fromJSON.results == [PushResult(id: id, status: .rejected, code: .invalid, reason: "[quota] full")])
        // The same answer in binary, written by hand: the code is text on the wire.
        var bytes = Array("KKPR".utf8) + [1]
        bytes += [1, 2, 1, 0]  // push: server time 1, no epoch
        let name = Array("d-0123456789abcdef".utf8)
        bytes += [2, UInt8(name.count + 2), 1, UInt8(name.count)] + name  // names
        let code = Array("quota".utf8)
        let reason = Array("full".utf8)
        let result: [UInt8] = [1, 0, 7, 2, 1, UInt8(code.count)] + code + [1, UInt8(reason.count)] + reason
        bytes += [3, UInt8(result.count)] + result + [0]
        #expect(try BinaryPush.pushResponse(from: bytes) == fromJSON)
    }

    @Test func bytesThatAreNotAWholePushAreRefusedNamingTheBody() throws {
        var generator = SplitMix64(seed: 7)
        let changes = (0..<5).map { _ in BinaryPageCodingTests.change(&generator) }
        let bytes = BinaryPush.encode(PushRequest(changes: changes))
        for cut in [0, 3, 5, bytes.count / 2, bytes.count - 1] {
            do throws(KakehashiError) {
                _ = try BinaryPush.pushRequest(from: Array(bytes.prefix(cut)))
                Issue.record("a body cut at \(cut) of \(bytes.count) bytes was read")
            } catch {
                #expect(error.code == .invalidData && error.field == "body", "\(error)")
                #expect(error.message.contains("binary push body"), "\(error.message)")
            }
        }
        // A page is not a push, and a push's answer is not a push.
        let page = BinaryPage.encode(BinaryPageCodingTests.page(&generator))
        #expect(throws: KakehashiError.self) { try BinaryPush.pushRequest(from: page) }
        #expect(throws: KakehashiError.self) {
            try BinaryPush.pushRequest(
                from: BinaryPush.encode(PushResponse(results: [], serverTime: 1)))
        }
        // A section a newer laptop adds is skipped.
        var newer = Array(bytes.dropLast())
        newer += [9, 3, 1, 2, 3, 0]
        #expect(try BinaryPush.pushRequest(from: newer).changes == changes)
    }
}
