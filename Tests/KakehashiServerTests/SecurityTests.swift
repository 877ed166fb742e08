import Foundation
import Hummingbird
import KakehashiServer
import KakehashiShared
import Testing

/// The attacks Docs/security.md promises to stop, beyond what AccessTests, EnrollmentTests,
/// PushTests and ErrorTests already cover: the whole level × role matrix, the directory, devices
/// that lost their right, enrollment codes of deactivated advisors, and borrowed cursors.
@Suite struct SecurityTests {
    /// How a viewer stands to a case, each played by an advisor of a different role.
    enum Standing: String, CaseIterable {
        case owner, participant, colleague, outsider, cabinetOperator
    }

    /// What Docs/design.md §6 grants each standing at each level.
    static func expected(_ standing: Standing, level: String) -> AccessPolicy.Access {
        switch (level, standing) {
        case (_, .owner), (_, .participant), ("open", _): .full
        case ("confidential", .colleague): .full
        case ("confidential", _): .stub
        default: .none
        }
    }

    static func enroll(
        _ server: TestServer, _ name: String, role: String, program: String, client: APIClient
    ) async throws -> Laptop {
        let id = try await server.admin.addAdvisor(
            name: name, role: role, program: program, prefecture: "東京都", contact: nil)
        let enrolled = try await client.enroll(code: try await server.admin.enroll(advisor: id, ttlSeconds: 3600))
        return Laptop(advisor: id, device: enrolled.device, token: enrolled.token, client: client)
    }

    @Test(arguments: StoreKind.available, ["open", "confidential", "strict", "secret"])
    func everyRoleSeesEachLevelExactlyAsSection6Says(kind: StoreKind, level: String) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let viewers: [Standing: Laptop] = [
                .owner: try await Self.enroll(
                    server, "山田太郎", role: "business-producer", program: "business-production", client: client),
                .participant: try await Self.enroll(
                    server, "高橋次郎", role: "ip-producer", program: "ip-producer", client: client),
                .colleague: try await Self.enroll(
                    server, "佐藤花子", role: "business-producer", program: "business-production", client: client),
                .outsider: try await Self.enroll(
                    server, "鈴木一郎", role: "matching-planner", program: "matching-planner", client: client),
                .cabinetOperator: try await Self.enroll(
                    server, "内閣太郎", role: "admin", program: "cabinet-office", client: client),
            ]
            let owner = try #require(viewers[.owner])
            let participant = try #require(viewers[.participant])
            let made = try await AccessTests.makeCase(by: owner, level: level)
            owner.write(.case, made.case, "participants", .string(participant.advisor), op: .add)
            #expect(try await owner.sync().allSatisfy { $0.status == .accepted })

