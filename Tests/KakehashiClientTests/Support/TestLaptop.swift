import Foundation
import KakehashiClient
import KakehashiShared
import KakehashiTestSupport

/// An enrolled laptop against an in-process server, with a wall clock the test can skew.
struct TestLaptop {
    let home: TemporaryDirectory
    let client: FieldClient
    let transport: InProcessTransport
    let advisor: String

    static func enroll(
        _ server: InProcessServer, name: String, program: String = InProcessServer.program,
        clock: @escaping @Sendable () -> Int64 = FieldClient.systemClock
    ) async throws -> TestLaptop {
        let (advisor, code) = await server.addAdvisor(name: name, program: program)
        let transport = InProcessTransport(server: server)
        let home = TemporaryDirectory("laptop", create: false)
        let client = try await FieldClient.enroll(
            directory: home.path, server: "in-process", code: code, cacert: nil, deviceName: name, transport: transport,
            wallClock: clock)
        // Like `kakehashi init`, which syncs once right after enrolling.
        _ = try await SyncEngine(client: client, transport: transport).run()
        return TestLaptop(home: home, client: client, transport: transport, advisor: advisor)
    }

    private init(home: TemporaryDirectory, client: FieldClient, transport: InProcessTransport, advisor: String) {
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
