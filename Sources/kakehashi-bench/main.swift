import Foundation
import GRDB
import KakehashiClient
import KakehashiShared

// kakehashi-bench [--changes N] [--events N] [--runs N] [--records N] [--merge-updates N]
//                 [--devices N] [--seconds N]
//                 [--only client,merge,sync,push,bootstrap,wrk,rural,growth,laptop,matching,export,load] [--db URL]
//
// Every figure is printed next to a limit measured in the same run on the same machine:
// 1. client: pull-apply of N changes (binary pages of 1,000 as a server sends them, decoded and
//    merged, each page in one transaction with its cursor; and JSON pages, as an older server
//    sends them) next to SQLite's raw transactional insert of N equivalent rows; then query
//    latency on a laptop holding N events.
// 2. merge: the shared engine's merge next to pycrdt (Yrs) on the same logical workload.
// 3. sync: laptop → real server process → laptop over loopback, next to plain HTTP moving the
//    same bytes; the second laptop's initial sync (seconds, bytes); pull latency and server memory.
// 4. push: one laptop pushing N changes (`--records`) through a real server process over
//    loopback, next to SQLite inserting the same rows into a log table in one transaction.
// 5. bootstrap: a new laptop's first sync from states on a log of N records, until search answers,
//    next to loading the same final rows into a fresh SQLite file; then its history, and a replay.
//    wrk: caught-up pulls (a laptop at the head of that log) under `wrk`, next to the same server's
//    /v1/health. rural: the same bootstrap over TLS and an emulated link of 100 ms round trip,
//    10 Mbit/s and 1 % loss, next to the bytes it carried at 10 Mbit/s.
// 6. growth: how pull latency, server memory, laptop store size and `case list` grow with size.
// 7. matching: precision@3 of `match` on the hand-written evaluation set (Tests/Fixtures/matching).
// 8. export: peak RSS of `kakehashi-server export` on logs of 100k and 1M changes, and their ratio.
// 9. load: `--devices` devices each syncing every 5 s against a real server on a log of 100k and
//    then 1M changes, for `--seconds` each: request p50/p99 next to the goal (100 ms), server CPU,
//    and peak RSS at both sizes (goal flat). Each device's first sync runs before, apart.
//    `KAKEHASHI_BENCH_TIMELINE=PATH` writes every request to PATH.100000 and PATH.1000000.
struct Arguments {
    var changes = 100_000
    var events = 100_000
    var runs = 20
    var records = 100_000
    var mergeUpdates = 100_000
    var only: Set<String> = [
        "client", "merge", "sync", "push", "bootstrap", "wrk", "rural", "growth", "laptop", "matching", "export",
        "load",
    ]
    var database: String?
    var devices = 200
    var seconds = 60

    init() {
        var iterator = CommandLine.arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            let text = iterator.next()
            let value = text.flatMap(Int.init)
            switch (flag, value) {
            case ("--changes", let number?): changes = number
            case ("--events", let number?): events = number
            case ("--runs", let number?): runs = number
            case ("--records", let number?): records = number
            case ("--merge-updates", let number?): mergeUpdates = number
            case ("--devices", let number?): devices = number
            case ("--seconds", let number?): seconds = number
            case ("--only", _) where text != nil: only = Set((text ?? "").split(separator: ",").map(String.init))
            case ("--db", _) where text != nil: database = text
            default:
                StandardStreams.error(
                    "usage: kakehashi-bench [--changes N] [--events N] [--runs N] [--records N] [--merge-updates N] [--devices N] [--seconds N] [--only client,merge,sync,push,bootstrap,wrk,rural,growth,laptop,matching,export,load] [--db URL]\n"
                )
                exit(64)
            }
        }
    }
}

/// Serves pre-built pull pages, binary or JSON, so the benchmark includes decoding but no network.
struct PagedTransport: SyncTransport {
    let pages: [Data]
    let form: PageForm
    let advisor: String

    func enroll(_ request: EnrollRequest) async throws(TransportFailure) -> Transferred<EnrollResponse> {
        Transferred(
            EnrollResponse(device: DeviceID("bench-laptop")!, token: "bench", advisor: advisor, serverTime: now()),
            bytes: 0)
    }

