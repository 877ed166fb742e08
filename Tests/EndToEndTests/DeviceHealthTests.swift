import Foundation
import GRDB
import KakehashiClient
import KakehashiShared
import KakehashiTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Device health as operators see it (Docs/operations.md, "Monitoring"): what `kakehashi-server
/// devices` and `/metrics` say about real `kakehashi` processes after real syncs.
@Suite struct DeviceHealthTests {
    @Test func metricsOfALiveServerPassPromtoolAndGiveEachDevicesLag() async throws {
        let promtool = "/usr/bin/promtool"
        try #require(
            FileManager.default.isExecutableFile(atPath: promtool),
            "\(promtool) is missing: install the Debian package prometheus (scripts/install-deps.sh test)")
        let server = ServerProcess()
        try await server.start()
        let started = Date().timeIntervalSince1970
        let yamada = try Laptop.enroll(server, "山田太郎")
        let sato = try Laptop.enroll(server, "佐藤花子")
        try yamada.check(["org", "add", "--name", "株式会社川崎精密製作所", "--kind", "中小企業", "--prefecture", "神奈川県"])
        try yamada.check(["sync"])
        try sato.check(["sync"])
        // Yamada pushes more; Sato has not pulled it: Sato lags by exactly what Yamada pushed.
        try yamada.check(["org", "add", "--name", "国立大学法人東京工学大学", "--kind", "大学", "--prefecture", "東京都"])
        let pushed = try #require((try yamada.json(["sync"]) as? [String: Any])?["accepted"] as? Int)
        #expect(pushed > 0)
        // A request with a wrong token is counted by its error code.
        await #expect(throws: TransportFailure.self) {
            _ = try await CurlTransport(baseURL: server.url).pull(after: "0", limit: 1, token: "wrong-token")
        }

        let metrics = try await Self.get(server.url + "/metrics")
        let file = TemporaryDirectory("metrics")
        try metrics.write(toFile: file.path + "/metrics.txt", atomically: true, encoding: .utf8)
        let check = try Executables.runTool(["sh", "-c", "\(promtool) check metrics < '\(file.path)/metrics.txt'"])
        #expect(check.status == 0, "promtool: \(check)\n\(metrics)")

        let yamadaDevice = try Self.device(yamada)
        let satoDevice = try Self.device(sato)
        #expect(Self.sample(metrics, "kakehashi_device_lag_changes", yamadaDevice) == 0, "\(metrics)")
        #expect(Self.sample(metrics, "kakehashi_device_lag_changes", satoDevice) == Double(pushed), "\(metrics)")
        // Last seen during this test: after the server started, not after the metrics were read
        // (order, not a duration: the machine may be slow).
        let now = Date().timeIntervalSince1970
        for device in [yamadaDevice, satoDevice] {
            let seen = try #require(Self.sample(metrics, "kakehashi_device_last_seen_seconds", device), "\(metrics)")
            #expect(seen >= started.rounded(.down) - 1 && seen <= now + 1, "\(seen) not within \(started)…\(now)")
        }
        #expect(metrics.contains("kakehashi_request_errors_total{endpoint=\"pull\",code=\"unauthorized\"} 1"))
        // Real `kakehashi` processes ask for binary pages: no page went out as JSON.
        #expect(metrics.contains("kakehashi_pages_total{form=\"binary\"}"), "\(metrics)")
        #expect(!metrics.contains("kakehashi_pages_total{form=\"json\"}"), "\(metrics)")
        // Labels carry device ids only: no names, advisors or tokens.
        for secret in ["山田", "佐藤", yamada.advisor, sato.advisor, try Self.token(yamada)] {
            #expect(!metrics.contains(secret))
        }

        // After Sato syncs, its lag is gone.
        try sato.check(["sync"])
        let after = try await Self.get(server.url + "/metrics")
        #expect(Self.sample(after, "kakehashi_device_lag_changes", satoDevice) == 0, "\(after)")
    }

    @Test func devicesShowsVersionLastSeenAndLagWithTheStaleFirst() async throws {
        let server = ServerProcess()
        try await server.start()
        let started = Int64(Date().timeIntervalSince1970 * 1000)
        // Every advisor first, so later log entries are only what the laptops push.
        let (yamadaID, yamadaCode) = try server.advisor("山田太郎")
        let (satoID, satoCode) = try server.advisor("佐藤花子")
        let (_, code) = try server.advisor("鈴木一郎")
        let yamada = Laptop(advisor: yamadaID)
        // A bad name is refused before the one-time code is spent.
        let refused = try yamada.run(["init", "--server", server.url, "--code", yamadaCode, "--name", "two\nlines"])
        #expect(refused.status == 64, "\(refused)")
        let named = try yamada.check([
            "init", "--server", server.url, "--code", yamadaCode, "--name", "山田のThinkPad X1 Carbon（出張用）",
        ])
        #expect(named.stderr.contains("山田のThinkPad X1 Carbon（出張用）"), "\(named)")
        let sato = Laptop(advisor: satoID)
        try sato.check(["init", "--server", server.url, "--code", satoCode])
        // A device enrolled that never synced.
        let never = try await CurlTransport(baseURL: server.url).enroll(EnrollRequest(code: code, deviceName: "新品"))
            .value.device.rawValue
        // Sato syncs last, after pushing: Yamada lags by what Sato pushed.
        try sato.check(["org", "add", "--name", "株式会社川崎精密製作所", "--kind", "中小企業", "--prefecture", "神奈川県"])
        let pushed = try #require((try sato.json(["sync"]) as? [String: Any])?["accepted"] as? Int)
        let yamadaDevice = try Self.device(yamada)
        let satoDevice = try Self.device(sato)

        // Activity is written beside the sync, not in it: wait for Sato's last pull to land.
        var entries: [[String: Any]] = []
        for _ in 0..<100 {
            let json = try server.admin(["devices", "--json"])
            entries = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
            if entries.first(where: { $0["id"] as? String == satoDevice })?["lag"] as? Int == 0 { break }
            usleep(50_000)
        }
        #expect(entries.map { $0["id"] as? String } == [never, yamadaDevice, satoDevice], "stale first: \(entries)")
        let byID = Dictionary(uniqueKeysWithValues: entries.map { ($0["id"] as? String ?? "", $0) })
        #expect(byID[yamadaDevice]?["name"] as? String == "山田のThinkPad X1 Carbon（出張用）")
        #expect(byID[satoDevice]?["name"] as? String == Self.hostname(), "the default name is the hostname")
        for device in [yamadaDevice, satoDevice] {
            #expect(byID[device]?["appVersion"] as? String == KakehashiVersion.current)
            let seen = try #require(byID[device]?["lastSeenAt"] as? Int64, "\(entries)")
            // Seen during this test (order, not a duration: the machine may be slow).
            #expect(seen >= started - 1000 && seen <= Int64(Date().timeIntervalSince1970 * 1000) + 1000, "\(seen)")
        }
        #expect(byID[yamadaDevice]?["lag"] as? Int == pushed)
        #expect(byID[never]?["lastSeenAt"] is NSNull && byID[never]?["appVersion"] is NSNull)
        #expect((byID[never]?["lag"] as? Int ?? 0) > pushed, "a device that never pulled lags by the whole log")

        let table = try Executables.run(
            "kakehashi-server", ["devices", "--db", server.database], environment: ["COLUMNS": "80"])
        try #require(table.status == 0, "\(table)")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        for line in lines {
            #expect(DisplayWidth.of(line) <= 80, "wider than 80 columns: \(line)")
        }
        let rows = Array(lines.dropFirst())
        #expect(rows.map { $0.split(separator: " ").first.map(String.init) } == [never, yamadaDevice, satoDevice])
        #expect(lines.first?.contains("最終接続(JST)") == true && lines.first?.contains("版") == true)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Tokyo")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        // The times the table shows are the JSON's last-seen times in Japan time (read again after
        // the table too, in case a late activity write moved one).
        let after = try #require(
            try JSONSerialization.jsonObject(with: Data(try server.admin(["devices", "--json"]).utf8))
                as? [[String: Any]])
        for (row, device) in zip(rows.dropFirst(), [yamadaDevice, satoDevice]) {
            let shown = [entries, after].compactMap { list in
                (list.first { $0["id"] as? String == device }?["lastSeenAt"] as? Int64).map {
                    formatter.string(from: Date(timeIntervalSince1970: Double($0) / 1000))
                }
            }
            #expect(row.contains(KakehashiVersion.current), "\(row)")
            #expect(shown.contains { row.contains($0) }, "last seen in Japan time: \(row) (expected one of \(shown))")
            #expect(row.hasSuffix("有効"))
        }
        #expect(rows.first?.contains("未接続") == true, "\(table.stdout)")
        let lagOfYamada = rows[1].split(separator: " ").dropLast().last.map(String.init)
        #expect(lagOfYamada == String(pushed), "\(rows[1])")
        // The name is shortened by display width, never inside a Latin word (山田の…, not 山田のThin…).
        #expect(rows[0].contains("山田") == false && rows[1].contains("山田の") && rows[1].contains("山田太郎"))
        #expect(!rows[1].contains("Thin…") && !rows[1].contains("ThinkP…"), "\(rows[1])")
    }

    @Test func aStoreFromBeforeDeviceHealthIsUpgradedKeepingItsDevices() async throws {
        let server = ServerProcess()
        try await server.start()
        let laptop = try Laptop.enroll(server, "山田太郎")
        let device = try Self.device(laptop)
        server.stop()
        // Make it a store of the previous schema: no health columns, migration v3 not applied.
        let path = String(server.database.dropFirst("sqlite:".count))
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(
                sql: """
                    ALTER TABLE devices DROP COLUMN app_version;
                    ALTER TABLE devices DROP COLUMN last_seen_at;
                    ALTER TABLE devices DROP COLUMN pulled_seq;
                    DELETE FROM grdb_migrations WHERE identifier = 'v3';
                    """)
        }
        try queue.close()

        // An admin command upgrades it; the device is kept, its health not yet known.
        let json = try server.admin(["devices", "--json"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries.first?["id"] as? String == device && entries.first?["advisor"] as? String == laptop.advisor)
        #expect(entries.first?["appVersion"] is NSNull && entries.first?["lastSeenAt"] is NSNull)

        // The upgraded store records health again.
        try await server.start()
        let second = try Laptop.enroll(server, "佐藤花子")
        let secondDevice = try Self.device(second)
        var entry: [String: Any]?
        for _ in 0..<100 {
            let json = try server.admin(["devices", "--json"])
            entry = (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])?
                .first { $0["id"] as? String == secondDevice }
            if entry?["appVersion"] as? String != nil { break }
            usleep(50_000)
        }
        #expect(entry?["appVersion"] as? String == KakehashiVersion.current && entry?["lag"] as? Int == 0)
    }

    static func get(_ url: String) async throws -> String {
        let session = URLSession(configuration: .ephemeral)
        defer { session.invalidateAndCancel() }
        let (data, response) = try await session.data(from: URL(string: url)!)
        try #require((response as? HTTPURLResponse)?.statusCode == 200)
        return String(decoding: data, as: UTF8.self)
    }

    /// The value of `name{device="…"}` in a Prometheus text exposition.
    static func sample(_ text: String, _ name: String, _ device: String) -> Double? {
        let prefix = "\(name){device=\"\(device)\"} "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap {
            Double($0.dropFirst(prefix.count))
        }
    }

    static func device(_ laptop: Laptop) throws -> String {
        try #require((try laptop.json(["status"]) as? [String: Any])?["device"] as? String)
    }

    static func token(_ laptop: Laptop) throws -> String {
        let queue = try DatabaseQueue(path: laptop.home.path + "/" + LocalStore.fileName)
        return try #require(try queue.read { db in try String.fetchOne(db, sql: "SELECT token FROM device") })
    }

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        _ = gethostname(&buffer, buffer.count - 1)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
