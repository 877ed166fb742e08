import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import KakehashiServer
import KakehashiShared
import NIOCore
import Testing

/// Binary push bodies and answers (`BinaryPush`, feature `binary-push`, issue 13): a binary push
/// is stored exactly as the same JSON push, a bad change in it is refused with the same 422, a
/// damaged or oversized one changes nothing, and a JSON push — an older laptop's — is read and
/// answered in JSON as before.
@Suite struct BinaryPushTests {
    static let binaryHeaders: HTTPFields = [
        .contentType: BinaryPush.mediaType, .accept: "\(BinaryPush.resultsMediaType), application/json;q=0.5",
    ]

    static func pushBinary(
        _ body: [UInt8], laptop: Laptop, client: APIClient, gzip: Bool = false
    ) async throws -> APIResponse {
        var headers = binaryHeaders
        var data = Data(body)
        if gzip {
            var buffer = ByteBuffer(bytes: data)
            data = Data(buffer: try buffer.compress(with: .gzip()))
            headers[.contentEncoding] = "gzip"
        }
        return try await client.send(.post, "/v1/push", token: laptop.token, body: data, headers: headers)
    }

    @Test(arguments: StoreKind.available)
    func aBinaryPushIsStoredLikeAJSONPushAndAnsweredInBinary(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            let organization = laptop.create(
                .organization, ["name": .string("川崎市産業振興財団"), "kind": .string("support-center")])
            let second = laptop.create(.organization, ["name": .string("株式会社〇〇製作所"), "kind": .string("sme")])
            let batch = laptop.pending
            laptop.pending = []
            let response = try await Self.pushBinary(
                BinaryPush.encode(PushRequest(changes: batch)), laptop: laptop, client: client)
            #expect(response.status == .ok, "\(String(decoding: response.body, as: UTF8.self))")
            #expect(response.headers[.contentType] == BinaryPush.resultsMediaType)
            let answer = try BinaryPush.pushResponse(from: [UInt8](response.body))
            #expect(answer.results.map(\.id) == batch.map(\.id))
            #expect(answer.results.allSatisfy { $0.status == .accepted })
            let epoch = try await server.store.epoch()
            #expect(answer.epoch == epoch)
            let listed = response.headers[HTTPField.Name(WireProtocol.featuresHeader)!] ?? ""
            #expect(
                listed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.contains("binary-push"))
            #expect(try await server.store.record(.organization, organization)?.value("name") == .string("川崎市産業振興財団"))
            #expect(try await server.store.record(.organization, second)?.value("kind") == .string("sme"))

            // The same changes pulled back, in either page form, are the changes pushed.
            let reader = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let binaryReader = try await server.advisor("鈴木一郎", program: "business-production", client: client)
            binaryReader.binaryPages = true
            try await reader.pullAll()
            try await binaryReader.pullAll()
            #expect(reader.record(.organization, organization)?.value("kind") == .string("support-center"))
            #expect(binaryReader.differences(from: reader).isEmpty)

            // An older laptop's push of the same batch: JSON in, JSON out, every change a duplicate.
            let replay = try await client.push(batch, token: laptop.token)
            #expect(replay.status == .ok)
            #expect(replay.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(try replay.decode(PushResponse.self).results.allSatisfy { $0.status == .duplicate })