    func push(_ request: PushRequest, token: String) async throws(TransportFailure) -> Transferred<PushResponse> {
        Transferred(PushResponse(results: [], serverTime: now()), bytes: 0)
    }

    func pull(
        after cursor: String, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<PullResponse> {
        let index = Int(cursor) ?? 0
        guard index < pages.count else {
            return Transferred(
                PullResponse(changes: [], purges: [], nextCursor: cursor, hasMore: false, serverTime: now()), bytes: 0)
        }
        do {
            let page =
                switch form {
                case .binary: try BinaryPage.pullResponse(from: [UInt8](pages[index]))
                case .json: try JSONDecoder().decode(PullResponse.self, from: pages[index])
                }
            return Transferred(page, bytes: pages[index].count)
        } catch {
            throw .undecodable("\(error)")
        }
    }
}

func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// A realistic change log: open cases, then activity records on them, written by `advisor` on
/// `device`, in the order a laptop writes them (a case's `owner` first, an event's `case` first).
func makeLog(
    cases: Int, events: Int, advisor: String, device: DeviceID = DeviceID("bench-server")!
) -> [Change] {
    var maker = ChangeMaker(clock: HybridClock(device: device), author: advisor)
    var generator = SystemRandomNumberGenerator()
    var log: [Change] = []
    let start = now() - 86_400_000
    func set(_ entity: Entity, _ id: String, _ field: String, _ value: FieldValue, _ op: Change.Operation = .set) {
        log.append(
            maker.make(
                op, entity: entity, record: id, field: field, value: value, state: nil,
                wallMillis: start + Int64(log.count)))
    }
    let subjects = ["精密加工", "表面処理", "センサ", "試作評価", "知財戦略", "開放特許", "医療機器", "農業IoT"]
    var caseIDs: [String] = []
    for index in 0..<cases {
        let id = RecordID.uuidV7(unixMillis: start + Int64(index), using: &generator)
        caseIDs.append(id)
        let subject = subjects[index % subjects.count]
        set(.case, id, "owner", .string(advisor))
        set(.case, id, "program", .string("business-production"))
        set(.case, id, "title", .string("\(subject)の事業化支援 その\(index)"))
        set(.case, id, "summary", .string("中小企業の\(subject)技術と大学のシーズをマッチングし、試作から契約までを支援する。"))
        set(.case, id, "kind", .string("ip-business-matching"))
        set(.case, id, "stage", .string(["intake", "matching", "prototyping", "contract"][index % 4]))
        set(.case, id, "level", .string("open"))
        set(.case, id, "tags", .string(subject), .add)
    }
    for index in 0..<events {
        let id = RecordID.uuidV7(unixMillis: start + Int64(cases + index), using: &generator)
        set(.event, id, "case", .string(caseIDs[index % max(1, caseIDs.count)]))
        set(.event, id, "kind", .string(["visit", "consultation", "meeting", "matching"][index % 4]))
        set(
            .event, id, "date",
            .string("2025-\(String(format: "%02d", index % 12 + 1))-\(String(format: "%02d", index % 28 + 1))"))
        set(.event, id, "author", .string(advisor))
        set(.event, id, "body", .string("\(subjects[index % subjects.count])について打合せ。次回は試作品の評価結果を共有する。記録\(index)"))
    }
    return log
}

/// The two forms of a pull page.
enum PageForm: String {
    case binary, json
}

func pages(of log: [Change], size: Int, form: PageForm = .binary) throws -> [Data] {
    let encoder = JSONEncoder()
    return try stride(from: 0, to: log.count, by: size).map { start in
        let end = min(log.count, start + size)
        let page = PullResponse(
            changes: Array(log[start..<end]), purges: [], nextCursor: String(start / size + 1),
            hasMore: end < log.count, serverTime: now())
        return form == .binary ? Data(BinaryPage.encode(page)) : try encoder.encode(page)
    }
}

/// Enrolls a fresh laptop in a temporary directory and pulls `log` into it, in pages of `form`;
/// returns the seconds.
func pull(
    _ log: [Change], advisor: String, into directory: String, form: PageForm = .binary
) async throws -> (FieldClient, Double) {
    let transport = PagedTransport(
        pages: try pages(of: log, size: WireProtocol.defaultPullLimit, form: form), form: form, advisor: advisor)
    let client = try await FieldClient.enroll(
        directory: directory, server: "bench", code: "bench", cacert: nil, deviceName: nil, transport: transport)
    let elapsed = try await seconds { _ = try await SyncEngine(client: client, transport: transport).run() }
    return (client, elapsed)
}

/// SQLite's own speed on this machine: the same number of rows, shaped like change-log rows,
/// inserted in one transaction with a prepared statement, WAL mode, synchronous=NORMAL.
func rawInsert(_ log: [Change], into path: String) throws -> Double {
    var configuration = Configuration()
    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
    let pool = try DatabasePool(path: path, configuration: configuration)
    try pool.write { db in
        try db.execute(
            sql:
                "CREATE TABLE raw (id TEXT PRIMARY KEY, entity TEXT, record TEXT, field TEXT, op TEXT, value TEXT, hlc TEXT, prev TEXT, author TEXT)"
        )
    }
    let rows = log.map { change in
        [
            change.id.description, change.entity.rawValue, change.record, change.field ?? "", change.op.rawValue,
            change.value.displayText, change.hlc.description, "[]", change.author,
        ]
    }
    let start = DispatchTime.now().uptimeNanoseconds
    try pool.writeWithoutTransaction { db in
        try db.inTransaction {
            let statement = try db.makeStatement(sql: "INSERT INTO raw VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            for row in rows { try statement.execute(arguments: StatementArguments(row)) }
            return .commit
        }
    }
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// The `fraction` percentile of `values` (nearest rank below); 0 for none, which the figures
/// printed beside it make plain (a count of 0).
func percentile(_ values: [Double], _ fraction: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * fraction))]
}

