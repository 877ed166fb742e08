import Foundation
import KakehashiServer
import KakehashiShared

/// `kakehashi-server export` on logs of about 100,000 and 1,000,000 changes: the peak resident
/// memory of the real export process at each size, and their ratio next to the limit (flat:
/// at most 1.2, and under 200 MB at 1M). Both logs have the same cases, organizations and
/// advisors; what grows is the bulk of a real log, activity records with their bodies. Each of
/// the three formats streams the events: to a CSV file, a JSON Lines file, a workbook's sheet. An
/// incremental export of the last 10,000 changes (`--since`) streams them too, and holds what
/// changed after its cursor: the same amount at both sizes.
enum ExportBenchmark {
    /// Cases at all four levels in two ministries' programs, the same at both sizes.
    static let cases = 2_000
    static let organizations = 200
    static let advisors = ["01900000-0000-7000-8000-00000000be01", "01900000-0000-7000-8000-00000000be02"]
    static let limitMiB = 200.0
    static let limitRatio = 1.2
    /// The changes an incremental export covers, at both sizes.
    static let incrementalChanges = 10_000
    /// The exports measured at each size: name, `export` options.
    static func exports(head: Int) -> [(name: String, options: [String])] {
        [
            ("cabinet-office CSV", ["--profile", "cabinet-office", "--format", "csv"]),
            ("meti JSONL", ["--profile", "meti", "--format", "jsonl"]),
            ("cabinet-office xlsx", ["--profile", "cabinet-office", "--format", "xlsx"]),
            (
                "meti CSV --since",
                ["--profile", "meti", "--format", "csv", "--since", String(head - incrementalChanges)]
            ),
        ]
    }