            // A binary body with gzip, answered in JSON to a client that does not ask for binary.
            let more = laptop.create(.organization, ["name": .string("東京大学産学協創推進本部"), "kind": .string("university")])
            var gzipHeaders: HTTPFields = [.contentType: BinaryPush.mediaType, .contentEncoding: "gzip"]
            var buffer = ByteBuffer(bytes: BinaryPush.encode(PushRequest(changes: laptop.pending)))
            gzipHeaders[.accept] = "application/json"
            let compressed = try await client.send(
                .post, "/v1/push", token: laptop.token, body: Data(buffer: try buffer.compress(with: .gzip())),
                headers: gzipHeaders)
            #expect(compressed.status == .ok, "\(String(decoding: compressed.body, as: UTF8.self))")
            #expect(try compressed.decode(PushResponse.self).results.allSatisfy { $0.status == .accepted })
            #expect(try await server.store.record(.organization, more)?.value("kind") == .string("university"))
        }
    }

    @Test(arguments: StoreKind.available)
    func aBadChangeInABinaryBodyIsRefusedAsInJSONAndNothingIsStored(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            let organization = laptop.create(.organization, ["name": .string("株式会社〇〇製作所"), "kind": .string("sme")])
            laptop.write(.organization, organization, "kind", .string("not-a-kind"))
            let batch = laptop.pending
            let before = try await server.store.changeCount()

            let json = try await client.push(batch, token: laptop.token)
            let binary = try await Self.pushBinary(
                BinaryPush.encode(PushRequest(changes: batch)), laptop: laptop, client: client)
            for response in [json, binary] {
                #expect(response.status == .unprocessableContent)
                #expect(response.error?.code == "invalid-data")
                #expect(response.error?.field == "kind")
                #expect(response.error?.change == batch.last?.id.description)
            }
            // Errors are JSON in both cases, and say the same.
            #expect(json.error?.message == binary.error?.message)
            #expect(try await server.store.changeCount() == before)
        }
    }

    @Test(arguments: StoreKind.available)
    func aDamagedOversizedOrOverlongBinaryBodyChangesNothing(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            _ = laptop.create(.organization, ["name": .string("株式会社〇〇製作所"), "kind": .string("sme")])
            let body = BinaryPush.encode(PushRequest(changes: laptop.pending))
            let before = try await server.store.changeCount()

            // Cut short: refused, naming the body, whether sent plain or gzip.
            for gzip in [false, true] {
                let cut = try await Self.pushBinary(Array(body.dropLast()), laptop: laptop, client: client, gzip: gzip)
                #expect(cut.status == .badRequest && cut.error?.code == "malformed")
                #expect(cut.error?.field == "body")
                #expect(cut.error?.message.contains("binary push body") == true, "\(cut.error?.message ?? "")")
            }
            // JSON labelled binary, and binary labelled JSON.
            let labelled = try await client.send(
                .post, "/v1/push", token: laptop.token,
                body: try JSONEncoder().encode(PushRequest(changes: laptop.pending)),
                headers: Self.binaryHeaders)
            #expect(labelled.status == .badRequest && labelled.error?.code == "malformed")
            let mislabelled = try await client.send(.post, "/v1/push", token: laptop.token, body: Data(body))
            #expect(mislabelled.status == .badRequest && mislabelled.error?.code == "malformed")

            // A change id with counter 0, which the JSON form cannot say either.
            let change = laptop.pending[0]
            let zero = Change(
                id: ChangeID(device: change.id.device, counter: 0), entity: change.entity, record: change.record,
                field: change.field, op: change.op, value: change.value, hlc: change.hlc, prev: change.prev,
                author: change.author)
            let zeroed = try await Self.pushBinary(
                BinaryPush.encode(PushRequest(changes: [zero])), laptop: laptop, client: client)
            #expect(zeroed.status == .badRequest && zeroed.error?.field == "id")

            // A bomb: small on the wire, three times the limit once decompressed.
            let huge = Change(
                id: change.id, entity: change.entity, record: change.record, field: change.field, op: change.op,
                value: .string(String(repeating: "あ", count: WireProtocol.maxRequestBytes)), hlc: change.hlc,
                prev: change.prev, author: change.author)
            let bomb = try await Self.pushBinary(
                BinaryPush.encode(PushRequest(changes: [huge])), laptop: laptop, client: client, gzip: true)
            #expect(bomb.status == .contentTooLarge && bomb.error?.code == "too-large")

            // More changes than one push may hold.
            let many = Array(repeating: change, count: WireProtocol.maxPushChanges + 1)
            let overlong = try await Self.pushBinary(
                BinaryPush.encode(PushRequest(changes: many)), laptop: laptop, client: client)
            #expect(overlong.status == .contentTooLarge)

            #expect(try await server.store.changeCount() == before)
        }
    }
}
