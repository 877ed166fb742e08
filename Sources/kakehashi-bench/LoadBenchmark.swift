import Foundation
import KakehashiClient
import KakehashiServer
import KakehashiShared
import Logging

/// Many laptops against one server: `devices` devices, each syncing every five seconds (a visit
/// record of four changes pushed, then pulls until caught up, then the history of records gained
/// as states), against a real server process on a log of 100,000 and then of 1,000,000 changes.
/// Prints each request's p50 and p99, the server's CPU and peak memory at each size, next to the
/// goals (p99 under 100 ms; memory flat).
///
/// The devices are open-loop, as laptops are: each syncs on its own five-second tick whether or
/// not the server kept up, so a slow server shows as latency, not as fewer requests. They use the
/// laptop's own transport (libcurl, one kept-alive connection each, gzip pushes, binary pages) but
/// keep nothing: the server's work is what is measured, and the load generator shares its cores.
/// Each device's first sync, in which the server hands it the cases being visited, runs before the
/// measured period and is reported apart.
enum LoadBenchmark {
    static let goalP99Millis = 100.0
    static let interval = Duration.seconds(5)
    /// The directory's shape: one advisor per device, spread over the six programs; cases at
    /// every level, owned round-robin, each with a participant from another program.
    static let levels = ["open", "confidential", "confidential", "confidential", "strict", "secret"]

    static let timelinePath = ProcessInfo.processInfo.environment["KAKEHASHI_BENCH_TIMELINE"]

    struct Figures {
        var logChanges = 0
        var syncs = 0
        var push: [Double] = []
        var pull: [Double] = []
        /// History downloads (`GET /v1/history`) of the records gained as states.
        var history: [Double] = []
        var sync: [Double] = []
        var pulledChanges = 0
        /// States received in pulls (records gained, by devices that ask states).
        var pulledStates = 0
        /// Changes received in history downloads.
        var historyChanges = 0
        var failures: [String] = []
        var late = 0
        /// The first sync of each device, not in the figures above: all at once before the
        /// measured period, which took `firstSyncSeconds`.
        var warmUp: [Double] = []
        var firstSyncSeconds = 0.0
        /// The server's peak RSS when the first syncs had ended (`VmHWM`, which only rises): what
        /// the measured period added is `peakMiB` minus this.
        var firstSyncsPeakMiB = 0.0
        /// What the first syncs received in all: changes pulled, states pulled, history changes.
        var firstReceived = (changes: 0, states: 0, history: 0)
        /// Every request as a line `unix seconds at its start,push|pull|history,milliseconds,
        /// changes received`, a first sync's with `,first`; kept only when
        /// `KAKEHASHI_BENCH_TIMELINE` names a file to write them to, to see when slow requests come
        /// next to what else the machine did then.
        var timeline: [String] = []

        mutating func add(_ other: Figures) {
            syncs += other.syncs
            push += other.push
            pull += other.pull
            history += other.history
            sync += other.sync
            pulledChanges += other.pulledChanges
            pulledStates += other.pulledStates
            historyChanges += other.historyChanges
            failures += other.failures
            late += other.late
            warmUp += other.warmUp
            firstReceived.changes += other.firstReceived.changes
            firstReceived.states += other.firstReceived.states
            firstReceived.history += other.firstReceived.history
            timeline += other.timeline
        }
        mutating func note(_ kind: String, at start: Double, millis: Double, changes: Int = 0) {
            guard LoadBenchmark.timelinePath != nil else { return }
            timeline.append(String(format: "%.3f,%@,%.1f,%d", start, kind, millis, changes))
        }
        var serverCPU = 0.0
        var generatorCPU = 0.0
        var peakMiB = 0.0
        /// The server's own request durations, from its `/metrics`.
        var serverWithin100ms = ServerHistogram(metrics: "")
    }

