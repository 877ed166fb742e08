import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import KakehashiServer
import KakehashiShared
import NIOCore
import Testing

/// Push bodies sent with `Content-Encoding: gzip` (issue 13): stored exactly as a plain push,
/// bounded after decompression like a plain body, and refused clearly when they are not gzip.
@Suite struct CompressedPushTests {
    static func gzip(_ data: Data) throws -> Data {
        var buffer = ByteBuffer(bytes: data)
        return Data(buffer: try buffer.compress(with: .gzip()))
    }

    static func push(
        _ body: Data, encoding: String, laptop: Laptop, client: APIClient
    ) async throws -> APIResponse {
        try await client.send(
            .post, "/v1/push", token: laptop.token, body: body, headers: [.contentEncoding: encoding])
    }

    @Test(arguments: StoreKind.available)
    func aGzipPushIsStoredLikeAPlainOneAndTheFeatureIsListed(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            _ = laptop.create(.organization, ["name": .string("川崎市産業振興財団"), "kind": .string("support-center")])
            let batch = laptop.pending
            let json = try JSONEncoder().encode(PushRequest(changes: batch))
            let response = try await Self.push(try Self.gzip(json), encoding: "gzip", laptop: laptop, client: client)
            #expect(response.status == .ok, "\(String(decoding: response.body, as: UTF8.self))")
            let results = try response.decode(PushResponse.self).results
            #expect(results.map(\.status) == [.accepted, .accepted])
            #expect(results.map(\.id) == batch.map(\.id))
            let stored = try await server.store.record(.organization, batch[0].record)
            #expect(stored?.value("name") == .string("川崎市産業振興財団"))
            let listed = response.headers[HTTPField.Name(WireProtocol.featuresHeader)!] ?? ""
            #expect(
                listed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.contains(
                    WireProtocol.gzipRequestsFeature))

            // The same batch again, plain: the server saw the same changes.
            let replay = try await client.push(batch, token: laptop.token).decode(PushResponse.self)
            #expect(replay.results.map(\.status) == [.duplicate, .duplicate])
        }
    }

    @Test(arguments: StoreKind.available)
    func aBombBrokenGzipOrAnUnknownEncodingChangesNothing(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            _ = laptop.create(.organization, ["name": .string("株式会社〇〇製作所"), "kind": .string("sme")])
            let json = try JSONEncoder().encode(PushRequest(changes: laptop.pending))
            let before = try await server.store.changeCount()

            // 20 MB of spaces inside valid JSON compresses to about 20 KB: within the body limit
            // on the wire, over it once expanded.
            var padded = Data("{\"changes\": [".utf8)
            padded.append(Data(repeating: UInt8(ascii: " "), count: 20 * 1024 * 1024))
            padded.append(Data("]}".utf8))
            let bomb = try Self.gzip(padded)
            #expect(bomb.count < WireProtocol.maxRequestBytes / 100)
            let tooLarge = try await Self.push(bomb, encoding: "gzip", laptop: laptop, client: client)
            #expect(tooLarge.status == .contentTooLarge && tooLarge.error?.code == "too-large")

            let broken = try await Self.push(
                Data(try Self.gzip(json).prefix(20)) + Data("not gzip".utf8), encoding: "gzip", laptop: laptop,
                client: client)
            #expect(broken.status == .badRequest && broken.error?.code == "malformed")
            #expect(broken.error?.message.contains("gzip") == true, "\(broken.error?.message ?? "")")

            let plainLabelledGzip = try await Self.push(json, encoding: "gzip", laptop: laptop, client: client)
            #expect(plainLabelledGzip.status == .badRequest && plainLabelledGzip.error?.code == "malformed")

            let brotli = try await Self.push(json, encoding: "br", laptop: laptop, client: client)
            #expect(brotli.status == .unsupportedMediaType && brotli.error?.code == "unsupported-media-type")
            #expect(brotli.error?.message.contains("'br'") == true, "\(brotli.error?.message ?? "")")

            #expect(try await server.store.changeCount() == before)
        }
    }
}
