import Foundation
import GRDB
import KakehashiClient
import KakehashiShared
import KakehashiTestSupport
import Testing

/// Three laptops (real `kakehashi` processes, separate homes) edit offline at random and sync
/// through a proxy that delays, drops, cuts and resets connections and loses answers; one laptop's
/// clock is hours wrong; laptops and the server are killed with SIGKILL at random moments. Once the
/// network is healthy again and everyone has synced, every laptop and the server hold the same
/// changes, each exactly once, and the laptops hold byte-identical records.
///
/// Seeded; the seed is printed first. Replay with `KAKEHASHI_CHAOS_SEED=<seed>`; the number of
/// random steps is `KAKEHASHI_CHAOS_STEPS` (`make test`: 200, `make soak`: 2,000).
@Suite struct ChaosTests {
    static let environment = ProcessInfo.processInfo.environment
    static let steps = environment["KAKEHASHI_CHAOS_STEPS"].flatMap(Int.init) ?? 200
    static let skewVariable = "KAKEHASHI_TEST_CLOCK_SKEW_SECONDS"
    static let subjects = ["精密加工", "表面処理", "医療機器", "農業IoT", "開放特許", "食品加工", "半導体検査"]
    static let kinds = ["ip-business-matching", "industry-academia", "ip-strategy", "venture", "consultation"]
    static let stages = ["discovery", "matching", "prototyping", "contract", "funding", "launch"]

    /// What the test did, for the message printed at the end and in failures.
    struct Tally: CustomStringConvertible {
        var writes = 0
        var syncs = 0
        var failedSyncs = 0
        var killedSyncs = 0
        var killedWrites = 0
        var serverKills = 0
        var description: String {
            "\(writes) writes, \(syncs) syncs (\(failedSyncs) failed), \(killedSyncs) syncs and \(killedWrites) writes killed, server killed \(serverKills)×"
        }
    }

