import Foundation
import GRDB
import KakehashiClient
import KakehashiShared
import KakehashiTestSupport
import Testing

/// `kill -9` of the field client at random moments of a large sync: once a sync finally
/// completes, every change is present exactly once, with the content it was written with.
///
/// Seeded; replay with `KAKEHASHI_E2E_SEED=<seed>`.
@Suite struct CrashSafetyTests {
    static let caseCount = 2_000  // × ~11 changes each ≥ 20,000 changes

    /// (id, entity, record, field, op, value, hlc) of every case change in a store, sorted.
    func caseChanges(in home: String) throws -> [[String]] {
        let queue = try DatabaseQueue(path: home + "/" + LocalStore.fileName)
        return try queue.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(LaptopStoreSQL.changeID), entity, \(LaptopStoreSQL.record), field, op, value,
                        \(LaptopStoreSQL.hlc)
                    FROM changes WHERE entity = 'case' ORDER BY 1
                    """
            ).map { row in (0..<7).map { (row[$0] as String?) ?? "" } }
        }
    }

    /// Starts `kakehashi sync`, kills it with SIGKILL a few times over. Without `stored`, each kill
    /// comes after a random pause. With it (what the laptop's store holds, counted), each kill
    /// comes a random moment after that count first moves — inside the transfer however fast this
    /// machine runs it: a bootstrap from states is over in a fraction of the pauses. A sync that
    /// ends first is not counted.
    func interruptedSyncs(
        _ laptop: Laptop, rounds: Int, using random: inout SplitMix64, stored: ((Database) throws -> Int)? = nil
    ) throws -> Int {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let probe = try stored.map { _ in
            try DatabaseQueue(path: laptop.home.path + "/" + LocalStore.fileName, configuration: configuration)
        }
        var killed = 0
        for _ in 0..<rounds {
            let before = try stored.flatMap { count in try probe?.read(count) }
            let process = Process()
            process.executableURL = try TestBinaries.url("kakehashi")
            process.arguments = ["sync", "--home", laptop.home.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if let stored, let probe {
                let deadline = Date().addingTimeInterval(30)
                while process.isRunning, Date() < deadline, try probe.read(stored) == before {
                    usleep(2_000)
                }
                usleep(UInt32.random(in: 0...30_000, using: &random))
            } else {
                usleep(UInt32.random(in: 100_000...1_500_000, using: &random))
            }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            }
            process.waitUntilExit()
        }
        return killed
    }

    @Test func killingTheClientDuringASyncOf20000ChangesLosesAndDuplicatesNothing() async throws {
        let seed =
            ProcessInfo.processInfo.environment["KAKEHASHI_E2E_SEED"].flatMap(UInt64.init)
            ?? UInt64.random(in: 1...UInt64.max)
        var random = SplitMix64(seed: seed)
        let server = ServerProcess()
        try await server.start()
        let writer = try Laptop.enroll(server, "伊藤健")
        let reader = try Laptop.enroll(server, "渡辺真理")  // before the push, so its pulls are large

        // Write the cases through the client library, straight into the laptop's store.
        let client = try FieldClient.open(directory: writer.home.path)
        let subjects = ["精密加工", "表面処理", "医療機器", "農業IoT", "開放特許"]
        for index in 0..<Self.caseCount {
            let subject = subjects[index % subjects.count]
            _ = try client.create(
                .case,
                RecordInput(
                    values: [
                        "title": "\(subject)の事業化支援 \(index)", "summary": "第\(index)号案件：\(subject)の試作と評価",
                        "kind": "venture",
                    ],
                    sets: ["tags": [subject, "試作"]]))
        }
        let written = try caseChanges(in: writer.home.path)
        #expect(written.count >= 20_000)

        // The writer's changes still waiting to be pushed.
        let killedPushes = try interruptedSyncs(writer, rounds: 4, using: &random) { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM changes WHERE status = ?", arguments: [ChangeStatus.pending.rawValue])
                ?? 0
        }
        #expect(killedPushes > 0, "seed \(seed): no push was interrupted; the test proved nothing")
        try writer.check(["sync"])
        let status = try #require(try writer.json(["status"]) as? [String: Any])
        #expect(status["pending"] as? Int == 0, "seed \(seed)")
        let rejected = status["rejected"] as? [[String: Any]] ?? []
        #expect(
            rejected.isEmpty, "seed \(seed): \(rejected.count) rejected, first: \(rejected.first.map { "\($0)" } ?? "")"
        )

        // The states the reader holds, and the changes of the history that follows them.
        let killedPulls = try interruptedSyncs(reader, rounds: 4, using: &random) { db in
            try Int.fetchOne(db, sql: "SELECT (SELECT count(*) FROM record_states) + (SELECT count(*) FROM changes)")
                ?? 0
        }
        #expect(killedPulls > 0, "seed \(seed): no pull was interrupted; the test proved nothing")
        try reader.check(["sync"])
        let received = try caseChanges(in: reader.home.path)
        #expect(received.count == written.count, "seed \(seed): \(received.count) of \(written.count) changes")
        let missing = Set(written.map { $0.joined(separator: "|") }).subtracting(
            received.map { $0.joined(separator: "|") })
        #expect(
            missing.isEmpty, "seed \(seed): \(missing.count) changes missing or different, e.g. \(missing.first ?? "")")
        let sameList =
            try reader.check(["case", "list", "--json"]).output == writer.check(["case", "list", "--json"]).output
        #expect(sameList, "seed \(seed): the case lists differ")
        print("crash-safety seed \(seed): killed \(killedPushes) pushes and \(killedPulls) pulls mid-sync")
    }
}
