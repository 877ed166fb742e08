import Foundation
import KakehashiShared
import KakehashiTestSupport
import Testing

/// Randomized convergence of the merge engine.
///
/// Each trial runs 3–4 in-memory replicas through random offline edits — concurrent writes to
/// the same field, set add/remove races, delete against edit, writes in the same millisecond, and
/// one laptop whose clock runs hours behind — and exchanges changes in random order, in random
/// subsets, with duplicates and re-deliveries, and merged states (whole, or some registers only,
/// as a stub is) in between. After a final exchange — every change, or only the states of a
/// replica that has every change (a bootstrap), or states and then changes, or part of the
/// change stream, then states gained mid-stream (a stub's registers, then whole) and the rest of
/// the stream and the history after them (a gain, `PullOperation`) — every replica must
/// hold byte-identical state, and an independent oracle (the true causal history, tracked
/// outside the engine) must agree with the engine's heads, winners and conflicts.
///
/// Replay a failure with `KAKEHASHI_CONVERGENCE_SEED=<seed> swift test --filter ConvergenceTests`.
@Suite struct ConvergenceTests {
    /// 1,000 in the normal run; `KAKEHASHI_CONVERGENCE_TRIALS` raises it for soak runs.
    static let trialCount =
        ProcessInfo.processInfo.environment["KAKEHASHI_CONVERGENCE_TRIALS"].flatMap(Int.init) ?? 1_000

    @Test func replicasConvergeAndKeepEveryConcurrentLoser() throws {
        if let replay = ProcessInfo.processInfo.environment["KAKEHASHI_CONVERGENCE_SEED"].flatMap(UInt64.init) {
            var simulation = Simulation(seed: replay)
            try simulation.run()
            return
        }
        var seeds = SystemRandomNumberGenerator()
        let base = seeds.next()
        for trial in 0..<UInt64(Self.trialCount) {
            let seed = base &+ trial
            do {
                var simulation = Simulation(seed: seed)
                try simulation.run()
            } catch {
                Issue.record(
                    "convergence trial failed: \(error)\nreplay with KAKEHASHI_CONVERGENCE_SEED=\(seed) swift test --filter ConvergenceTests"
                )
                return
            }
        }
    }
}

struct SimulationFailure: Error, CustomStringConvertible {
    let description: String
}

/// One seeded trial.
struct Simulation {
    /// A laptop's wall clock: how far the raw clock is off, and the correction learned from
    /// the server's time.
    struct WallClock {
        var error: Int64
        var correction: Int64 = 0

        func wall(_ trueMillis: Int64) -> Int64 { trueMillis + error + correction }
    }

    static let records = (1...3).map { "0192f1c4-0000-7000-8000-00000000000\($0)" }
    static let advisors = (1...4).map { "0192f1c4-0000-7000-8000-0000000000a\($0)" }
    static let titles = ["精密加工の試作", "産学連携の相談", "開放特許のライセンス", "知財戦略の策定"]
    static let stages = ["intake", "matching", "prototyping", "contract"]
    static let tags = ["知財", "マッチング", "試作", "補助金"]

    let seed: UInt64
    var random: SplitMix64
    var laptops: [ReplicaLaptop] = []
    var clocks: [WallClock] = []
    var now: Int64 = 1_763_700_000_000
    /// For every change, the ids its author had applied when writing it: the causal truth.
    var causalPast: [ChangeID: Set<ChangeID>] = [:]
    var allChanges: [ChangeID: Change] = [:]
    /// Per laptop, the changes its state holds, whether applied or merged in with a state.
    var known: [Set<ChangeID>] = []

    init(seed: UInt64) {
        self.seed = seed
        random = SplitMix64(seed: seed)
        let count = Int.random(in: 3...4, using: &random)
        let laggard = Int.random(in: 0..<count, using: &random)
        for index in 0..<count {
            let device = DeviceID("laptop-\(index)")!
            laptops.append(ReplicaLaptop(device: device, author: Self.advisors[index]))
            known.append([])
            clocks.append(
                WallClock(error: index == laggard ? -3 * 3_600_000 : Int64.random(in: -50...50, using: &random)))
        }
    }

