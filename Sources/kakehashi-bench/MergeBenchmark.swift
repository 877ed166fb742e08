import Foundation
import KakehashiShared

/// Merge throughput of the shared engine next to pycrdt (Yrs) on the same logical workload.
///
/// Two replicas each write `updates` values into 8 fields of one record, each write a change
/// merged into the local state (`ChangeMaker` + `RecordState.apply`); then each replica applies
/// the other's changes and both states must be equal. pycrdt does the same with a `Map`, one
/// transaction per write, and exchanges its updates (Benchmarks/pycrdt_merge.py). Best of three.
enum MergeBenchmark {
    static let fields = ["title", "summary", "stage", "kind", "level", "owner", "program", "amount"]

    /// Seconds for the whole workload in the shared engine.
    static func kakehashi(updates: Int) -> Double {
        let record = "0192f1c4-0000-7000-8000-00000000c0de"
        let start = DispatchTime.now().uptimeNanoseconds
        var replicas: [(state: RecordState, log: [Change])] = []
        for name in ["a", "b"] {
            var maker = ChangeMaker(
                clock: HybridClock(device: DeviceID("bench-\(name)")!), author: "0192f1c4-0000-7000-8000-0000000000b1")
            var state = RecordState(entity: .case, id: record)
            var log: [Change] = []
            log.reserveCapacity(updates)
            for index in 0..<updates {
                let change = maker.make(
                    .set, entity: .case, record: record, field: fields[index % fields.count],
                    value: .string("\(name)\(index)"), state: state, wallMillis: 1_790_000_000_000 + Int64(index))
                state.apply(change)
                log.append(change)
            }
            replicas.append((state, log))
        }
        var a = replicas[0].state
        var b = replicas[1].state
        for change in replicas[1].log { a.apply(change) }
        for change in replicas[0].log { b.apply(change) }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard a == b else { fatalError("the shared engine's replicas did not converge") }
        return elapsed
    }

    /// Seconds for the same workload in pycrdt, or nil (with the reason) when it cannot run.
    static func pycrdt(updates: Int) -> Result<Double, BenchmarkSkipped> {
        let python = ".build/venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            return .failure(BenchmarkSkipped(reason: "no \(python); make bench installs pycrdt there"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["Benchmarks/pycrdt_merge.py", String(updates)]
        let out = Pipe()
        process.standardOutput = out
        do { try process.run() } catch { return .failure(BenchmarkSkipped(reason: "\(error)")) }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let seconds = object["seconds"] as? Double
        else { return .failure(BenchmarkSkipped(reason: "pycrdt_merge.py failed")) }
        return .success(seconds)
    }

    static func run(updates: Int) {
        let ours = (0..<3).map { _ in kakehashi(updates: updates) }.min() ?? 0
        let total = Double(updates * 2)
        print("\nMerge: 2 replicas × \(updates) writes to 8 fields of one record, then exchange (best of 3)")
        print(String(format: "  kakehashi RecordState  %10.0f writes/s  (%.2f s)", total / ours, ours))
        switch pycrdt(updates: updates) {
        case .success(let theirs):
            print(String(format: "  pycrdt (Yrs) Map       %10.0f writes/s  (%.2f s)", total / theirs, theirs))
            print(String(format: "  ratio kakehashi/pycrdt %10.2f", theirs / ours))
        case .failure(let skipped):
            print("  pycrdt: skipped — \(skipped.reason)")
        }
    }
}

struct BenchmarkSkipped: Error {
    let reason: String
}