    static func run(workspace: String, database: String?, devices: Int, seconds: Int) async throws {
        // Every device syncs at least once in the measured period.
        let least = Int(interval.components.seconds)
        guard seconds >= least, devices > 0 else {
            throw BenchmarkSkipped(reason: "load needs --seconds \(least) or more and --devices 1 or more")
        }
        let directory = workspace + "/load"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let location = try StoreLocation.resolve(
            option: database ?? "sqlite:" + directory + "/server.sqlite", environment: [:])
        print(
            "\nServer load: \(devices) devices, each syncing every \(interval.components.seconds) s (a visit record of 4 changes pushed, then pulls until caught up and the gained records' histories; one device in ten a client older than states), \(seconds) s per log size"
        )
        print("  log          syncs   push p50 / p99      pull p50 / p99      sync p99    server CPU   peak RSS")
        var log = LoadLog()
        var rounds: [Figures] = []
        for target in [100_000, 1_000_000] {
            let advisors = try await location.withStore(logger: Logger(label: "kakehashi-bench")) { store in
                try await log.grow(store, to: target, advisors: devices)
            }
            let figures = try await measure(
                location: location, directory: directory, advisors: advisors, log: log, seconds: seconds)
            rounds.append(figures)
            let (push, pull, sync) = (figures.push, figures.pull, figures.sync)
            print(
                String(
                    format: "  %9d   %6d   %6.1f / %6.1f ms   %6.1f / %6.1f ms   %6.1f ms   %5.0f %%      %5.0f MiB",
                    figures.logChanges, figures.syncs, percentile(push, 0.5), percentile(push, 0.99),
                    percentile(pull, 0.5), percentile(pull, 0.99), percentile(sync, 0.99),
                    figures.serverCPU / Double(seconds) * 100, figures.peakMiB))
            let histories =
                figures.history.isEmpty
                ? "no history downloads (nothing gained)"
                : String(
                    format: "%d history downloads, p50 %.1f / p99 %.1f ms", figures.history.count,
                    percentile(figures.history, 0.5), percentile(figures.history, 0.99))
            print(
                String(
                    format: "  (%.0f changes a pull; %@; load generator %.0f %% of a core)",
                    Double(figures.pulledChanges) / Double(max(1, figures.pull.count)), histories,
                    figures.generatorCPU / Double(seconds) * 100))
            print(
                String(
                    format:
                        "  (first syncs, all at once before, not counted: p50 %.0f / p99 %.0f ms, %.1f s in all; received %d changes, %d states, %d history changes; server peak RSS %.0f MiB when they ended)",
                    percentile(figures.warmUp, 0.5), percentile(figures.warmUp, 0.99), figures.firstSyncSeconds,
                    figures.firstReceived.changes, figures.firstReceived.states, figures.firstReceived.history,
                    figures.firstSyncsPeakMiB))
            print(
                String(
                    format: "  (measured inside the server: %.1f %% of pushes and %.1f %% of pulls took under 100 ms)",
                    figures.serverWithin100ms.share(path: "/v1/push") * 100,
                    figures.serverWithin100ms.share(path: "/v1/pull") * 100))
            if figures.late > 0 {
                print("  (\(figures.late) syncs started late: the previous sync of the same device was still running)")
            }
            for failure in Set(figures.failures).sorted() { print("  FAILED: \(failure)") }
            if let path = timelinePath {
                let lines = figures.timeline.sorted().joined(separator: "\n") + "\n"
                try Data(lines.utf8).write(to: URL(fileURLWithPath: "\(path).\(target)"))
            }
        }
        guard let last = rounds.last, let first = rounds.first else { return }
        let p99 = max(percentile(last.push, 0.99), percentile(last.pull, 0.99), percentile(last.history, 0.99))
        print(
            String(
                format: "  request p99 at %d changes: %.1f ms (goal < %.0f ms) — %@", last.logChanges, p99,
                goalP99Millis, p99 < goalP99Millis ? "met" : "NOT MET"))
        print(
            String(
                format: "  server peak RSS at %d / at %d changes: %.2f (goal flat, ≤ 1.2)", last.logChanges,
                first.logChanges, last.peakMiB / max(1, first.peakMiB)))
        if rounds.contains(where: { !$0.failures.isEmpty }) {
            throw BenchmarkSkipped(reason: "requests failed under load")
        }
    }

