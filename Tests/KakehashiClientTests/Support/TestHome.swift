import Foundation
import KakehashiClient
import KakehashiShared

/// A temporary data directory, removed when the test is done with it.
final class TestHome: Sendable {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "kakehashi-test-" + UUID().uuidString
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// An enrolled laptop against an in-process server, with a wall clock the test can skew.
struct TestLaptop {
    let home: TestHome
    let client: FieldClient
    let transport: InProcessTransport
    let advisor: String

    static func enroll(
        _ server: InProcessServer, name: String, program: String = InProcessServer.program,
        clock: @escaping @Sendable () -> Int64 = FieldClient.systemClock
    ) async throws -> TestLaptop {
        let (advisor, code) = await server.addAdvisor(name: name, program: program)
        let transport = InProcessTransport(server: server)
        let home = TestHome()
        let client = try await FieldClient.enroll(
            directory: home.path, server: "in-process", code: code, cacert: nil, deviceName: name, transport: transport,
            wallClock: clock)
        // Like `kakehashi init`, which syncs once right after enrolling.
        _ = try await SyncEngine(client: client, transport: transport).run()
        return TestLaptop(home: home, client: client, transport: transport, advisor: advisor)
    }

    private init(home: TestHome, client: FieldClient, transport: InProcessTransport, advisor: String) {
        self.home = home
        self.client = client
        self.transport = transport
        self.advisor = advisor
    }

    @discardableResult
    func sync() async throws -> SyncEngine.Summary {
        try await SyncEngine(client: client, transport: transport).run()
    }
}
