import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KakehashiServer
import KakehashiShared
import Testing

/// The load benchmark of issue 4 (not a timed test; it asserts nothing about speed): a real
/// `kakehashi-server serve` process holding a large change log, with many simulated devices
/// pushing and pulling at once. Reports throughput, p50/p99 latency and the server's peak memory.
///
/// Runs only when asked (see Docs/benchmarks.md):
///
///     KAKEHASHI_BENCHMARK=1 KAKEHASHI_BENCHMARK_CHANGES=1000000 KAKEHASHI_BENCHMARK_DEVICES=200 \
///       swift test --filter LoadBenchmark
@Suite struct LoadBenchmark {
    static let environment = ProcessInfo.processInfo.environment
    static let enabled = environment["KAKEHASHI_BENCHMARK"] == "1"

    static func setting(_ name: String, _ fallback: Int) -> Int {
        environment["KAKEHASHI_BENCHMARK_\(name)"].flatMap(Int.init) ?? fallback
    }

    @Test(.enabled(if: enabled)) func devicesPushAndPullAgainstALargeLog() async throws {
        let targetChanges = Self.setting("CHANGES", 1_000_000)
        let deviceCount = Self.setting("DEVICES", 200)
        let seconds = Self.setting("SECONDS", 60)
        let fullSyncDevices = Self.setting("FULL_SYNC_DEVICES", max(1, deviceCount / 20))
        let kind: StoreKind = Self.environment["KAKEHASHI_BENCHMARK_STORE"] == "postgres" ? .postgres : .sqlite
        let location = try await kind.freshLocation()
        let db: String =
            switch location {
            case .sqlite(let path): "sqlite:" + path
            case .postgres(let url): url
            }

        // 1. Directory and the large log, written through the store like admin writes.
        let seedStart = ContinuousClock.now
        let store = try await RunningStore.open(location, logger: StoreKind.logger)
        let admin = AdminService(store: store)
        try await admin.seedProgramsIfEmpty()
        let programs = AdminService.initialPrograms.map(\.id)
        var advisors: [(id: String, program: String)] = []
        for index in 0..<deviceCount {
            let program = programs[index % programs.count]
            advisors.append(
                (
                    try await admin.addAdvisor(
                        name: "支援人材\(index)", role: "coordinator", program: program, prefecture: nil,
                        contact: nil),
                    program
                ))
        }
        var generator = SystemRandomNumberGenerator()
        var maker = ChangeMaker(clock: HybridClock(device: DeviceID("bench-seed")!), author: advisors[0].id)
        var batch: [Change] = []
        var written = try await store.changeCount()
        let levels = ["open", "confidential", "confidential", "confidential", "strict", "secret"]
        var caseIndex = 0
        func add(
            _ entity: Entity, _ record: String, _ field: String, _ value: FieldValue, op: Change.Operation = .set
        )
            async throws
        {
            batch.append(
                maker.make(
                    op, entity: entity, record: record, field: field, value: value, state: nil,
                    wallMillis: serverWallMillis()))
            if batch.count == 1_000 {
                _ = try await store.append(batch, viewer: nil, wallMillis: serverWallMillis(), onlyIfEmpty: false)
                written += batch.count
                batch = []
            }
        }
        while written + batch.count < targetChanges {
            caseIndex += 1
            let owner = advisors[caseIndex % advisors.count]
            let org = RecordID.uuidV7(unixMillis: serverWallMillis(), using: &generator)
            try await add(.organization, org, "name", .string("株式会社試作\(caseIndex)製作所"))
            try await add(.organization, org, "kind", .string("sme"))
            let caseID = RecordID.uuidV7(unixMillis: serverWallMillis(), using: &generator)
            try await add(.case, caseID, "title", .string("精密加工技術の試作マッチング \(caseIndex)"))
            try await add(.case, caseID, "summary", .string(String(repeating: "試作評価と量産化の検討。", count: 8)))
            try await add(.case, caseID, "kind", .string("ip-business-matching"))
            try await add(.case, caseID, "level", .string(levels[caseIndex % levels.count]))
            try await add(.case, caseID, "owner", .string(owner.id))
            try await add(.case, caseID, "program", .string(owner.program))
            try await add(.case, caseID, "organizations", .string(org), op: .add)
            try await add(
                .case, caseID, "participants", .string(advisors[(caseIndex * 7) % advisors.count].id), op: .add)
            for step in 0..<3 {
                let event = RecordID.uuidV7(unixMillis: serverWallMillis(), using: &generator)
                try await add(.event, event, "case", .string(caseID))
                try await add(.event, event, "kind", .string("visit"))
                try await add(.event, event, "date", .string("2026-0\(step + 4)-1\(step)"))
                try await add(.event, event, "body", .string("川崎市産業振興財団の紹介で訪問。試作条件を確認した（\(step)）。"))
            }
            try await add(.case, caseID, "stage", .string("prototyping"))
        }
        if !batch.isEmpty {
            _ = try await store.append(batch, viewer: nil, wallMillis: serverWallMillis(), onlyIfEmpty: false)
        }
        let logSize = try await store.changeCount()
        var codes: [String] = []
        for advisor in advisors { codes.append(try await admin.enroll(advisor: advisor.id, ttlSeconds: 3600)) }
        await store.close()
        let seedTime = ContinuousClock.now - seedStart
        print("benchmark: seeded \(logSize) changes (\(caseIndex) cases) in \(seedTime)")

        // 2. The real server process.
        let (server, url) = try await ServerBinary.serve(db: db)
        defer { if server.isRunning { server.terminate() } }
        let port = try #require(URLComponents(string: url)?.port)
        let sampler = Task {
            var samples: [Int] = []
            while !Task.isCancelled {
                if let rss = Self.memoryKiB(pid: server.processIdentifier, key: "VmRSS") { samples.append(rss) }
                try? await Task.sleep(for: .milliseconds(500))
            }
            return samples
        }

        // 3. Devices: most are caught up and sync small edits; a few sync the whole log from "0".
        let advisorIDs = advisors.map(\.id)
        let enrollmentCodes = codes
        let results = try await withThrowingTaskGroup(of: DeviceStats.self) { group in
            for (index, code) in enrollmentCodes.enumerated() {
                let fromStart = index < fullSyncDevices
                let advisor = advisorIDs[index]
                group.addTask {
                    try await Self.device(
                        port: port, code: code, advisor: advisor, cursor: fromStart ? "0" : "\(logSize).0",
                        seconds: seconds)
                }
            }
            var all: [DeviceStats] = []
            for try await stats in group { all.append(stats) }
            return all
        }
        sampler.cancel()
        let rssSamples = await sampler.value
        let peak = Self.memoryKiB(pid: server.processIdentifier, key: "VmHWM") ?? 0
        server.terminate()
        server.waitUntilExit()

        let pushes = results.flatMap(\.push).sorted()
        let pulls = results.flatMap(\.pull).sorted()
        func percentile(_ values: [Double], _ p: Double) -> Double {
            values.isEmpty ? 0 : values[min(values.count - 1, Int(Double(values.count) * p))]
        }
        let pushed = results.map(\.pushedChanges).reduce(0, +)
        let pulled = results.map(\.pulledChanges).reduce(0, +)
        let report = """
            | store | log | devices (full sync) | duration | push req/s | pull req/s | changes pushed/s | changes pulled/s | push p50 / p99 ms | pull p50 / p99 ms | server peak RSS | RSS first / last sample |
            |---|---|---|---|---|---|---|---|---|---|---|---|
            | \(kind.rawValue) | \(logSize) | \(deviceCount) (\(fullSyncDevices)) | \(seconds) s | \(pushes.count / seconds) | \(pulls.count / seconds) | \(pushed / seconds) | \(pulled / seconds) | \(Int(percentile(pushes, 0.5))) / \(Int(percentile(pushes, 0.99))) | \(Int(percentile(pulls, 0.5))) / \(Int(percentile(pulls, 0.99))) | \(peak / 1024) MiB | \((rssSamples.first ?? 0) / 1024) / \((rssSamples.last ?? 0) / 1024) MiB |
            """
        print("benchmark:\n" + report)
        #expect(results.allSatisfy { $0.errors == 0 }, "requests failed during the benchmark")
    }