    /// One round: a fresh server process on the store, the devices enrolled, then `seconds` of
    /// open-loop syncs.
    static func measure(
        location: StoreLocation, directory: String, advisors: [LoadLog.Advisor], log: LoadLog, seconds: Int
    ) async throws -> Figures {
        let database: String =
            switch location {
            case .sqlite(let path): "sqlite:" + path
            case .postgres(let url): url
            }
        let server = BenchServer(directory: directory, database: database)
        try server.start()
        defer { server.stop() }
        // Every device starts at the head of the log, as a laptop that synced a moment ago.
        let head = PullCursor(seq: Int64(log.changes), generation: 0).description
        var laptops: [(device: LoadDevice, caseID: String)] = []
        for (index, advisor) in advisors.enumerated() {
            let device = try await LoadDevice.enroll(
                url: server.url, code: advisor.code, cursor: head, asksStates: !LoadDevice.isOlderClient(index))
            laptops.append((device, advisor.caseID))
        }
        // First syncs. A device enrolled here starts at the head of the log with nothing handed
        // out, so its first pull meets the cases being visited for the first time: the server
        // hands it each one it may see (as a state and then its history, or to an older client as
        // its history) and records it in its access bookkeeping, a write. A laptop that bootstrapped has all of them already. These first syncs run all
        // at once (a mass enrolment), to the end, before the measured period, and are reported
        // apart: with first syncs spread over the first interval, a device met the cases whose
        // visits started after its own first sync in its later syncs, and those back-fills
        // queued in the writer for seconds were counted as the steady state's tail. Then each
        // device pulls what the others pushed meanwhile, so the measured period starts with every
        // device at the head of the log, as laptops that synced a moment ago.
        let firstStart = ContinuousClock.now
        let firstSyncs = await withTaskGroup(of: LoadBenchmark.Figures.self) { group in
            for laptop in laptops {
                group.addTask {
                    var generator = SystemRandomNumberGenerator()
                    var first = LoadBenchmark.Figures()
                    let started = ContinuousClock.now
                    await laptop.device.sync(caseID: laptop.caseID, generator: &generator, into: &first)
                    first.warmUp = [millis(ContinuousClock.now - started)]
                    first.timeline = first.timeline.map { $0 + ",first" }
                    return first
                }
            }
            var total = LoadBenchmark.Figures()
            for await figures in group {
                total.warmUp += figures.warmUp
                total.timeline += figures.timeline
                total.failures += figures.failures
                total.firstReceived.changes += figures.pulledChanges
                total.firstReceived.states += figures.pulledStates
                total.firstReceived.history += figures.historyChanges
            }
            return total
        }
        let firstSeconds = millis(ContinuousClock.now - firstStart) / 1000
        let firstSyncsPeak = server.peakMemoryMiB
        let caughtUp = await withTaskGroup(of: [String].self) { group in
            for laptop in laptops {
                group.addTask {
                    var pulls = LoadBenchmark.Figures()
                    await laptop.device.pullUntilCaughtUp(into: &pulls)
                    return pulls.failures
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        let histogramBefore = ServerHistogram(metrics: try server.metrics())
        let cpuBefore = server.cpuSeconds
        let generatorBefore = processCPUSeconds()
        let start = ContinuousClock.now
        let count = laptops.count
        let results = try await withThrowingTaskGroup(of: Figures.self) { group in
            for (index, laptop) in laptops.enumerated() {
                // Spread over the interval, as laptops that woke up at different times.
                let offset = interval * index / count
                group.addTask {
                    await laptop.device.syncEvery(
                        interval, from: start + offset, until: start + .seconds(seconds), caseID: laptop.caseID)
                }
            }
            var total = firstSyncs
            total.failures += caughtUp
            for try await figures in group { total.add(figures) }
            return total
        }
        var figures = results
        figures.firstSyncSeconds = firstSeconds
        figures.firstSyncsPeakMiB = firstSyncsPeak
        figures.serverWithin100ms = ServerHistogram(metrics: try server.metrics()).since(histogramBefore)
        figures.logChanges = log.changes
        figures.serverCPU = server.cpuSeconds - cpuBefore
        figures.generatorCPU = processCPUSeconds() - generatorBefore
        figures.peakMiB = server.peakMemoryMiB
        return figures
    }
}

/// One simulated laptop: the real transport, a cursor, and the clock of its own changes.
///
/// A device that `asksStates` pulls as today's laptops do (`states=1`): records it gains access to
/// arrive as their current states, and it then downloads their history (`GET /v1/history`, pages
/// of `WireProtocol.maxPullLimit`) in the same sync, as `SyncEngine` does after its pulls (all of
/// it; a laptop stops at 40 pages a sync and goes on in the next). One device in ten pulls as a
/// client older than states, which receives gained records' histories as changes in the pull
/// itself.
final class LoadDevice: @unchecked Sendable {
    let transport: CurlTransport
    let token: String
    let asksStates: Bool
    var cursor: String
    var maker: ChangeMaker

    init(transport: CurlTransport, enrolled: EnrollResponse, cursor: String, asksStates: Bool) {
        self.transport = transport
        token = enrolled.token
        self.cursor = cursor
        self.asksStates = asksStates
        maker = ChangeMaker(clock: HybridClock(device: enrolled.device), author: enrolled.advisor)
    }

    /// Whether the `index`th device pulls as a client older than states (one in ten).
    static func isOlderClient(_ index: Int) -> Bool { index % 10 == 9 }

    static func enroll(url: String, code: String, cursor: String, asksStates: Bool) async throws -> LoadDevice {
        var transport = CurlTransport(baseURL: url)
        // A failed request is counted, not retried: a retry would hide the latency it measures.
        transport.retry = RetryPolicy(attempts: 1)
        let enrolled = try await transport.enroll(EnrollRequest(code: code, deviceName: "load")).value
        return LoadDevice(transport: transport, enrolled: enrolled, cursor: cursor, asksStates: asksStates)
    }

    /// Syncs on every tick from `first` until `end`; a sync that starts after its tick (the
    /// previous one ran long) is counted as late.
    func syncEvery(
        _ interval: Duration, from first: ContinuousClock.Instant, until end: ContinuousClock.Instant, caseID: String
    ) async -> LoadBenchmark.Figures {
        var figures = LoadBenchmark.Figures()
        var tick = first
        var generator = SystemRandomNumberGenerator()
        while tick < end {
            try? await Task.sleep(until: tick, clock: .continuous)
            if ContinuousClock.now - tick > .milliseconds(500) { figures.late += 1 }
            let started = ContinuousClock.now
            var counted = LoadBenchmark.Figures()
            await sync(caseID: caseID, generator: &generator, into: &counted)
            counted.sync.append(millis(ContinuousClock.now - started))
            counted.syncs = 1
            figures.add(counted)
            tick += interval
        }
        return figures
    }

    /// A visit record on the advisor's own case, pushed; then pulls until caught up.
    func sync(
        caseID: String, generator: inout SystemRandomNumberGenerator, into figures: inout LoadBenchmark.Figures
    ) async {
        let wall = now()
        let event = RecordID.uuidV7(unixMillis: wall, using: &generator)
        let values: [(String, String)] = [
            ("case", caseID), ("kind", "visit"), ("date", "2026-12-03"),
            ("body", "試作品の評価結果を確認した。次回は量産化の条件を打合せる。"),
        ]
        let changes = values.map { field, value in
            maker.make(
                .set, entity: .event, record: event, field: field, value: .string(value), state: nil, wallMillis: wall)
        }
        let started = ContinuousClock.now
        let startedAt = Date().timeIntervalSince1970
        do {
            let answer = try await transport.push(PushRequest(changes: changes), token: token, gzip: true).value
            if let refused = answer.results.first(where: { $0.status != .accepted }) {
                figures.failures.append("push refused: \(refused.reason ?? refused.status.rawValue)")
            }
        } catch {
            figures.failures.append("push: \(error)")
        }
        figures.push.append(millis(ContinuousClock.now - started))
        figures.note("push", at: startedAt, millis: figures.push.last ?? 0)
        await pullUntilCaughtUp(into: &figures)
    }

    /// Pulls pages until the last one (`hasMore` false), then downloads the history of every
    /// record gained as a state.
    func pullUntilCaughtUp(into figures: inout LoadBenchmark.Figures) async {
        var histories: [String] = []
        while true {
            let started = ContinuousClock.now
            let startedAt = Date().timeIntervalSince1970
            do {
                let page = try await transport.pull(
                    after: cursor, acknowledged: cursor, states: asksStates, limit: WireProtocol.defaultPullLimit,
                    token: token
                ).value
                figures.pull.append(millis(ContinuousClock.now - started))
                figures.note("pull", at: startedAt, millis: figures.pull.last ?? 0, changes: page.changes.count)
                figures.pulledChanges += page.changes.count
                figures.pulledStates += page.states?.count ?? 0
                histories += (page.gained ?? []).map(\.history)
                cursor = page.nextCursor
                if !page.hasMore { break }
            } catch {
                figures.failures.append("pull: \(error)")
                return
            }
        }
        for history in histories { await download(history: history, into: &figures) }
    }

    /// Downloads one gained record's history, page by page.
    func download(history: String, into figures: inout LoadBenchmark.Figures) async {
        var cursor = history
        while true {
            let started = ContinuousClock.now
            let startedAt = Date().timeIntervalSince1970
            do {
                let page = try await transport.history(after: cursor, limit: WireProtocol.maxPullLimit, token: token)
                    .value
                figures.history.append(millis(ContinuousClock.now - started))
                figures.note("history", at: startedAt, millis: figures.history.last ?? 0, changes: page.changes.count)
                figures.historyChanges += page.changes.count
                cursor = page.nextCursor
                if !page.hasMore { return }
            } catch {
                figures.failures.append("history: \(error)")
                return
            }
        }
    }
}

/// The share of requests the server itself answered within 100 ms, by path: its
/// `kakehashi_http_request_duration_seconds` histogram, which starts when a request's head has
/// been read and ends when the answer is ready. Next to what the devices measured, it tells the
/// server's time from the time a request waited for a core or on the wire.
struct ServerHistogram {
    private var within: [String: Double] = [:]
    private var total: [String: Double] = [:]

    init(metrics: String) {
        for line in metrics.split(separator: "\n") where line.hasPrefix("kakehashi_http_request_duration_seconds") {
            guard let path = line.split(separator: "path=\"").dropFirst().first?.split(separator: "\"").first,
                let value = line.split(separator: " ").last.flatMap({ Double($0) })
            else { continue }
            if line.contains("_bucket{") && line.contains("le=\"0.1\"") { within[String(path)] = value }
            if line.hasPrefix("kakehashi_http_request_duration_seconds_count") { total[String(path)] = value }
        }
    }

    func share(path: String) -> Double { (within[path] ?? 0) / max(1, total[path] ?? 0) }

    /// The requests counted since `earlier` (the same server's histogram read before).
    func since(_ earlier: ServerHistogram) -> ServerHistogram {
        var difference = self
        for (path, count) in earlier.within { difference.within[path, default: 0] -= count }
        for (path, count) in earlier.total { difference.total[path, default: 0] -= count }
        return difference
    }
}

/// The CPU seconds this process has used (user and system).
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// `VmHWM` of a running process (the kernel's high-water mark of its own resident memory) in
/// KiB; 0 once it is gone.
func highWaterKiB(of pid: pid_t) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
    else { return 0 }
    return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0
}

func millis(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

/// The server's log for the load benchmark, grown in place from one size to the next: the
/// directory (one advisor per device), then cases at every level with an organization, a
/// participant from another program and three visit records each, written through the store's
/// own append as admin writes are.
struct LoadLog {
    struct Advisor {
        let id: String
        let program: String
        /// A case the advisor owns, where its device records visits.
        var caseID = ""
        /// A fresh enrollment code for this round.
        var code = ""
    }

    private(set) var changes = 0
    private var advisors: [Advisor] = []
    private var cases = 0
    /// The writer's clock and counter, kept across sizes so a later size's changes have ids of
    /// their own.
    private var clock = HybridClock(device: DeviceID("bench-seed")!)
    private var counter: Int64 = 0

    /// Appends until the log holds `target` changes; returns the advisors with a fresh code each.
    mutating func grow(_ store: any ChangeLogStore, to target: Int, advisors count: Int) async throws -> [Advisor] {
        let admin = AdminService(store: store)
        if advisors.isEmpty {
            try await admin.seedProgramsIfEmpty()
            let programs = AdminService.initialPrograms.map(\.id)
            for index in 0..<count {
                let program = programs[index % programs.count]
                let id = try await admin.addAdvisor(
                    name: "支援人材\(index)", role: "coordinator", program: program, prefecture: nil, contact: nil)
                advisors.append(Advisor(id: id, program: program))
            }
        }
        var maker = ChangeMaker(clock: clock, counter: counter, author: advisors[0].id)
        defer { (clock, counter) = (maker.clock, maker.counter) }
        var generator = SystemRandomNumberGenerator()
        var batch: [Change] = []
        var written = try await store.changeCount()
        func add(
            _ entity: Entity, _ record: String, _ field: String, _ value: String, op: Change.Operation = .set
        )
            async throws
        {
            batch.append(
                maker.make(
                    op, entity: entity, record: record, field: field, value: .string(value), state: nil,
                    wallMillis: now()))
            if batch.count == 1_000 {
                try await append(batch, to: store)
                written += batch.count
                batch = []
            }
        }
        while written + batch.count < target {
            cases += 1
            let ownerIndex = cases % advisors.count
            let owner = advisors[ownerIndex]
            let organization = RecordID.uuidV7(unixMillis: now(), using: &generator)
            try await add(.organization, organization, "name", "株式会社試作\(cases)製作所")
            try await add(.organization, organization, "kind", "sme")
            let caseID = RecordID.uuidV7(unixMillis: now(), using: &generator)
            try await add(.case, caseID, "owner", owner.id)
            try await add(.case, caseID, "program", owner.program)
            try await add(.case, caseID, "title", "精密加工技術の試作マッチング \(cases)")
            try await add(.case, caseID, "summary", String(repeating: "試作評価と量産化の検討。", count: 8))
            try await add(.case, caseID, "kind", "ip-business-matching")
            try await add(.case, caseID, "level", LoadBenchmark.levels[cases % LoadBenchmark.levels.count])
            try await add(.case, caseID, "organizations", organization, op: .add)
            try await add(.case, caseID, "participants", advisors[(cases * 7) % advisors.count].id, op: .add)
            for step in 0..<3 {
                let event = RecordID.uuidV7(unixMillis: now(), using: &generator)
                try await add(.event, event, "case", caseID)
                try await add(.event, event, "kind", "visit")
                try await add(.event, event, "date", "2026-0\(step + 4)-1\(step)")
                try await add(.event, event, "body", "川崎市産業振興財団の紹介で訪問。試作条件を確認した（\(step)）。")
            }
            try await add(.case, caseID, "stage", "prototyping")
            // Each size's devices visit the newest case their advisor owns, one this growth made:
            // the cases visited at every size have histories of the same shape. Visiting the same
            // cases again, a device's first sync at 1M back-filled the 100k round's visits too
            // (2.4 times the changes a first pull), which measured the benchmark's own history
            // growing, not the log.
            advisors[ownerIndex].caseID = caseID
        }
        if !batch.isEmpty { try await append(batch, to: store) }
        changes = try await store.changeCount()
        for index in advisors.indices {
            advisors[index].code = try await admin.enroll(advisor: advisors[index].id, ttlSeconds: 3_600)
        }
        return advisors
    }
}

/// Appends `batch` through the store's own append, as a push does without HTTP (at `wallMillis`,
/// by default the last change's time); a refused change stops the benchmark, since its figures
/// would describe another log.
func append(_ batch: [Change], to store: any ChangeLogStore, wallMillis: Int64? = nil) async throws {
    let results = try await store.append(
        batch, viewer: nil, wallMillis: wallMillis ?? batch.last?.hlc.millis ?? now(), onlyIfEmpty: false)
    if let refused = results.first(where: { $0.status == .rejected }) {
        throw BenchmarkSkipped(reason: "the store refused a change: \(refused.reason ?? "")")
    }
}