            for standing in Standing.allCases {
                let viewer = try #require(viewers[standing])
                try await viewer.sync()
                let record = viewer.record(.case, made.case)
                switch Self.expected(standing, level: level) {
                case .full:
                    #expect(record?.value("title") == .string(AccessTests.caseTitle), "\(standing) at \(level)")
                    #expect(viewer.events(of: made.case).count == 1, "\(standing) at \(level)")
                case .stub:
                    #expect(record?.value("stage") == .string("matching"), "\(standing) at \(level)")
                    #expect(viewer.events(of: made.case).isEmpty, "\(standing) at \(level)")
                    AccessTests.expectNothingSecret(viewer, caseID: made.case, eventID: made.event)
                case .none:
                    #expect(record == nil, "\(standing) at \(level)")
                    #expect(
                        viewer.received.allSatisfy { $0.record != made.case && $0.record != made.event },
                        "\(standing) at \(level) received part of the case")
                }
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func noDeviceEditsTheAdvisorDirectoryOrRaisesItsOwnRole(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            // Even the Cabinet Office operator's laptop: the directory is kept with the admin CLI only.
            for (name, role, program) in [
                ("山田太郎", "business-producer", "business-production"), ("内閣花子", "admin", "cabinet-office"),
            ] {
                let laptop = try await Self.enroll(server, name, role: role, program: program, client: client)
                let before = try await server.store.record(.advisor, laptop.advisor)
                laptop.write(.advisor, laptop.advisor, "role", .string("admin"))
                laptop.write(.advisor, laptop.advisor, "program", .string("cabinet-office"))
                laptop.write(.advisor, laptop.advisor, "name", .string("管理者"))
                let invented = laptop.create(
                    .advisor,
                    [
                        "name": .string("架空の支援員"), "role": .string("admin"), "program": .string("cabinet-office"),
                        "active": .bool(true),
                    ])
                laptop.write(.program, "cabinet-office", "ministry", .string("meti"))
                let results = try await laptop.sync()
                #expect(results.count == 8)  // role, program, name, the invented advisor's 4 fields, ministry
                #expect(results.allSatisfy { $0.status == .rejected && $0.code == .forbidden }, "\(role): \(results)")
                #expect(try await server.store.record(.advisor, laptop.advisor) == before)
                #expect(try await server.store.record(.advisor, invented) == nil)
                #expect(
                    try await server.store.record(.program, "cabinet-office")?.value("ministry") == .string("cao"))
                // The laptop is told the truth back: its own advisor record as the directory has it.
                #expect(laptop.received.contains { $0.entity == .advisor && $0.record == laptop.advisor })
            }
        }
    }

    /// Tokens and codes are kept as the lowercase hex of their SHA-256: every stored device is
    /// found by that form, so it must never change (FIPS 180-2's test vectors).
    @Test func secretsAreKeptAsTheLowercaseHexOfTheirSHA256() {
        #expect(Secrets.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Secrets.hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Secrets.hash("鍵") != Secrets.hash("鍵 "))
    }

    @Test(arguments: StoreKind.available)
    func revokedDevicesAreRefusedOnEveryEndpointAndTheirAdvisorsCodesStopWorking(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            _ = laptop.create(.organization, ["name": .string("株式会社川崎精密"), "kind": .string("sme")])
            try await laptop.sync()
            let cursor = laptop.cursor
            try await server.admin.revoke(laptop.device.rawValue)
            for response in [
                try await client.push(laptop.pending, token: laptop.token),
                try await client.pull(after: cursor, token: laptop.token),
                try await client.pull(after: "0", token: laptop.token),
            ] {
                #expect(response.status == .unauthorized && response.error?.code == "revoked")
            }

            // A code handed out before the advisor left must not enroll a new device afterwards.
            let leaving = try await server.admin.addAdvisor(
                name: "佐藤花子", role: "coordinator", program: "coordinator", prefecture: nil, contact: nil)
            let code = try await server.admin.enroll(advisor: leaving, ttlSeconds: 3600)
            try await server.admin.deactivateAdvisor(leaving)
            let late = try await client.send(
                .post, "/v1/enroll", body: try client.json(EnrollRequest(code: code, deviceName: "ノートPC")))
            #expect(late.status == .unauthorized && late.error?.code == "unauthorized")
            #expect(
                try await server.store.devices().allSatisfy { $0.advisor != leaving || $0.revokedAt != nil },
                "a deactivated advisor got a working device")
        }
    }

    @Test(arguments: StoreKind.available)
    func anotherDevicesCursorRevealsNothingItsOwnTokenMayNotSee(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let outsider = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            let made = try await AccessTests.makeCase(by: owner, level: "secret")
            // The outsider replays every cursor the owner was ever given, with its own token.
            var cursors = ["0"]
            var after = "0"
            while true {
                let page = try await client.pull(after: after, limit: 2, token: owner.token)
                let decoded = try page.decode(PullResponse.self)
                cursors.append(decoded.nextCursor)
                after = decoded.nextCursor
                if !decoded.hasMore { break }
            }
            for cursor in cursors {
                let response = try await client.pull(after: cursor, token: outsider.token)
                // 409 unknown-cursor: the cursor was not issued to this device; 429: replaying
                // cursors from before its own advisor's changes asks for full reconciliations again.
                #expect(
                    [.ok, .conflict, .tooManyRequests].contains(response.status), "\(cursor): \(response.status)")
                guard response.status == .ok else { continue }
                let page = try response.decode(PullResponse.self)
                #expect(
                    page.changes.allSatisfy { $0.record != made.case && $0.record != made.event },
                    "cursor \(cursor) of another device leaked the secret case")
            }
        }
    }
}
