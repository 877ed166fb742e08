import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KakehashiServer
import KakehashiShared
import ServiceLifecycle
import Testing

/// A store, an admin and the router on top of them, for `app.test(.router)` runs.
struct TestServer {
    let store: any ChangeLogStore
    let admin: AdminService
    let kind: StoreKind

    /// - Parameter format: the log's format (`TestStore.freshLocation(format:)`); nil: this
    ///   release's for a new store of `kind`.
    static func make(_ kind: StoreKind, format: LogFormat? = nil) async throws -> TestServer {
        let store = try await kind.makeStore(format: format)
        return TestServer(store: store, admin: AdminService(store: store), kind: kind)
    }

    /// How a test reaches the router: in process, or over real HTTP on loopback.
    enum Transport {
        case router
        /// A real server on a loopback port and `TestClient.patient`: HummingbirdTesting's own
        /// `.live` client gives up after 20 s, which a push near a record's size limit on
        /// PostgreSQL can take while other tests load the machine.
        case live
    }

    /// Runs `body` against the router, then closes the store. `clock`, when given, is the
    /// server's wall clock (in-process only): a test that depends on time passing moves it.
    func run<T: Sendable>(
        _ transport: Transport = .router, clock: (@Sendable () -> Int64)? = nil,
        _ body: @Sendable (APIClient) async throws -> T
    )
        async throws -> T
    {
        do {
            let result: T
            switch transport {
            case .router:
                let router = buildRouter(store: store, metrics: ServerMetrics(), now: clock ?? serverWallMillis)
                let app = Application(router: router, logger: StoreKind.logger)
                result = try await app.test(.router) { client in try await body(APIClient(client: client)) }
            case .live:
                result = try await Self.live(store: store, body)
            }
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }

    /// Serves the router of `store` on a loopback port while `body` talks to it with a patient
    /// client (`Transport.live`); the store stays open.
    static func live<T: Sendable>(
        store: any ChangeLogStore, _ body: @Sendable (APIClient) async throws -> T
    ) async throws -> T {
        let (ports, listening) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: buildRouter(store: store, metrics: ServerMetrics()),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in listening.yield(channel.localAddress?.port ?? 0) },
            logger: StoreKind.logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            let services = ServiceGroup(
                configuration: .init(services: [app], gracefulShutdownSignals: [], logger: StoreKind.logger))
            group.addTask { try await services.run() }
            defer { group.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw ServerDidNotListen() }
            let client = TestClient.patient(port: port)
            client.connect()
            do {
                let result = try await body(APIClient(live: client))
                try await client.shutdown()
                await services.triggerGracefulShutdown()
                return result
            } catch {
                try? await client.shutdown()
                await services.triggerGracefulShutdown()
                throw error
            }
        }
    }

    struct ServerDidNotListen: Error {}

    /// Another device of the advisor `laptop` acts for, enrolled through the HTTP API.
    func secondDevice(of laptop: Laptop, client: APIClient) async throws -> Laptop {
        let code = try await admin.enroll(advisor: laptop.advisor, ttlSeconds: 3600)
        let enrolled = try await client.enroll(code: code)
        return Laptop(advisor: laptop.advisor, device: enrolled.device, token: enrolled.token, client: client)
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

/// A thin typed wrapper around Hummingbird's test clients: the router's, or a patient live one.
struct APIClient: Sendable {
    typealias Execute =
        @Sendable (String, HTTPRequest.Method, HTTPFields, ByteBuffer?) async throws -> (
            HTTPResponse, ByteBuffer
        )
    let execute: Execute

    init(client: any TestClientProtocol) {
        execute = { uri, method, headers, body in
            let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
            return (response.head, response.body)
        }
    }

    init(live client: TestClient) {
        execute = { uri, method, headers, body in
            var headers = headers
            headers[.connection] = "keep-alive"
            let response = try await client.execute(
                TestClient.Request(uri, method: method, authority: "localhost", headers: headers, body: body))
            return (response.head, response.body ?? ByteBuffer())
        }
    }

    func send(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, body: Data? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> APIResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        let (head, received) = try await execute(uri, method, headers, body.map { ByteBuffer(bytes: $0) })
        let result = APIResponse(status: head.status, headers: head.headerFields, body: Data(buffer: received))
        #expect(result.serverTime != nil, "every response carries Kakehashi-Server-Time (\(method) \(uri))")
        #expect(
            head.headerFields[HTTPField.Name(WireProtocol.minClientVersionHeader)!] != nil,
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

    func pull(
        after cursor: String, limit: Int? = nil, states: Bool = false, token: String, headers: HTTPFields = [:]
    ) async throws -> APIResponse {
        let query = (limit.map { "&limit=\($0)" } ?? "") + (states ? "&states=1" : "")
        return try await send(.get, "/v1/pull?after=\(cursor)\(query)", token: token, headers: headers)
    }
}