    mutating func run() throws {
        let steps = Int.random(in: 20...60, using: &random)
        for _ in 0..<steps {
            // Often no time passes at all: same-millisecond writes on different laptops.
            now += random.pick([0, 0, 1, 2, 5])
            if random.chance(0.6) {
                try edit(Int.random(in: 0..<laptops.count, using: &random))
            } else if random.chance(0.6) {
                try deliver(partial: true)
            } else {
                try deliverStates()
            }
        }
        // Final exchange: laptop 0 gets everything, shuffled, with duplicates; each other laptop
        // gets everything too, or only laptop 0's states (a bootstrap), or some states first, or
        // what a device that gains records in the change stream gets.
        try receive(Array(allChanges.values), into: 0, duplicate: true)
        for index in laptops.indices.dropFirst() {
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                try receive(Array(allChanges.values), into: index, duplicate: true)
            case 1:
                try mergeStates(from: 0, into: index, keep: { _ in true })
            case 2:
                try mergeStates(from: 0, into: index, keep: { _ in true }, records: 0.5)
                try receive(Array(allChanges.values), into: index, duplicate: true)
            default:
                // Part of the stream as changes; some records gained as stubs (a stub's registers
                // only, as `PullPlanner.visibleState` sends them), then every record gained whole;
                // then the rest of the stream and the gained records' history, in any order.
                try receive(Array(allChanges.values).filter { _ in random.chance(0.4) }, into: index, duplicate: false)
                try mergeStates(
                    from: 0, into: index,
                    keep: { AccessPolicy.mayReceive(caseField: $0.isTombstone ? nil : $0.field, with: .stub) },
                    records: 0.5)
                try mergeStates(from: 0, into: index, keep: { _ in true })
                try receive(Array(allChanges.values), into: index, duplicate: true)
            }
        }
        try check()
    }

    mutating func edit(_ index: Int) throws {
        let record = random.pick(Self.records)
        let state = laptops[index].replica.record(.case, record)
        let (op, field, value): (Change.Operation, String?, FieldValue)
        if state?.isDeleted == true {
            return  // the CLI refuses edits to a deleted record; revival only comes from concurrent edits
        }
        switch Int.random(in: 0..<10, using: &random) {
        case 0...2: (op, field, value) = (.set, "title", .string(random.pick(Self.titles)))
        case 3...4: (op, field, value) = (.set, "stage", .string(random.pick(Self.stages)))
        case 5:
            (op, field, value) = (
                .set, "amount_yen", random.chance(0.2) ? .null : .integer(Int64(random.pick([0, 500_000, 3_000_000])))
            )
        case 6...7: (op, field, value) = (random.chance(0.5) ? .add : .remove, "tags", .string(random.pick(Self.tags)))
        case 8:
            (op, field, value) = (
                random.chance(0.6) ? .add : .remove, "participants", .string(random.pick(Self.advisors))
            )
        default: (op, field, value) = (.delete, nil, .bool(true))
        }
        let past = known[index]
        let change = laptops[index].write(op, .case, record, field: field, value, at: clocks[index].wall(now))
        guard (try? change.validated()) == change else {
            throw SimulationFailure(description: "a locally made change failed validation: \(change)")
        }
        causalPast[change.id] = past
        allChanges[change.id] = change
        known[index].insert(change.id)
    }

    /// Passes a random subset of one laptop's changes to another, shuffled, sometimes twice.
    mutating func deliver(partial: Bool) throws {
        let from = Int.random(in: 0..<laptops.count, using: &random)
        var to = Int.random(in: 0..<laptops.count, using: &random)
        if to == from { to = (to + 1) % laptops.count }
        let subset = laptops[from].log.filter { _ in random.chance(0.7) }
        try receive(subset, into: to, duplicate: random.chance(0.3))
    }

    /// Passes some of one laptop's record states to another: whole, or some registers only (as
    /// a stub holds a case's stub fields only).
    mutating func deliverStates() throws {
        let from = Int.random(in: 0..<laptops.count, using: &random)
        var to = Int.random(in: 0..<laptops.count, using: &random)
        if to == from { to = (to + 1) % laptops.count }
        let registers = Set(allChanges.values.map(\.register)).filter { _ in random.chance(0.6) }
        let whole = random.chance(0.5)
        try mergeStates(from: from, into: to, keep: { whole || registers.contains($0) }, records: 0.7)
    }

    /// Merges laptop `from`'s states (each record with chance `records`, restricted to the
    /// registers `keep` accepts) into laptop `index`, in random order, sometimes twice.
    mutating func mergeStates(
        from: Int, into index: Int, keep: @escaping (RegisterKey) -> Bool, records: Double = 1
    ) throws {
        var states: [RecordState] = []
        for record in Self.records where random.chance(records) {
            guard let state = laptops[from].record(.case, record) else { continue }
            states.append(state.restricted(to: keep))
            // The changes that state holds: those of the sender to the registers kept.
            known[index].formUnion(
                known[from].filter {
                    allChanges[$0]?.record == record && allChanges[$0].map { keep($0.register) } == true
                })
        }
        var batch = states.shuffled(using: &random)
        if random.chance(0.3) { batch += states.shuffled(using: &random) }
        if abs(clocks[index].wall(now) - now) > 60_000 { clocks[index].correction = -clocks[index].error }
        do {
            try laptops[index].receive(states: batch, at: clocks[index].wall(now))
        } catch {
            throw SimulationFailure(description: "clock refused a peer's state after correction: \(error)")
        }
    }

    mutating func receive(_ changes: [Change], into index: Int, duplicate: Bool) throws {
        known[index].formUnion(changes.map(\.id))
        var batch = changes.shuffled(using: &random)
        if duplicate { batch += changes.filter { _ in random.chance(0.3) }.shuffled(using: &random) }
        // Receiving is syncing: the laptop learns the server's (true) time and corrects a clock
        // that is far off, as the client does before it merges a pulled page.
        if abs(clocks[index].wall(now) - now) > 60_000 { clocks[index].correction = -clocks[index].error }
        do {
            try laptops[index].receive(batch, at: clocks[index].wall(now))
        } catch {
            throw SimulationFailure(description: "clock refused a peer's timestamp after correction: \(error)")
        }
    }

    // MARK: - Checks

    func check() throws {
        let reference = try laptops[0].replica.canonicalEncoding()
        for (index, laptop) in laptops.enumerated().dropFirst()
        where try laptop.replica.canonicalEncoding() != reference {
            throw SimulationFailure(description: "laptop \(index) differs from laptop 0 after a full exchange")
        }
        for (index, held) in known.enumerated() where held.count != allChanges.count {
            throw SimulationFailure(description: "laptop \(index) holds \(held.count) of \(allChanges.count) changes")
        }
        let replica = laptops[0].replica
        for record in Self.records {
            guard let state = replica.record(.case, record) else { continue }
            try checkAgainstOracle(state)
        }
    }

    /// Recomputes heads, winners and conflicts from the causal truth and compares.
    func checkAgainstOracle(_ state: RecordState) throws {
        let changes = allChanges.values.filter { $0.record == state.id }
        let byRegister = Dictionary(grouping: changes, by: \.register)
        // Deleted: the newest tombstone write is a delete, newer than every edit's newest write.
        let newestTombstone = byRegister[.tombstone, default: []].max { $0.hlc < $1.hlc }
        let newestEdit = changes.filter { !$0.register.isTombstone }.max { $0.hlc < $1.hlc }
        var deleted = false
        if let tombstone = newestTombstone, tombstone.value == .bool(true) {
            deleted = newestEdit.map { tombstone.hlc > $0.hlc } ?? true
        }
        guard deleted == state.isDeleted else {
            throw SimulationFailure(
                description: "\(state.id): engine says deleted=\(state.isDeleted), history says \(deleted)")
        }
        var expectedValueConflicts: Set<ChangeID> = []
        for (key, writes) in byRegister {
            let maximal = writes.filter { write in
                !writes.contains { other in causalPast[other.id]!.contains(write.id) }
            }
            let engineHeads = Set((state.heads[key] ?? []).map(\.change))
            guard engineHeads == Set(maximal.map(\.id)) else {
                throw SimulationFailure(
                    description:
                        "\(key) of \(state.id): engine heads \(engineHeads.sorted()) but causally maximal writes are \(maximal.map(\.id).sorted())"
                )
            }
            let winner = writes.max { $0.hlc < $1.hlc }!
            guard state.winner(key)?.change == winner.id else {
                throw SimulationFailure(description: "\(key): winner is not the write with the highest HLC")
            }
            for loser in maximal
            where !deleted && loser.id != winner.id && loser.registerValue != winner.registerValue {
                expectedValueConflicts.insert(loser.id)
            }
        }
        let conflicts = state.conflicts
        let valueConflicts = Set(conflicts.filter { $0.kind == .value }.map(\.loser.change))
        guard valueConflicts == expectedValueConflicts else {
            throw SimulationFailure(
                description:
                    "\(state.id): conflicts hold losers \(valueConflicts.sorted()) but concurrent losing writes are \(expectedValueConflicts.sorted())"
            )
        }

        // A standing delete: every field whose winning value the deleter never saw is a conflict.
        let tombstones = byRegister[.tombstone, default: []]
        let standing = tombstones.filter { write in
            write.value == .bool(true) && !tombstones.contains { causalPast[$0.id]!.contains(write.id) }
        }.max { $0.hlc < $1.hlc }
        var expectedDeleteConflicts: Set<RegisterKey> = []
        if let standing {
            for (key, writes) in byRegister where !key.isTombstone {
                let winner = writes.max { $0.hlc < $1.hlc }!
                if !causalPast[standing.id]!.contains(winner.id) { expectedDeleteConflicts.insert(key) }
            }
        }
        let deleteConflicts = Set(conflicts.filter { $0.kind == .deleteVersusEdit }.map(\.register))
        guard deleteConflicts == expectedDeleteConflicts else {
            throw SimulationFailure(
                description:
                    "\(state.id): delete conflicts on \(deleteConflicts.sorted()) but unseen edits on \(expectedDeleteConflicts.sorted())"
            )
        }
    }
}
