import Foundation
import GRDB
import KakehashiClient
import KakehashiShared

/// How cost grows with size: a cost that grows faster than the size shows as a rising
/// "per 1,000" column.
enum GrowthBenchmark {
    static func run(workspace: String, database: String?, runs: Int) async throws {
        print("\nGrowth of the server: log of N changes, real server process over loopback")
        print("  changes     pull page p50 / p99   server peak RSS   e2e changes/s   ratio to plain HTTP")
        for target in [10_000, 100_000, 1_000_000] {
            let records = target * 5 / 28  // 1 case (8 changes) per 4 activity records (5 each)
            let figures = try await SyncBenchmark.run(
                records: records, workspace: workspace + "/growth", database: database)
            let total = figures.pushSeconds + figures.pullSeconds
            print(
                String(
                    format: "  %9d   %6.1f / %6.1f ms    %8.0f MiB      %10.0f      %8.3f", figures.changes,
                    figures.pullP50, figures.pullP99, figures.serverPeakMiB, Double(figures.changes) / total,
                    figures.plainSeconds / total))
            try? FileManager.default.removeItem(atPath: workspace + "/growth")
        }

    }

    /// The goal of issue 13 for the laptop's store, in bytes per case.
    static let goalBytesPerCase = 3_000

    /// The laptop's store at 1,000 to 100,000 cases: size, `case list`, and where the bytes go.
    static func laptop(workspace: String, runs: Int) async throws {
        print("\nGrowth of the laptop: N cases pulled into a fresh store (no network)")
        print("  cases       store size   per 1,000 cases   case list p50   per 1,000 cases")
        var breakdowns: [Int: [(name: String, bytes: Int)]] = [:]
        var perCase = 0.0
        for cases in [1_000, 10_000, 100_000] {
            let log = makeLog(cases: cases, events: 0, advisor: advisor)
            let (client, _) = try await pull(log, advisor: advisor, into: workspace + "/laptop-\(cases)")
            var times: [Double] = []
            for _ in 0..<runs {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try client.list(.case)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            let bytes = try client.store.sizeInBytes()
            let p50 = percentile(times, 0.5)
            print(
                String(
                    format: "  %7d   %8.1f MB     %8.2f MB      %8.1f ms     %8.2f ms", cases,
                    Double(bytes) / 1_048_576, Double(bytes) / 1_048_576 / Double(cases) * 1000, p50,
                    p50 / Double(cases) * 1000))
            if cases >= 10_000 { breakdowns[cases] = try client.store.bytesPerObject() }
            perCase = Double(bytes) / Double(cases)
            try? FileManager.default.removeItem(atPath: workspace + "/laptop-\(cases)")
        }
        print(
            String(
                format: "  laptop store per case at 100,000 cases: %.2f KB (goal ≤ %.1f KB: %@)", perCase / 1000,
                Double(goalBytesPerCase) / 1000, perCase <= Double(goalBytesPerCase) ? "met" : "not met"))
        print("\nWhere a laptop's store goes (bytes per case, from SQLite's dbstat)")
        print("  object                               10,000 cases         100,000 cases")
        let small = breakdowns[10_000] ?? []
        let large = Dictionary((breakdowns[100_000] ?? []).map { ($0.name, $0.bytes) }, uniquingKeysWith: +)
        let total = small.reduce(0) { $0 + $1.bytes }
        let largeTotal = large.values.reduce(0, +)
        for (name, bytes) in small where bytes * 100 >= total {
            let label = name + String(repeating: " ", count: max(0, 34 - name.count))
            let other = large[name] ?? 0
            print(
                String(
                    format: "  %@ %8.0f B %5.1f %%   %8.0f B %5.1f %%", label, Double(bytes) / 10_000,
                    Double(bytes) * 100 / Double(total), Double(other) / 100_000,
                    Double(other) * 100 / Double(max(1, largeTotal))))
        }
    }
}

extension LocalStore {
    /// Bytes on disk per table and index (SQLite's `dbstat`), largest first; the write-ahead
    /// log is listed as `(wal)`.
    func bytesPerObject() throws -> [(name: String, bytes: Int)] {
        var configuration = Configuration()
        configuration.readonly = true
        var objects = try DatabaseQueue(path: path, configuration: configuration).read { db in
            try Row.fetchAll(db, sql: "SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name").map {
                (name: $0["name"] as String, bytes: $0["bytes"] as Int)
            }
        }
        let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? NSNumber)??.intValue
        objects.append((name: "(wal)", bytes: wal ?? 0))
        return objects.sorted { $0.bytes > $1.bytes }
    }

    /// The store's files on disk (database, WAL and shared memory).
    func sizeInBytes() throws -> Int {
        try [path, path + "-wal", path + "-shm"].reduce(0) { total, file in
            guard FileManager.default.fileExists(atPath: file) else { return total }
            return total + ((try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0)
        }
    }
}