    static func run(workspace: String) async throws {
        print(
            "\nExport of a growing log: peak RSS of `kakehashi-server export` (every format streams the events)"
        )
        print(
            "  changes     events     build    export    peak RSS: cabinet-office CSV / meti JSONL / cabinet-office xlsx"
                + " / meti CSV of the last \(incrementalChanges) changes (--since)"
        )
        var peaks: [[Double]] = []
        var changeCounts: [Int] = []
        for target in [100_000, 1_000_000] {
            let path = workspace + "/export-\(target).sqlite"
            let (changes, events, buildSeconds) = try await makeStore(path: path, changes: target)
            var sizePeaks: [Double] = []
            var exportSeconds = 0.0
            for (index, export) in exports(head: changes).enumerated() {
                let out = workspace + "/export-\(target)-\(index)"
                let start = DispatchTime.now().uptimeNanoseconds
                let peak = try peakMiB(["export"] + export.options + ["--out", out, "--db", "sqlite:" + path])
                exportSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                sizePeaks.append(peak)
                try? FileManager.default.removeItem(atPath: out)
            }
            peaks.append(sizePeaks)
            changeCounts.append(changes)
            print(
                String(
                    format: "  %9d   %7d   %5.0f s   %5.0f s    %6.0f MiB / %6.0f MiB / %6.0f MiB / %6.0f MiB", changes,
                    events, buildSeconds, exportSeconds, sizePeaks[0], sizePeaks[1], sizePeaks[2], sizePeaks[3]))
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        for (index, name) in exports(head: 0).map(\.name).enumerated() {
            let ratio = peaks[1][index] / peaks[0][index]
            let flat = ratio <= limitRatio && peaks[1][index] < limitMiB
            print(
                String(
                    format: "  %@: peak RSS at %d / at %d changes %.2f (limit ≤ %.1f, and < %.0f MB) — %@", name,
                    changeCounts[1], changeCounts[0], ratio, limitRatio, limitMiB, flat ? "flat" : "GROWS"))
        }
    }

    /// A server store of about `changes` changes, written through the store's own append (the
    /// path pushes take, without HTTP): `cases` cases, then events of five changes each, with
    /// bodies of a few hundred characters. Returns the changes, the events and the seconds taken.
    static func makeStore(path: String, changes target: Int) async throws -> (Int, Int, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let store = try SQLiteStore(path: path)
        try await AdminService(store: store).seedProgramsIfEmpty()
        var makers = advisors.map {
            ChangeMaker(clock: HybridClock(device: DeviceID("d-00000000000000b\($0.suffix(1))")!), author: $0)
        }
        var generator = SystemRandomNumberGenerator()
        var batch: [Change] = []
        var written = try await store.changeCount()
        var millis = Int64(Date().timeIntervalSince1970 * 1000) - 86_400_000 * 400
        func flush() async throws {
            try await append(batch, to: store, wallMillis: millis)
            written += batch.count
            batch.removeAll(keepingCapacity: true)
        }
        func set(
            _ entity: Entity, _ id: String, _ field: String, _ value: FieldValue, by writer: Int,
            _ op: Change.Operation = .set
        ) async throws {
            millis += 1
            batch.append(
                makers[writer].make(
                    op, entity: entity, record: id, field: field, value: value, state: nil, wallMillis: millis))
            if batch.count >= 2_000 { try await flush() }
        }
        for (index, advisor) in advisors.enumerated() {
            try await set(.advisor, advisor, "name", .string(["山田太郎", "佐藤花子"][index]), by: index)
            try await set(.advisor, advisor, "role", .string("business-producer"), by: index)
            try await set(
                .advisor, advisor, "program", .string(["business-production", "matching-planner"][index]), by: index)
            try await set(.advisor, advisor, "prefecture", .string(["kanagawa", "miyagi"][index]), by: index)
            try await set(.advisor, advisor, "active", .bool(true), by: index)
        }
        let prefectures = Domains.prefecture.values
        var organizationIDs: [String] = []
        for index in 0..<organizations {
            let id = RecordID.uuidV7(unixMillis: millis, using: &generator)
            organizationIDs.append(id)
            try await set(.organization, id, "name", .string("株式会社ベンチ精密\(index)"), by: 0)
            try await set(.organization, id, "kind", .string("sme"), by: 0)
            try await set(.organization, id, "prefecture", .string(prefectures[index % prefectures.count]), by: 0)
        }
        let levels = ["open", "confidential", "strict", "secret"]
        var caseIDs: [String] = []
        for index in 0..<cases {
            let id = RecordID.uuidV7(unixMillis: millis, using: &generator)
            caseIDs.append(id)
            let writer = index % 2
            try await set(.case, id, "title", .string("精密加工の事業化支援 その\(index)"), by: writer)
            try await set(.case, id, "summary", .string("中小企業の精密加工技術と大学のシーズをマッチングし、試作から契約までを支援する。"), by: writer)
            try await set(.case, id, "kind", .string("ip-business-matching"), by: writer)
            try await set(
                .case, id, "stage", .string(["intake", "matching", "prototyping", "contract"][index % 4]), by: writer)
            try await set(.case, id, "level", .string(levels[index % 4]), by: writer)
            try await set(
                .case, id, "program", .string(["business-production", "matching-planner"][writer]), by: writer)
            try await set(.case, id, "owner", .string(advisors[writer]), by: writer)
            try await set(.case, id, "organizations", .string(organizationIDs[index % organizations]), by: writer, .add)
        }
        let body = String(repeating: "試作品の評価結果を共有し、量産に向けた課題と次回の打合せ日程を確認した。", count: 8)
        var events = 0
        while written + batch.count + 5 <= target {
            let id = RecordID.uuidV7(unixMillis: millis, using: &generator)
            let writer = events % 3 == 0 ? 1 : 0
            try await set(.event, id, "case", .string(caseIDs[events % cases]), by: writer)
            try await set(
                .event, id, "kind", .string(["visit", "consultation", "meeting", "matching"][events % 4]), by: writer)
            // Dated on or before the day it is written, as the store requires.
            let day = CalendarDate(japanTimeOf: millis - Int64(events % 300) * 86_400_000)
            try await set(.event, id, "date", .string(day.description), by: writer)
            try await set(.event, id, "author", .string(advisors[writer]), by: writer)
            try await set(.event, id, "body", .string("記録\(events)：" + body), by: writer)
            events += 1
        }
        if !batch.isEmpty { try await flush() }
        await store.close()
        return (written, events, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Runs `kakehashi-server` (built next to this benchmark) to its end and returns its peak
    /// resident memory in MiB: the kernel's high-water mark of the process's own memory
    /// (`VmHWM` in /proc/PID/status), read every few milliseconds while it runs. Not `wait4`'s
    /// maxrss: a spawned process starts with its parent's high-water mark in it, so after the
    /// benchmarks before it had grown this process to 750 MiB, every export "peaked" there.
    static func peakMiB(_ arguments: [String]) throws -> Double {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("kakehashi-server").path
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let errors = NSTemporaryDirectory() + "kakehashi-bench-export-\(getpid()).err"
        defer { try? FileManager.default.removeItem(atPath: errors) }
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var pid: pid_t = 0
        guard posix_spawn(&pid, binary, &actions, nil, argv, environ) == 0 else {
            throw BenchmarkSkipped(reason: "cannot start \(binary)")
        }
        var status: Int32 = 0
        var peakKiB = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            guard reaped == 0 else { throw BenchmarkSkipped(reason: "lost kakehashi-server \(pid)") }
            peakKiB = max(peakKiB, highWaterKiB(of: pid))
            usleep(5_000)
        }
        guard status == 0, peakKiB > 0 else {
            let said = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            throw BenchmarkSkipped(
                reason: "kakehashi-server \(arguments.joined(separator: " ")) failed (\(status)): \(said.suffix(500))")
        }
        return Double(peakKiB) / 1024
    }
}