func latency(_ name: String, runs: Int, _ body: () throws -> Int) throws {
    var times: [Double] = []
    var rows = 0
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        rows = try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    let label = name + String(repeating: " ", count: max(0, 44 - DisplayWidth.of(name)))
    print(
        label
            + String(
                format: " p50 %7.2f ms   p95 %7.2f ms   (%d rows)", percentile(times, 0.5), percentile(times, 0.95),
                rows))
}

let arguments = Arguments()
let workspace = NSTemporaryDirectory() + "kakehashi-bench-" + UUID().uuidString
try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: workspace) }
let advisor = "0192f1c4-0000-7000-8000-0000000000b1"

print(
    "Kakehashi benchmark — \(ProcessInfo.processInfo.processorCount) cores, SQLite \(try DatabaseQueue().read { try String.fetchOne($0, sql: "SELECT sqlite_version()") ?? "?" })"
)

// A part that cannot run here (a missing tool, a bad argument, a refused change) says why and
// stops the run with status 1, instead of crashing with a backtrace.
do {
    if arguments.only.contains("client") {
        try await clientBenchmarks()
    }
    if arguments.only.contains("merge") {
        MergeBenchmark.run(updates: arguments.mergeUpdates)
    }
    if arguments.only.contains("sync") {
        SyncBenchmark.report(
            try await SyncBenchmark.run(records: arguments.records, workspace: workspace, database: arguments.database),
            records: arguments.records)
    }
    if arguments.only.contains("push") {
        try await PushBenchmark.run(changes: arguments.records, workspace: workspace, database: arguments.database)
    }
    if arguments.only.contains("bootstrap") {
        try await BootstrapBenchmark.run(records: arguments.records, workspace: workspace)
    }
    if arguments.only.contains("wrk") {
        try await WrkBenchmark.run(records: arguments.records, workspace: workspace)
    }
    if arguments.only.contains("rural") {
        try await RuralBenchmark.run(records: arguments.records, workspace: workspace)
    }
    if arguments.only.contains("growth") {
        try await GrowthBenchmark.run(workspace: workspace, database: arguments.database, runs: arguments.runs)
    }
    if arguments.only.contains("laptop") {
        try await GrowthBenchmark.laptop(workspace: workspace, runs: arguments.runs)
    }
    if arguments.only.contains("matching") {
        try MatchingBenchmark.run(verbose: true)
    }
    if arguments.only.contains("export") {
        try await ExportBenchmark.run(workspace: workspace)
    }
    if arguments.only.contains("load") {
        try await LoadBenchmark.run(
            workspace: workspace, database: arguments.database, devices: arguments.devices, seconds: arguments.seconds)
    }
} catch let skipped as BenchmarkSkipped {
    StandardStreams.error("kakehashi-bench: \(skipped.reason)\n")
    // `exit` skips the `defer` above: the workspace (stores of up to a million changes) goes now.
    try? FileManager.default.removeItem(atPath: workspace)
    exit(1)
}

