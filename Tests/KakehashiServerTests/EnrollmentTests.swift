import Foundation
import Hummingbird
import KakehashiServer
import KakehashiShared
import Testing

/// One-time enrollment codes (both stores).
@Suite struct EnrollmentTests {
    @Test(arguments: StoreKind.available)
    func aCodeWorksOnceAndYieldsAServerAssignedDevice(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let advisor = try await server.admin.addAdvisor(
                name: "山田太郎", role: "ip-producer", program: "ip-producer", prefecture: "東京都", contact: nil)
            let code = try await server.admin.enroll(advisor: advisor, ttlSeconds: 600)
            // People may type the code in lower case.
            let enrolled = try await client.enroll(code: code.lowercased())
            #expect(enrolled.advisor == advisor)
            #expect(DeviceID(enrolled.device.rawValue) != nil && enrolled.device.rawValue.count <= 40)
            #expect(enrolled.token.count == 43)
            #expect(try await server.store.devices().map(\.id) == [enrolled.device])

            let replay = try await client.send(
                .post, "/v1/enroll", body: try client.json(EnrollRequest(code: code, deviceName: nil)))
            #expect(replay.status == .unauthorized && replay.error?.code == "unauthorized")
            #expect(try await server.store.devices().count == 1)

            let pull = try await client.pull(after: "0", token: enrolled.token)
            #expect(pull.status == .ok)
        }
    }

    @Test(arguments: StoreKind.available)
    func expiredAndUnknownCodesAreRefused(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let advisor = try await server.admin.addAdvisor(
                name: "佐藤花子", role: "coordinator", program: "coordinator", prefecture: nil, contact: nil)
            let yesterday = AdminService(store: server.store, now: { serverWallMillis() - 86_400_000 })
            let expired = try await yesterday.enroll(advisor: advisor, ttlSeconds: 3600)
            for code in [expired, "AAAA-BBBB-CCCC-DDDD-EEEE", "' OR 1=1 --"] {
                let response = try await client.send(
                    .post, "/v1/enroll", body: try client.json(EnrollRequest(code: code, deviceName: "ノートPC")))
                #expect(response.status == .unauthorized && response.error?.code == "unauthorized")
            }
            #expect(try await server.store.devices().isEmpty)
            let malformed = try await client.send(.post, "/v1/enroll", body: Data("{\"code\": 5}".utf8))
            #expect(malformed.status == .badRequest && malformed.error?.field == "code")
        }
    }
}