    /// A `kakehashi` process started in the background.
    func start(_ laptop: Laptop, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = try TestBinaries.url("kakehashi")
        process.arguments = arguments + ["--home", laptop.home.path]
        var environment = Self.environment
        environment.merge(laptop.environment) { $1 }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The case ids a laptop lists.
    func cases(on laptop: Laptop) throws -> [String] {
        let list = try #require(try laptop.json(["case", "list"]) as? [[String: Any]])
        return list.compactMap { $0["id"] as? String }
    }

    /// Rows of `sql` in a laptop's or the server's SQLite file, each row's columns joined by `|`.
    func rows(_ path: String, _ sql: String) throws -> [String] {
        try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: sql).map { row in
                row.databaseValues.map { value -> String in
                    switch value.storage {
                    case .blob(let data): data.base64EncodedString()
                    case .string(let text): text
                    default: value.description
                    }
                }.joined(separator: "|")
            }
        }
    }

    /// Where the log lives: one server on SQLite, or two server processes sharing one PostgreSQL
    /// database behind the proxy (half the steps: each step costs more there).
    enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case sqlite
        case postgresTwoServers

        var testDescription: String { rawValue }
        static var available: [Backend] { TestPostgres.url == nil ? [.sqlite] : allCases }
        var steps: Int { self == .sqlite ? ChaosTests.steps : max(1, ChaosTests.steps / 2) }
    }

    /// The change ids the server's log holds.
    func serverChanges(_ backend: Backend, _ server: ServerProcess) throws -> [String] {
        switch backend {
        case .sqlite: try rows(server.directory.path + "/server.sqlite", "SELECT change_id FROM changes")
        case .postgresTwoServers: try TestPostgres.query(server.database, "SELECT change_id FROM changes")
        }
    }

    @Test(arguments: Backend.available)
    func threeLaptopsConvergeThroughNetworkFaultsClockSkewAndKills(backend: Backend) async throws {
        let seed = Self.environment["KAKEHASHI_CHAOS_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        let steps = backend.steps
        print("chaos seed \(seed) (replay: KAKEHASHI_CHAOS_SEED=\(seed)), \(steps) steps on \(backend.rawValue)")
        var random = SplitMix64(seed: seed)
        let database = backend == .sqlite ? nil : try TestPostgres.freshDatabase()
        var servers = [ServerProcess(database: database)]
        if backend == .postgresTwoServers { servers.append(ServerProcess(database: database)) }
        for server in servers { try await server.start() }
        let server = servers[0]
        let proxy = try FaultProxy(upstreamPort: server.port, seed: random.next())
        proxy.upstreamPorts = servers.map(\.port)
        let skew = (Bool.random(using: &random) ? 1 : -1) * Int.random(in: 2...9, using: &random) * 3600
        var laptops: [Laptop] = []
        for (index, name) in ["佐藤花子", "鈴木一郎", "高橋美咲"].enumerated() {
            let environment = index == 2 ? [Self.skewVariable: String(skew)] : [:]
            laptops.append(try Laptop.enroll(server, name, via: proxy.url, environment: environment))
        }
        var known = [[String]](repeating: [], count: laptops.count)  // case ids each laptop can edit
        var owned = [[String]](repeating: [], count: laptops.count)  // case ids each laptop owns (may delete)
        var created: [String] = []  // ids of cases whose `case add` succeeded
        var tally = Tally()
        proxy.faultRate = 0.35

        for step in 0..<steps {
            let which = Int.random(in: 0..<laptops.count, using: &random)
            let laptop = laptops[which]
            let subject = Self.subjects.randomElement(using: &random) ?? "試作"
            let target = known[which].randomElement(using: &random)
            let roll = Int.random(in: 0..<100, using: &random)
            switch roll {
            case 0..<25:
                let kind = Self.kinds.randomElement(using: &random) ?? "venture"
                let level = Bool.random(using: &random) ? "open" : "confidential"
                let id = try laptop.check([
                    "case", "add", "--title", "\(subject)の事業化支援 第\(step)号", "--kind", kind, "--level", level,
                    "--summary", "\(subject)について大学のシーズと中小企業のニーズを照合する", "--tag", subject,
                ]).output
                known[which].append(id)
                owned[which].append(id)
                created.append(id)
                tally.writes += 1
            case 25..<40 where target != nil:
                let field = Bool.random(using: &random) ? "title" : "summary"
                try laptop.check(["case", "set", target!, "\(field)=\(subject)の件（\(step)回目の更新）"])
                tally.writes += 1
            case 40..<50 where target != nil:
                try laptop.check(["case", "stage", target!, Self.stages.randomElement(using: &random) ?? "matching"])
                tally.writes += 1
            case 50..<62 where target != nil:
                try laptop.check(["event", "add", target!, "--kind", "visit", "--body", "\(subject)の現場を訪問（\(step)）"])
                tally.writes += 1
            case 62..<64 where owned[which].contains(where: known[which].contains):
                // Only a case's owner deletes it.
                let victim = owned[which].filter(known[which].contains).randomElement(using: &random)!
                try laptop.check(["case", "delete", victim])
                known[which].removeAll { $0 == victim }
                tally.writes += 1
            case 64..<66:
                // A write killed at a random moment either happened or did not; nothing half-done.
                let process = try start(laptop, ["org", "add", "--name", "株式会社\(subject)研究所", "--kind", "sme"])
                usleep(UInt32.random(in: 0...150_000, using: &random))
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    tally.killedWrites += 1
                }
                process.waitUntilExit()
            case 66..<84:
                let result = try laptop.run(["sync"])
                tally.syncs += 1
                #expect([0, 69].contains(result.status), "seed \(seed), step \(step): \(result)")
                if result.status != 0 { tally.failedSyncs += 1 }
                known[which] = try cases(on: laptop)
            case 84..<94:
                let process = try start(laptop, ["sync"])
                usleep(UInt32.random(in: 5_000...400_000, using: &random))
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    tally.killedSyncs += 1
                }
                process.waitUntilExit()
                known[which] = try cases(on: laptop)
            case 94..<100:
                // A server dies in the middle of a laptop's sync and comes back on a new port.
                let process = try start(laptop, ["sync"])
                usleep(UInt32.random(in: 0...400_000, using: &random))
                let victim = servers[Int.random(in: 0..<servers.count, using: &random)]
                victim.kill9()
                tally.serverKills += 1
                try await victim.start()
                proxy.upstreamPorts = servers.map(\.port)
                process.waitUntilExit()
                #expect(
                    process.terminationReason == .exit && [0, 69].contains(process.terminationStatus),
                    "seed \(seed), step \(step): sync ended with \(process.terminationStatus)")
                known[which] = try cases(on: laptop)
            default:
                break
            }
        }

        // The network heals; two rounds of syncs bring every laptop up to date.
        proxy.faultRate = 0
        for _ in 0..<2 {
            for laptop in laptops { try laptop.check(["sync"]) }
        }
        print("chaos seed \(seed): \(tally); faults injected: \(proxy.faultsInjected)")

        let serverChanges = try serverChanges(backend, server)
        #expect(Set(serverChanges).count == serverChanges.count, "seed \(seed): a change is in the log twice")
        var states: [[String]] = []
        var lists: [String] = []
        for (index, laptop) in laptops.enumerated() {
            let status = try #require(try laptop.json(["status"]) as? [String: Any])
            #expect(status["pending"] as? Int == 0, "seed \(seed), laptop \(index): changes left unsent")
            let rejected = status["rejected"] as? [[String: Any]] ?? []
            #expect(
                rejected.isEmpty,
                "seed \(seed), laptop \(index): \(rejected.count) rejected, e.g. \(rejected.first ?? [:])")
            let store = laptop.home.path + "/" + LocalStore.fileName
            let changes = try rows(store, "SELECT \(LaptopStoreSQL.changeID) FROM changes")
            let missing = Set(serverChanges).subtracting(changes)
            let unknown = Set(changes).subtracting(serverChanges)
            #expect(
                missing.isEmpty && unknown.isEmpty,
                "seed \(seed), laptop \(index): \(missing.count) accepted changes missing (e.g. \(missing.first ?? "")), \(unknown.count) the server never accepted (e.g. \(unknown.first ?? ""))"
            )
            states.append(try rows(store, "SELECT entity, id, state FROM record_states ORDER BY entity, id"))
            lists.append(try laptop.check(["case", "list", "--json"]).output)
            let listed = Set(try rows(store, "SELECT id FROM record_states WHERE entity = 'case'"))
            let lost = created.filter { !listed.contains($0) }
            #expect(lost.isEmpty, "seed \(seed), laptop \(index): created cases missing: \(lost)")
        }
        #expect(states.allSatisfy { $0 == states[0] }, "seed \(seed): the laptops' record states differ")
        #expect(lists.allSatisfy { $0 == lists[0] }, "seed \(seed): the laptops list different cases")
        #expect(tally.writes > 0 && tally.syncs > 0, "seed \(seed): the run exercised nothing")
    }
}
