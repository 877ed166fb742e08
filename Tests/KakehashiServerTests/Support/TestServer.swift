import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KakehashiServer
import KakehashiShared
import Testing

/// A store, an admin and the router on top of them, for `app.test(.router)` runs.
struct TestServer {
    let store: any ChangeLogStore
    let admin: AdminService
    let kind: StoreKind

    static func make(_ kind: StoreKind) async throws -> TestServer {
        let store = try await kind.makeStore()
        return TestServer(store: store, admin: AdminService(store: store), kind: kind)
    }

    /// Runs `body` against the router (no sockets; `.live` for real HTTP over loopback), then
    /// closes the store.
    func run<T>(_ setup: TestingSetup = .router, _ body: @Sendable (APIClient) async throws -> T) async throws -> T {
        let app = Application(router: buildRouter(store: store, metrics: ServerMetrics()), logger: StoreKind.logger)
        do {
            let result = try await app.test(setup) { client in try await body(APIClient(client: client)) }
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }

    /// An advisor of `program`, with a device enrolled through the HTTP API.
    func advisor(_ name: String, program: String, client: APIClient) async throws -> Laptop {
        let id = try await admin.addAdvisor(
            name: name, role: "business-producer", program: program, prefecture: "kanagawa", contact: nil)
        let code = try await admin.enroll(advisor: id, ttlSeconds: 3600)
        let enrolled = try await client.enroll(code: code)
        return Laptop(advisor: id, device: enrolled.device, token: enrolled.token, client: client)
    }
}

/// One HTTP response, decoded lazily.
struct APIResponse: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: Data

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(type, from: body) }

    /// The `ErrorResponse` body, which every error carries.
    var error: ErrorResponse.Body? { try? decode(ErrorResponse.self).error }

    var serverTime: Int64? { headers[HTTPField.Name("Kakehashi-Server-Time")!].flatMap { Int64($0) } }
}

/// A thin typed wrapper around Hummingbird's test client.
struct APIClient: Sendable {
    let client: any TestClientProtocol

    func send(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, body: Data? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> APIResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil { headers[.contentType] = "application/json" }
        let response = try await client.execute(
            uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
        let result = APIResponse(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        #expect(result.serverTime != nil, "every response carries Kakehashi-Server-Time (\(method) \(uri))")
        #expect(
            response.headers[HTTPField.Name(WireProtocol.minClientVersionHeader)!] != nil,
            "every response carries Kakehashi-Min-Client-Version (\(method) \(uri))")
        return result
    }

    func json(_ value: some Encodable) throws -> Data {
        try JSONEncoder().encode(value)
    }

    func enroll(code: String, name: String? = "field-laptop") async throws -> EnrollResponse {
        let response = try await send(.post, "/v1/enroll", body: try json(EnrollRequest(code: code, deviceName: name)))
        try #require(response.status == .ok, "enroll: \(String(decoding: response.body, as: UTF8.self))")
        return try response.decode(EnrollResponse.self)
    }

    func push(_ changes: [Change], token: String) async throws -> APIResponse {
        try await send(.post, "/v1/push", token: token, body: try json(PushRequest(changes: changes)))
    }

    func pull(after cursor: String, limit: Int? = nil, token: String) async throws -> APIResponse {
        let query = limit.map { "&limit=\($0)" } ?? ""
        return try await send(.get, "/v1/pull?after=\(cursor)\(query)", token: token)
    }
}
