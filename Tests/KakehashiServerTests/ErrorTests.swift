import Foundation
import Hummingbird
import KakehashiServer
import KakehashiShared
import Testing

/// Bad requests get the right 4xx with a JSON error body, store nothing, and the server goes on.
@Suite struct ErrorTests {
    /// A laptop with one good change waiting, so a test can splice a bad one after it.
    static func wireChanges(_ laptop: Laptop) throws -> [[String: Any]] {
        _ = laptop.create(.organization, ["name": .string("株式会社〇〇製作所"), "kind": .string("sme")])
        let data = try JSONEncoder().encode(laptop.pending)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    }

    static func body(_ changes: [[String: Any]]) throws -> Data {
        try JSONSerialization.data(withJSONObject: ["changes": changes])
    }

    /// A field this server does not know comes from a newer client: that change alone is
    /// rejected, with a reason that says so, and the rest of the batch is stored.
    @Test(arguments: StoreKind.available)
    func aChangeToAnUnknownFieldIsRejectedAloneAndTheBatchGoesOn(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            var changes = try Self.wireChanges(laptop)
            var unknown = changes[changes.count - 1]
            unknown["field"] = "colour"
            unknown["value"] = "赤"
            changes.insert(unknown, at: 0)
            let before = try await server.store.changeCount()
            let response = try await client.send(
                .post, "/v1/push", token: laptop.token, body: try Self.body(changes))
            #expect(response.status == .ok)
            let results = try response.decode(PushResponse.self).results
            #expect(results.count == changes.count)
            #expect(results.first?.status == .rejected && results.first?.code == .invalid)
            #expect(results.first?.reason?.contains("does not know the field 'colour' of organization") == true)
            #expect(results.dropFirst().allSatisfy { $0.status == .accepted })
            #expect(try await server.store.changeCount() == before + changes.count - 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func badPushBodiesAreRefusedWholeWithTheRightStatus(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            let good = try Self.wireChanges(laptop)
            let before = try await server.store.changeCount()

            func variant(_ edit: (inout [String: Any]) -> Void) -> [[String: Any]] {
                var last = good[good.count - 1]
                edit(&last)
                return good.dropLast() + [last]
            }
            let longTitle = String(repeating: "長", count: 5_000)
            let cases: [(Data, HTTPResponse.Status, String, String?)] = [
                (Data("{\"changes\": [".utf8), .badRequest, "malformed", nil),
                (Data("not json at all".utf8), .badRequest, "malformed", nil),
                (Data("{\"changes\": \"many\"}".utf8), .badRequest, "malformed", "changes"),
                (try Self.body(variant { $0["entity"] = "spaceship" }), .badRequest, "malformed", "entity"),
                (try Self.body(variant { $0["hlc"] = 12 }), .badRequest, "malformed", "hlc"),
                (try Self.body(variant { $0["hlc"] = "yesterday" }), .badRequest, "malformed", "hlc"),
                (try Self.body(variant { $0["id"] = "not-a-change-id" }), .badRequest, "malformed", "id"),
                (try Self.body(variant { $0["value"] = ["nested": true] }), .badRequest, "malformed", "value"),
                (
                    try Self.body(
                        variant {
                            $0["field"] = "name"; $0["op"] = "add"
                        }),
                    .unprocessableContent, "invalid-data", "name"
                ),
                (
                    try Self.body(
                        variant {
                            $0["field"] = "kind"; $0["value"] = "spaceship-maker"
                        }),
                    .unprocessableContent, "invalid-data", "kind"
                ),
                (
                    try Self.body(variant { $0["record"] = "1' OR '1'='1'; DROP TABLE changes; --" }),
                    .unprocessableContent, "invalid-data", "record"
                ),
                (
                    try Self.body(
                        variant {
                            $0["field"] = "name"; $0["value"] = longTitle
                        }),
                    .unprocessableContent, "invalid-data", "name"
                ),
            ]
            for (body, status, code, field) in cases {
                let response = try await client.send(.post, "/v1/push", token: laptop.token, body: body)
                #expect(response.status == status, "\(String(decoding: body.prefix(120), as: UTF8.self))")
                #expect(response.error?.code == code)
                if let field { #expect(response.error?.field == field) }
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                // A 422 names the change at fault in its own field: the last one of the batch.
                if status == .unprocessableContent {
                    let sent = try JSONSerialization.jsonObject(with: body) as? [String: Any]
                    let last = (sent?["changes"] as? [[String: Any]])?.last?["id"] as? String
                    #expect(response.error?.change != nil && response.error?.change == last)
                } else {
                    #expect(response.error?.change == nil)
                }
            }
            // A bad timestamp inside `prev` is named by its place in the batch.
            let badPrev = try Self.body(variant { $0["prev"] = [$0["hlc"] ?? "", "yesterday"] })
            let refused = try await client.send(.post, "/v1/push", token: laptop.token, body: badPrev)
            #expect(refused.status == .badRequest && refused.error?.code == "malformed")
            #expect(
                refused.error?.message.contains("changes[\(good.count - 1)].prev[1]") == true,
                "\(refused.error?.message ?? "")")
            #expect(try await server.store.changeCount() == before, "nothing from a refused request is stored")

            // SQL-looking text is just text: stored verbatim, and every table is still there.
            let sql = "'); DROP TABLE changes; --"
            let org = laptop.create(.organization, ["name": .string(sql), "kind": .string("sme")])
            let results = try await laptop.sync()
            #expect(results.allSatisfy { $0.status == .accepted })
            #expect(try await server.store.record(.organization, org)?.value("name") == .string(sql))
            let health = try await client.send(.get, "/v1/health")
            #expect(health.status == .ok)
        }
    }

    @Test(arguments: StoreKind.available)
    func oversizeBodiesGet413(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            let huge = Data(
                ("{\"changes\": [], \"padding\": \"" + String(repeating: "x", count: WireProtocol.maxRequestBytes)
                    + "\"}")
                    .utf8)
            let response = try await client.send(.post, "/v1/push", token: laptop.token, body: huge)
            #expect(response.status == .contentTooLarge)
            #expect(response.error?.code == "too-large")
            let after = try await client.send(.get, "/v1/health")
            #expect(after.status == .ok)
        }
    }

    @Test(arguments: StoreKind.available)
    func missingOrWrongTokensGet401Unauthorized(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            _ = try await server.advisor("山田太郎", program: "business-production", client: client)
            let requests: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/v1/pull?after=0", nil), (.get, "/v1/pull?after=0", "not-a-token"),
                (.post, "/v1/push", nil), (.post, "/v1/push", String(repeating: "A", count: 43)),
            ]
            for (method, uri, token) in requests {
                let response = try await client.send(
                    method, uri, token: token, body: method == .post ? Data("{\"changes\":[]}".utf8) : nil)
                #expect(response.status == .unauthorized)
                #expect(response.error?.code == "unauthorized")
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func badPullParametersAndUnknownPathsAreJSONErrors(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            for (uri, field) in [
                ("/v1/pull?after=abc", "after"), ("/v1/pull?after=1.2.3", "after"), ("/v1/pull?after=-1.0", "after"),
                ("/v1/pull?after=0&limit=0", "limit"), ("/v1/pull?after=0&limit=5001", "limit"),
                ("/v1/pull?after=0&limit=ten", "limit"),
            ] {
                let response = try await client.send(.get, uri, token: laptop.token)
                #expect(response.status == .badRequest, "\(uri)")
                #expect(response.error?.code == "malformed" && response.error?.field == field)
            }
            // Cursors of the right shape that this log never issued to this device: beyond the
            // head, or of a response generation it never sent (a restored log).
            for uri in ["/v1/pull?after=99999.1", "/v1/pull?after=0.77"] {
                let response = try await client.send(.get, uri, token: laptop.token)
                #expect(response.status == .conflict, "\(uri)")
                #expect(response.error?.kind == .unknownCursor && response.error?.field == "after")
            }
            let missing = try await client.send(.get, "/v1/nothing-here")
            #expect(missing.status == .notFound && missing.error?.code == "not-found")
            for (method, uri, allowed) in [
                (HTTPRequest.Method.get, "/v1/push", "POST"), (.delete, "/v1/pull", "GET"),
                (.put, "/v1/enroll", "POST"),
            ] {
                let wrong = try await client.send(method, uri)
                #expect(wrong.status == .methodNotAllowed && wrong.error?.code == "method-not-allowed", "\(uri)")
                #expect(wrong.headers[.allow] == allowed, "\(uri)")
            }
        }
    }
}
