import Foundation
import HTTPTypes
import Hummingbird
import KakehashiShared
import Testing

@testable import KakehashiServer

/// Device health on both stores: what a sync records (version, last seen, pulled position), the
/// `/metrics` gauges and error counters, and how seldom the sync path writes it.
@Suite struct DeviceActivityTests {
    @Test(arguments: StoreKind.available)
    func syncsRecordVersionLastSeenAndLagForMetricsAndDevices(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let agent: HTTPFields = [.userAgent: "kakehashi/9.8.7 (test)"]
            let writer = try await server.advisor("山田太郎", program: "business-production", client: client)
            let idle = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let revoked = try await server.advisor("鈴木一郎", program: "business-production", client: client)
            try await server.admin.revoke(revoked.device.rawValue)
            let started = serverWallMillis()
            _ = writer.create(.organization, ["name": .string("川崎市産業振興財団"), "kind": .string("support-center")])
            // One change under another device's id: rejected `forbidden`, counted by its code.
            var foreign = writer.pending
            var generator = SystemRandomNumberGenerator()
            let stolen = idle.maker.make(
                .set, entity: .organization, record: RecordID.uuidV7(unixMillis: started, using: &generator),
                field: "name", value: .string("他人の変更"), state: nil,
                wallMillis: serverWallMillis())
            foreign.append(stolen)
            let pushed = try await client.send(
                .post, "/v1/push", token: writer.token, body: try client.json(PushRequest(changes: foreign)),
                headers: agent)
            #expect(pushed.status == .ok)
            writer.pending = []
            var cursor = WireProtocol.initialCursor
            while true {
                let page = try await client.send(.get, "/v1/pull?after=\(cursor)", token: writer.token, headers: agent)
                    .decode(PullResponse.self)
                cursor = page.nextCursor
                if !page.hasMore { break }
            }
            // Errors by code: a wrong token on pull, a malformed cursor.
            #expect(try await client.send(.get, "/v1/pull", token: "wrong").status == .unauthorized)
            #expect(try await client.send(.get, "/v1/pull?after=x.y", token: writer.token).status == .badRequest)

            let metrics = String(decoding: try await client.send(.get, "/metrics").body, as: UTF8.self)
            let report = try await server.store.deviceHealth()
            let head = report.head
            let recorded = try #require(report.devices.first { $0.id == writer.device })
            #expect(recorded.appVersion == "9.8.7" && recorded.pulledSeq == head && report.lag(recorded) == 0)
            #expect((recorded.lastSeenAt ?? 0) >= started)
            let never = try #require(report.devices.first { $0.id == idle.device })
            #expect(never.lastSeenAt == nil && never.appVersion == nil && report.lag(never) == head)

            #expect(metrics.contains("kakehashi_device_lag_changes{device=\"\(writer.device)\"} 0\n"), "\(metrics)")
            #expect(metrics.contains("kakehashi_device_lag_changes{device=\"\(idle.device)\"} \(head)\n"))
            #expect(metrics.contains("kakehashi_device_last_seen_seconds{device=\"\(writer.device)\"} "))
            #expect(!metrics.contains("kakehashi_device_last_seen_seconds{device=\"\(idle.device)\"}"))
            #expect(!metrics.contains(revoked.device.rawValue), "a revoked device has no gauges")
            #expect(metrics.contains("kakehashi_rejected_changes_total{code=\"forbidden\"} 1"), "\(metrics)")
            #expect(metrics.contains("kakehashi_request_errors_total{endpoint=\"pull\",code=\"unauthorized\"} 1"))
            #expect(metrics.contains("kakehashi_request_errors_total{endpoint=\"pull\",code=\"malformed\"} 1"))
            #expect(!metrics.contains("山田") && !metrics.contains(writer.token) && !metrics.contains(writer.advisor))
        }
    }

    /// The sync path writes a device's row when something an operator sees changed, else at most
    /// once per interval: a request that only repeats what is known writes nothing.
    @Test(arguments: StoreKind.available)
    func activityIsWrittenOnlyWhenItChangesOrTheIntervalPassed(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            let activity = DeviceActivity(store: server.store, interval: 60_000)
            let device = laptop.device
            let stored = { @Sendable () async throws -> DeviceHealth? in
                try await server.store.deviceHealth().devices.first { $0.id == device }
            }
            /// The stored row once the writes the notes started are done.
            func settled() async throws -> DeviceHealth? {
                await activity.settled()
                return try await stored()
            }
            let t0: Int64 = 1_800_000_000_000
            activity.note(device, at: t0, userAgent: "kakehashi/1.0.0", pulledSeq: 5, caughtUp: true)
            let first = try await settled()
            #expect(first?.lastSeenAt == t0 && first?.pulledSeq == 5)
            // The same again a second later, and a page that is not the last: nothing written.
            activity.note(device, at: t0 + 1000, userAgent: "kakehashi/1.0.0")
            activity.note(device, at: t0 + 2000, userAgent: "kakehashi/1.0.0", pulledSeq: 7, caughtUp: false)
            #expect(try await settled()?.lastSeenAt == t0)
            // A new version is written at once, with the newest time and position noted.
            activity.note(device, at: t0 + 3000, userAgent: "kakehashi/1.1.0")
            let upgraded = try await settled()
            #expect(upgraded?.appVersion == "1.1.0" && upgraded?.lastSeenAt == t0 + 3000 && upgraded?.pulledSeq == 7)
            // So is a sync's last page that moved the position, and a request after the interval.
            activity.note(device, at: t0 + 4000, userAgent: "kakehashi/1.1.0", pulledSeq: 9, caughtUp: true)
            let moved = try await settled()
            #expect(moved?.pulledSeq == 9 && moved?.lastSeenAt == t0 + 4000)
            activity.note(device, at: t0 + 64_000, userAgent: "curl/8.0")
            let later = try await settled()
            #expect(
                later?.lastSeenAt == t0 + 64_000 && later?.appVersion == "1.1.0", "another client keeps the version")
            // `/metrics` writes whatever was noted, due or not.
            activity.note(device, at: t0 + 65_000, userAgent: nil)
            await activity.flushAll()
            #expect(try await stored()?.lastSeenAt == t0 + 65_000)
            // Last seen never moves back (two processes, or a late write).
            try await server.store.recordActivity([
                DeviceActivityRecord(device: device, lastSeenAt: t0, appVersion: nil, pulledSeq: nil)
            ])
            #expect(try await stored()?.lastSeenAt == t0 + 65_000)
        }
    }

    @Test func theVersionComesOnlyFromAKakehashiUserAgent() {
        #expect(DeviceActivity.version(userAgent: "kakehashi/0.1.0") == "0.1.0")
        #expect(DeviceActivity.version(userAgent: "kakehashi/0.2.0-beta.1 libcurl/7.88") == "0.2.0-beta.1")
        #expect(DeviceActivity.version(userAgent: "curl/8.0.1") == nil)
        #expect(DeviceActivity.version(userAgent: "kakehashi/") == nil)
        #expect(DeviceActivity.version(userAgent: "kakehashi/1.0\"} 9") == nil)
        #expect(DeviceActivity.version(userAgent: nil) == nil)
    }
}