    struct DeviceStats: Sendable {
        var push: [Double] = []
        var pull: [Double] = []
        var pushedChanges = 0
        var pulledChanges = 0
        var errors = 0
    }

    /// One simulated laptop: enroll, then push a small edit and pull until caught up, until the
    /// time is up.
    static func device(
        port: Int, code: String, advisor: String, cursor start: String, seconds: Int
    ) async throws
        -> DeviceStats
    {
        let client = TestClient.patient(port: port)
        client.connect()
        defer { Task { try? await client.shutdown() } }
        let enrollBody = try JSONEncoder().encode(EnrollRequest(code: code, deviceName: "bench"))
        let enrolled = try JSONDecoder().decode(
            EnrollResponse.self,
            from: Data(
                buffer: try await client.post(
                    "/v1/enroll", headers: [.contentType: "application/json"], body: ByteBuffer(bytes: enrollBody)
                ).body ?? ByteBuffer()))
        let headers: HTTPFields = [
            .authorization: "Bearer \(enrolled.token)", .contentType: "application/json", .acceptEncoding: "gzip",
        ]
        var maker = ChangeMaker(clock: HybridClock(device: enrolled.device), author: advisor)
        var generator = SystemRandomNumberGenerator()
        var stats = DeviceStats()
        var cursor = start
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            let org = RecordID.uuidV7(unixMillis: serverWallMillis(), using: &generator)
            var changes: [Change] = []
            for (field, value) in [("name", "大学発ベンチャー試作\(org.prefix(8))"), ("kind", "sme"), ("notes", "訪問メモ")] {
                changes.append(
                    maker.make(
                        .set, entity: .organization, record: org, field: field, value: .string(value), state: nil,
                        wallMillis: serverWallMillis()))
            }
            let body = try JSONEncoder().encode(PushRequest(changes: changes))
            let started = ContinuousClock.now
            let push = try await client.post("/v1/push", headers: headers, body: ByteBuffer(bytes: body))
            stats.push.append(Self.millis(ContinuousClock.now - started))
            if push.status == .ok { stats.pushedChanges += changes.count } else { stats.errors += 1 }
            while ContinuousClock.now < deadline {
                let pullStarted = ContinuousClock.now
                let response = try await client.get("/v1/pull?after=\(cursor)&limit=1000", headers: headers)
                stats.pull.append(Self.millis(ContinuousClock.now - pullStarted))
                guard response.status == .ok, var buffer = response.body else {
                    stats.errors += 1
                    break
                }
                if response.headers[.contentEncoding] == "gzip" { buffer = try buffer.decompress(with: .gzip()) }
                let page = try JSONDecoder().decode(PullResponse.self, from: Data(buffer: buffer))
                stats.pulledChanges += page.changes.count
                cursor = page.nextCursor
                if !page.hasMore { break }
            }
        }
        return stats
    }

    static func millis(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    /// A `/proc/PID/status` field in KiB (Linux).
    static func memoryKiB(pid: Int32, key: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }
}
