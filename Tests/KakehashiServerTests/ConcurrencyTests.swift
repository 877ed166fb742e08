import Foundation
import Hummingbird
import HummingbirdTesting
import KakehashiServer
import KakehashiShared
import Testing

/// Several writers and readers at once: no pull ever skips a change committed out of order.
@Suite struct ConcurrencyTests {
    /// Pushers write through `servers` in turn while pullers pull through them; at the end every
    /// puller holds every accepted change exactly once.
    static func pushAndPullConcurrently(
        servers: [APIClient], admin: AdminService, pushers: Int, batches: Int
    )
        async throws
    {
        func enroll(_ name: String, via client: APIClient) async throws -> Laptop {
            let id = try await admin.addAdvisor(
                name: name, role: "coordinator", program: "coordinator", prefecture: nil, contact: nil)
            let enrolled = try await client.enroll(code: try await admin.enroll(advisor: id, ttlSeconds: 600))
            return Laptop(advisor: id, device: enrolled.device, token: enrolled.token, client: client)
        }
        var writers: [Laptop] = []
        for index in 0..<pushers {
            writers.append(try await enroll("書き手\(index)", via: servers[index % servers.count]))
        }
        let readers = [
            try await enroll("読み手A", via: servers[0]), try await enroll("読み手B", via: servers[servers.count - 1]),
        ]
        let accepted = try await withThrowingTaskGroup(of: [ChangeID].self) { group in
            for writer in writers {
                group.addTask {
                    var ids: [ChangeID] = []
                    for batch in 0..<batches {
                        _ = writer.create(
                            .organization, ["name": .string("並行組織\(batch)"), "kind": .string("sme")])
                        let results = try await writer.sync(limit: 50)
                        ids += results.filter { $0.status == .accepted }.map(\.id)
                    }
                    return ids
                }
            }
            for reader in readers {
                group.addTask {
                    for _ in 0..<(batches * 2) { try await reader.pullAll(limit: 3) }
                    return []
                }
            }
            var all: [ChangeID] = []
            for try await ids in group { all += ids }
            return all
        }
        #expect(accepted.count == pushers * batches * 2)
        for reader in readers {
            try await reader.pullAll()
            let received = reader.received.filter { $0.entity == .organization }.map(\.id)
            #expect(Set(received) == Set(accepted), "a pull skipped a change committed out of order")
            #expect(received.count == accepted.count, "a change arrived twice")
        }
    }

    @Test(.enabled(if: StoreKind.postgresURL != nil))
    func concurrentPushersAndPullersOnPostgresSkipNothing() async throws {
        let location = try await StoreKind.postgres.freshLocation()
        let first = try await RunningStore.open(location, logger: StoreKind.logger)
        let second = try await RunningStore.open(location, logger: StoreKind.logger)
        let admin = AdminService(store: first)
        try await admin.seedProgramsIfEmpty()
        let appA = Application(router: buildRouter(store: first, metrics: ServerMetrics()), logger: StoreKind.logger)
        let appB = Application(router: buildRouter(store: second, metrics: ServerMetrics()), logger: StoreKind.logger)
        try await appA.test(.router) { clientA in
            try await appB.test(.router) { clientB in
                try await Self.pushAndPullConcurrently(
                    servers: [APIClient(client: clientA), APIClient(client: clientB)], admin: admin, pushers: 6,
                    batches: 15)
            }
        }
        await first.close()
        await second.close()
    }

    @Test func concurrentPushersAndPullersOnSQLiteSkipNothing() async throws {
        let server = try await TestServer.make(.sqlite)
        try await server.run { client in
            try await Self.pushAndPullConcurrently(servers: [client], admin: server.admin, pushers: 4, batches: 10)
        }
    }

    /// Two live server instances (real sockets) sharing one PostgreSQL database.
    @Test(.enabled(if: StoreKind.postgresURL != nil))
    func twoLiveServersShareOnePostgresDatabase() async throws {
        let location = try await StoreKind.postgres.freshLocation()
        let first = try await RunningStore.open(location, logger: StoreKind.logger)
        let second = try await RunningStore.open(location, logger: StoreKind.logger)
        let admin = AdminService(store: first)
        try await admin.seedProgramsIfEmpty()
        try await AdminService(store: second).seedProgramsIfEmpty()
        #expect(try await second.changeCount() == 12, "the second process did not seed the programs again")
        try await TestServer.live(store: first) { clientA in
            try await TestServer.live(store: second) { clientB in
                try await Self.pushAndPullConcurrently(
                    servers: [clientA, clientB], admin: admin, pushers: 4, batches: 8)
            }
        }
        await first.close()
        await second.close()
    }
}