func clientBenchmarks() async throws {
    // 1. Pull-apply against raw insert.
    let cases = arguments.changes / 20
    let log = makeLog(cases: cases, events: (arguments.changes - cases * 8) / 5, advisor: advisor)
    // Alternate the two measurements three times and keep each one's median, so a burst of other
    // load on this shared machine does not decide the ratio.
    var pullTimes: [Double] = []
    var jsonTimes: [Double] = []
    var rawTimes: [Double] = []
    for round in 0..<3 {
        pullTimes.append(try await pull(log, advisor: advisor, into: workspace + "/pull\(round)").1)
        jsonTimes.append(try await pull(log, advisor: advisor, into: workspace + "/json\(round)", form: .json).1)
        rawTimes.append(try rawInsert(log, into: workspace + "/raw\(round).sqlite"))
    }
    let pullSeconds = percentile(pullTimes, 0.5)
    let jsonSeconds = percentile(jsonTimes, 0.5)
    let rawSeconds = percentile(rawTimes, 0.5)
    let applyRate = Double(log.count) / pullSeconds
    let jsonRate = Double(log.count) / jsonSeconds
    let rawRate = Double(log.count) / rawSeconds
    print(
        "\nPull-apply of \(log.count) changes (pages of \(WireProtocol.defaultPullLimit), decode + merge + index, one transaction per page; median of 3)"
    )
    print(String(format: "  kakehashi pull-apply, binary pages  %10.0f changes/s  (%.2f s)", applyRate, pullSeconds))
    print(String(format: "  kakehashi pull-apply, JSON pages    %10.0f changes/s  (%.2f s)", jsonRate, jsonSeconds))
    print(
        String(
            format: "  SQLite raw insert                   %10.0f rows/s     (%.2f s, one transaction)", rawRate,
            rawSeconds))
    print(String(format: "  ratio, binary pages                 %10.2f            (goal ≥ 0.50)", applyRate / rawRate))
    print(String(format: "  ratio, JSON pages                   %10.2f", jsonRate / rawRate))

    // 2. Query latency with many events.
    let eventLog = makeLog(cases: max(1, arguments.events / 50), events: arguments.events, advisor: advisor)
    let (client, eventSeconds) = try await pull(eventLog, advisor: advisor, into: workspace + "/events")
    let someCase = try client.list(.case, limit: 1).first?.id ?? ""
    print(
        String(
            format: "\nQueries on a laptop holding %d events in %d cases (initial sync %.1f s)", arguments.events,
            max(1, arguments.events / 50), eventSeconds))
    try latency("case list (all)", runs: arguments.runs) { try client.list(.case).count }
    try latency("case list --stage matching", runs: arguments.runs) {
        try client.list(.case, filter: .init(stage: "matching")).count
    }
    try latency("event list CASE", runs: arguments.runs) {
        try client.list(.event, filter: .init(caseID: someCase)).count
    }
    try latency("search 精密加工 (trigram index)", runs: arguments.runs) { try client.search("精密加工").count }
    try latency("search 試作 (two characters: LIKE scan)", runs: arguments.runs) { try client.search("試作").count }
    let storeBytes =
        (try FileManager.default.attributesOfItem(atPath: client.store.path)[.size] as? NSNumber)?.intValue ?? 0
    print(String(format: "  store size %.1f MB", Double(storeBytes) / 1_048_576))
}
