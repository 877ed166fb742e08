import Foundation
import HTTPTypes
import Hummingbird
import KakehashiServer
import KakehashiShared
import Testing

/// Docs/openapi.yaml against the server's real responses: every status the server answers is
/// documented for its operation, every JSON body has the documented required keys and types,
/// and every documented client-error status is actually produced.
@Suite struct OpenAPITests {
    static func document() throws -> [String: Any] {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Docs/openapi.yaml").path) {
            directory.deleteLastPathComponent()
            try #require(directory.path != "/")
        }
        let text = try String(contentsOf: directory.appendingPathComponent("Docs/openapi.yaml"), encoding: .utf8)
        return try #require(MiniYAML.parse(text) as? [String: Any])
    }

    /// Problems with `value` against `schema` (empty when it conforms).
    static func problems(_ value: Any, _ schema: [String: Any], _ document: [String: Any], at path: String) -> [String]
    {
        if let ref = schema["$ref"] as? String { return problems(value, resolve(ref, document), document, at: path) }
        if value is NSNull { return schema["nullable"] as? Bool == true ? [] : ["\(path) is null"] }
        var found: [String] = []
        switch schema["type"] as? String {
        case "object":
            guard let object = value as? [String: Any] else { return ["\(path) is not an object"] }
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                found.append("\(path).\(key) is required")
            }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (key, child) in object {
                guard let childSchema = properties[key] as? [String: Any] else {
                    found.append("\(path).\(key) is not documented")
                    continue
                }
                found += problems(child, childSchema, document, at: "\(path).\(key)")
            }
        case "array":
            guard let array = value as? [Any] else { return ["\(path) is not an array"] }
            if let items = schema["items"] as? [String: Any] {
                for (index, item) in array.enumerated() {
                    found += problems(item, items, document, at: "\(path)[\(index)]")
                }
            }
        case "string":
            guard let text = value as? String else { return ["\(path) is not a string"] }
            if let allowed = schema["enum"] as? [String], !allowed.contains(text) {
                found.append("\(path) '\(text)' not in enum")
            }
        case "integer":
            guard let number = value as? NSNumber, !(value is String) else { return ["\(path) is not an integer"] }
            if number.doubleValue != number.doubleValue.rounded() { found.append("\(path) is not whole") }
        case "boolean":
            if !(value is Bool) { found.append("\(path) is not a boolean") }
        default:
            break
        }
        return found
    }

    static func resolve(_ ref: String, _ document: [String: Any]) -> [String: Any] {
        ref.dropFirst(2).split(separator: "/").reduce(document as Any) { node, key in
            (node as? [String: Any])?[String(key)] ?? [:]
        } as? [String: Any] ?? [:]
    }

    struct Observed {
        let method: String
        let path: String
        let response: APIResponse
    }

    /// The error codes the document lists are exactly the typed codes server and laptop share.
    @Test func theDocumentedErrorCodesAreTheTypedOnes() throws {
        let document = try Self.document()
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let error = try #require(
            ((schemas["ErrorResponse"] as? [String: Any])?["properties"] as? [String: Any])?["error"]
                as? [String: Any])
        let code = try #require((error["properties"] as? [String: Any])?["code"] as? [String: Any])
        let listed = try #require(code["enum"] as? [String])
        #expect(Set(listed) == Set(APIErrorCode.allCases.map(\.rawValue)))
    }

    @Test(arguments: StoreKind.available)
    func serverResponsesMatchTheDocument(kind: StoreKind) async throws {
        let document = try Self.document()
        let server = try await TestServer.make(kind)
        let observed: [Observed] = try await server.run { client in
            var seen: [Observed] = []
            func record(_ method: String, _ path: String, _ response: APIResponse) {
                seen.append(Observed(method: method, path: path, response: response))
            }
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let code = try await server.admin.enroll(advisor: owner.advisor, ttlSeconds: 60)
            record("post", "/v1/enroll", try await client.send(.post, "/v1/enroll", body: Data("{}".utf8)))
            record(
                "post", "/v1/enroll",
                try await client.send(
                    .post, "/v1/enroll",
                    body: try client.json(EnrollRequest(code: code, deviceName: String(repeating: "名", count: 101)))))
            record(
                "post", "/v1/enroll",
                try await client.send(
                    .post, "/v1/enroll",
                    body: Data(
                        ("{\"code\": \"" + String(repeating: "A", count: WireProtocol.maxRequestBytes) + "\"}").utf8)))
            record(
                "post", "/v1/enroll",
                try await client.send(
                    .post, "/v1/enroll", body: try client.json(EnrollRequest(code: code, deviceName: "PC"))))
            record(
                "post", "/v1/enroll",
                try await client.send(
                    .post, "/v1/enroll", body: try client.json(EnrollRequest(code: code, deviceName: "PC"))))

            let made = try await AccessTests.makeCase(by: owner)
            let outsider = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            outsider.write(.case, made.case, "title", .string("書き換え"))
            _ = outsider.create(.seed, ["title": .string("開放特許：微細加工"), "kind": .string("open-patent")])
            record("post", "/v1/push", try await client.push(outsider.pending, token: outsider.token))
            record(
                "post", "/v1/push", try await client.send(.post, "/v1/push", token: owner.token, body: Data("[".utf8)))
            record("post", "/v1/push", try await client.send(.post, "/v1/push", body: Data("{\"changes\":[]}".utf8)))
            record(
                "post", "/v1/push",
                try await client.send(
                    .post, "/v1/push", token: owner.token, body: Data("{\"changes\":[]}".utf8),
                    headers: [.contentEncoding: "br"]))
            var bad = try #require(
                JSONSerialization.jsonObject(with: JSONEncoder().encode(outsider.pending)) as? [[String: Any]])
            bad[0]["value"] = 12
            record(
                "post", "/v1/push",
                try await client.send(
                    .post, "/v1/push", token: outsider.token,
                    body: try JSONSerialization.data(withJSONObject: ["changes": bad])))
            record(
                "post", "/v1/push",
                try await client.send(
                    .post, "/v1/push", token: outsider.token,
                    body: Data(
                        ("{\"changes\":[],\"x\":\"" + String(repeating: "x", count: WireProtocol.maxRequestBytes)
                            + "\"}").utf8)))

            owner.write(.case, made.case, "level", .string("strict"))
            try await owner.sync()
            record("get", "/v1/pull", try await client.pull(after: "0", limit: 3, token: outsider.token))
            let first = try await client.pull(after: "0", token: outsider.token)
            record("get", "/v1/pull", first)
            record("get", "/v1/pull", try await client.pull(after: "nope", token: outsider.token))
            record("get", "/v1/pull", try await client.pull(after: "99999.1", token: outsider.token))
            // A cursor from before the device's own advisor record asks for every case to be
            // compared again; asked again at once, it is 429.
            for _ in 0..<5 { record("get", "/v1/pull", try await client.pull(after: "1.0", token: outsider.token)) }
            record("get", "/v1/pull", try await client.pull(after: "0", token: "wrong"))
            // A bootstrap from states, its pages, and the history it hands out.
            let bootstrap = try await client.pull(after: "0", limit: 2, states: true, token: owner.token)
            record("get", "/v1/pull", bootstrap)
            let states = try bootstrap.decode(PullResponse.self)
            #expect(!(states.states ?? []).isEmpty)
            record("get", "/v1/pull", try await client.pull(after: states.nextCursor, limit: 50, token: owner.token))
            let history = try #require(states.history)
            record(
                "get", "/v1/history",
                try await client.send(.get, "/v1/history?after=\(history)&limit=3", token: owner.token))
            record("get", "/v1/history", try await client.send(.get, "/v1/history?after=h.9.2", token: owner.token))
            // Both pages in the binary form, asked for with Accept.
            let binary: HTTPFields = [.accept: BinaryPage.mediaType]
            record("get", "/v1/pull", try await client.pull(after: "0", token: owner.token, headers: binary))
            record(
                "get", "/v1/history",
                try await client.send(.get, "/v1/history?after=\(history)", token: owner.token, headers: binary))
            record("get", "/v1/history", try await client.send(.get, "/v1/history?after=\(history)", token: "wrong"))
            // A device that gains a case in the stream: its stub as a state, named in gained, and
            // the history scoped to it.
            let caughtUp = try first.decode(PullResponse.self).nextCursor
            owner.write(.case, made.case, "level", .string("confidential"))
            try await owner.sync()
            let gainedPage = try await client.pull(after: caughtUp, states: true, token: outsider.token)
            record("get", "/v1/pull", gainedPage)
            let gained = try #require(try gainedPage.decode(PullResponse.self).gained?.first)
            record(
                "get", "/v1/history",
                try await client.send(.get, "/v1/history?after=\(gained.history)", token: outsider.token))
            // A push in the binary form, answered in it, and a damaged one.
            let outsiderSeed = outsider.create(.seed, ["title": .string("開放特許：精密研磨"), "kind": .string("open-patent")])
            #expect(!outsiderSeed.isEmpty)
            record(
                "post", "/v1/push",
                try await client.send(
                    .post, "/v1/push", token: outsider.token,
                    body: Data(BinaryPush.encode(PushRequest(changes: outsider.pending))),
                    headers: BinaryPushTests.binaryHeaders))
            record(
                "post", "/v1/push",
                try await client.send(
                    .post, "/v1/push", token: outsider.token, body: Data("KKPU".utf8),
                    headers: BinaryPushTests.binaryHeaders))
            // A kakehashi older than the server's minimum is told to upgrade (426), before its
            // token or body is looked at.
            let old: HTTPFields = [.userAgent: "kakehashi/0.0.9"]
            record(
                "post", "/v1/enroll",
                try await client.send(
                    .post, "/v1/enroll", body: try client.json(EnrollRequest(code: code, deviceName: "PC")),
                    headers: old))
            record(
                "post", "/v1/push",
                try await client.send(
                    .post, "/v1/push", token: owner.token, body: Data("{\"changes\":[]}".utf8), headers: old))
            record("get", "/v1/pull", try await client.send(.get, "/v1/pull?after=0", token: owner.token, headers: old))
            record(
                "get", "/v1/history",
                try await client.send(.get, "/v1/history?after=h.0.1", token: owner.token, headers: old))
            record("get", "/v1/health", try await client.send(.get, "/v1/health"))
            record("get", "/metrics", try await client.send(.get, "/metrics"))
            return seen
        }

        let paths = try #require(document["paths"] as? [String: Any])
        var exercised: Set<String> = []
        for item in observed {
            let operation = try #require((paths[item.path] as? [String: Any])?[item.method] as? [String: Any])
            let responses = try #require(operation["responses"] as? [String: Any])
            let status = String(item.response.status.code)
            exercised.insert("\(item.method) \(item.path) \(status)")
            var documented = try #require(
                responses[status] as? [String: Any], "\(item.method) \(item.path) answered undocumented \(status)")
            if let ref = documented["$ref"] as? String { documented = Self.resolve(ref, document) }
            let content = documented["content"] as? [String: Any] ?? [:]
            if item.response.headers[.contentType] == BinaryPage.mediaType {
                #expect(content[BinaryPage.mediaType] != nil, "\(item.method) \(item.path) \(status): binary")
                #expect(throws: Never.self) { try BinaryPage.pullResponse(from: [UInt8](item.response.body)) }
            } else if item.response.headers[.contentType] == BinaryPush.resultsMediaType {
                #expect(content[BinaryPush.resultsMediaType] != nil, "\(item.method) \(item.path) \(status): binary")
                #expect(throws: Never.self) { try BinaryPush.pushResponse(from: [UInt8](item.response.body)) }
            } else if let json = content["application/json"] as? [String: Any],
                let schema = json["schema"] as? [String: Any]
            {
                let body = try JSONSerialization.jsonObject(with: item.response.body, options: [.fragmentsAllowed])
                let found = Self.problems(body, schema, document, at: "$")
                #expect(found.isEmpty, "\(item.method) \(item.path) \(status): \(found)")
            } else {
                #expect(content["text/plain"] != nil)
            }
        }
        // Every documented status except server faults was produced above.
        for (path, value) in paths {
            for (method, operation) in value as? [String: Any] ?? [:] {
                let responses = (operation as? [String: Any])?["responses"] as? [String: Any] ?? [:]
                for status in responses.keys where status != "500" {
                    #expect(
                        exercised.contains("\(method) \(path) \(status)"), "never produced \(method) \(path) \(status)")
                }
            }
        }
    }
}
