/// The merged state of one record: for every register, the writes nobody has knowingly
/// superseded (its heads), newest first.
///
/// `apply(_:)` is the one merge function every replica runs — laptop and server alike. The state
/// it produces depends only on the set of changes applied, never on their order or on how often
/// each arrived (Docs/data-model.md explains why), so replicas that have seen the same changes
/// hold identical states.
public struct RecordState: Sendable, Hashable {
    public let entity: Entity
    public let id: String
    /// Heads per register, sorted by HLC descending; the first is the last-writer-wins value.
    public private(set) var heads: [RegisterKey: [Write]] = [:]
    /// Every timestamp some applied change listed in `prev`, per register: writes with these
    /// timestamps were seen and replaced by their successors, so they never become heads, even
    /// when they arrive after the write that replaced them.
    public private(set) var superseded: [RegisterKey: Set<HLC>] = [:]

    public init(entity: Entity, id: String) {
        self.entity = entity
        self.id = id
    }

    /// Restores a state from its parts (the client store keeps heads and superseded rows).
    public init(entity: Entity, id: String, heads: [RegisterKey: [Write]], superseded: [RegisterKey: Set<HLC>]) {
        self.init(
            entity: entity, id: id, sortedHeads: heads.mapValues { $0.sorted { $0.hlc > $1.hlc } },
            superseded: superseded)
    }

    /// Restores a state whose heads are already sorted, newest first (the binary coding keeps
    /// them so).
    init(entity: Entity, id: String, sortedHeads: [RegisterKey: [Write]], superseded: [RegisterKey: Set<HLC>]) {
        self.entity = entity
        self.id = id
        self.heads = sortedHeads
        self.superseded = superseded
    }

    /// Merges one change into the record.
    ///
    /// Commutative, associative and idempotent: re-applying a change, or applying changes in
    /// any order, yields the same state.
    /// - Returns: whether the state changed (false for a change already applied).
    @discardableResult
    public mutating func apply(_ change: Change) -> Bool {
        precondition(change.entity == entity && change.record == id, "change applied to the wrong record")
        let key = change.register
        var current = heads[key, default: []]
        if current.contains(where: { $0.hlc == change.hlc }) { return false }

        // Grown in place: a copy taken out of the dictionary and written back would copy the whole
        // set on every write, making a register's history quadratic to merge.
        let before = superseded[key]?.count ?? 0
        superseded[key, default: []].formUnion(change.prev)
        let seen = superseded[key] ?? []
        let isSuperseded = seen.contains(change.hlc)
        // A late-arriving write can still supersede heads through its own `prev`, even when it
        // was itself superseded before it got here.
        current.removeAll { seen.contains($0.hlc) }
        if !isSuperseded {
            let write = Write(change)
            let index = current.firstIndex { $0.hlc < write.hlc } ?? current.endIndex
            current.insert(write, at: index)
        }
        heads[key] = current.isEmpty ? nil : current
        return !isSuperseded || seen.count != before
    }

    /// Joins another replica's state of the same record into this one: the state both would
    /// hold after applying every change either has applied.
    ///
    /// This is the same join as `apply`, register by register: the superseded timestamps are the
    /// union of both, and the heads are the writes of both that neither has seen superseded. So
    /// a replica may receive any mix of states and changes, in any order and any number of
    /// times, and still hold what a replica that applied every change holds
    /// (`ConvergenceTests`). A bootstrap sends states instead of whole histories.
    /// - Returns: whether the state changed.
    @discardableResult
    public mutating func merge(_ other: RecordState) -> Bool {
        precondition(other.entity == entity && other.id == id, "state merged into the wrong record")
        var changed = false
        for (key, hlcs) in other.superseded {
            let before = superseded[key]?.count ?? 0
            superseded[key, default: []].formUnion(hlcs)
            if superseded[key]?.count != before { changed = true }
        }
        for key in Set(heads.keys).union(other.heads.keys) {
            let seen = superseded[key] ?? []
            var merged = heads[key, default: []]
            for write in other.heads[key] ?? [] where !merged.contains(where: { $0.hlc == write.hlc }) {
                merged.append(write)
            }
            merged.removeAll { seen.contains($0.hlc) }
            merged.sort { $0.hlc > $1.hlc }
            if merged != heads[key, default: []] {
                changed = true
                heads[key] = merged.isEmpty ? nil : merged
            }
        }
        return changed
    }

    /// The same state with only the registers `keep` accepts: what a replica that received only
    /// those registers' changes holds (a case's stub, Docs/security.md).
    public func restricted(to keep: (RegisterKey) -> Bool) -> RecordState {
        RecordState(
            entity: entity, id: id, heads: heads.filter { keep($0.key) },
            superseded: superseded.filter { keep($0.key) })
    }

    /// The newest timestamp among the heads: a replica that receives the state has seen it, so
    /// its clock moves past it.
    public var newestHead: HLC? {
        var newest: HLC?
        for writes in heads.values {
            if let stamp = writes.first?.hlc, newest.map({ stamp > $0 }) ?? true { newest = stamp }
        }
        return newest
    }

    /// The winning write of a register, if it was ever written.
    public func winner(_ key: RegisterKey) -> Write? { heads[key]?.first }

    /// The current value of a scalar field (`null` when never set).
    public func value(_ field: String) -> FieldValue {
        winner(RegisterKey(field: field, element: nil))?.value ?? .null
    }

    /// The elements currently in a set field, sorted.
    public func elements(_ field: String) -> [String] {
        heads.compactMap { key, writes in
            key.field == field && writes.first?.value == .bool(true) ? key.element : nil
        }
        .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The newest write to any field or set element (not the tombstone).
    public var lastEdit: Write? {
        var newest: Write?
        for (key, writes) in heads where !key.isTombstone {
            if let write = writes.first, newest.map({ write.hlc > $0.hlc }) ?? true { newest = write }
        }
        return newest
    }

    /// Deleted when the tombstone says so and no edit is newer than it: a later edit revives
    /// the record, a later restore (`delete` with `false`) undoes the deletion.
    public var isDeleted: Bool {
        guard let tombstone = winner(.tombstone), tombstone.value == .bool(true) else { return false }
        guard let edit = lastEdit else { return true }
        return tombstone.hlc > edit.hlc
    }

    /// False when the record cannot hold a conflict (every register has one head and there is
    /// no tombstone): `conflicts` is then empty, found without sorting anything.
    public var mayHaveConflicts: Bool {
        heads[.tombstone] != nil || heads.values.contains { $0.count > 1 }
    }

    /// The conflicts this record holds now: concurrent writes of different values to the same
    /// register (unless the record is deleted), and edits that the author of a still-standing
    /// delete never saw.
    ///
    /// Derived from the heads, so it is as order-independent as they are.
    public var conflicts: [Conflict] {
        var found: [Conflict] = []
        // A deleted record's leftover value disagreements are moot (resolving one would revive
        // the record); only what the delete itself overrode is worth a person's attention.
        let deleted = isDeleted
        for key in heads.keys.sorted() where !deleted {
            guard let writes = heads[key], let winner = writes.first else { continue }
            for loser in writes.dropFirst() where loser.value != winner.value {
                found.append(
                    Conflict(entity: entity, record: id, register: key, kind: .value, winner: winner, loser: loser))
            }
        }
        if let tombstone = heads[.tombstone]?.first(where: { $0.value == .bool(true) }) {
            let versionDeleted = Set(tombstone.prev)
            for key in heads.keys.sorted() where !key.isTombstone {
                guard let edit = heads[key]?.first, !versionDeleted.contains(edit.hlc) else { continue }
                found.append(
                    Conflict(
                        entity: entity, record: id, register: key, kind: .deleteVersusEdit,
                        winner: deleted ? tombstone : edit, loser: deleted ? edit : tombstone, deleteWon: deleted))
            }
        }
        return found
    }

    /// What a new local write to `key` lists as `prev`: every head the author can see there.
    public func prev(for key: RegisterKey) -> [HLC] {
        key.isTombstone ? headTimestamps : (heads[key] ?? []).map(\.hlc)
    }

    /// Every head timestamp, which is what a `delete` lists as the version it deletes.
    public var headTimestamps: [HLC] {
        heads.values.flatMap { $0.map(\.hlc) }.sorted()
    }
}

extension RecordState: Codable {
    private struct RegisterHeads: Codable {
        let register: RegisterKey
        let heads: [Write]
    }

    private struct RegisterSuperseded: Codable {
        let register: RegisterKey
        let hlcs: [HLC]
    }

    private enum CodingKeys: String, CodingKey {
        case entity, id, registers, superseded
    }

    /// Registers and timestamps are written in sorted order, so equal states encode to equal
    /// bytes (the convergence tests compare replicas byte for byte).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(entity, forKey: .entity)
        try container.encode(id, forKey: .id)
        try container.encode(
            heads.keys.sorted().map { RegisterHeads(register: $0, heads: heads[$0] ?? []) }, forKey: .registers)
        try container.encode(
            superseded.keys.sorted().map {
                RegisterSuperseded(register: $0, hlcs: superseded[$0, default: []].sorted())
            },
            forKey: .superseded)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let registers = try container.decode([RegisterHeads].self, forKey: .registers)
        let superseded = try container.decode([RegisterSuperseded].self, forKey: .superseded)
        self.init(
            entity: try container.decode(Entity.self, forKey: .entity),
            id: try container.decode(String.self, forKey: .id),
            heads: Dictionary(registers.map { ($0.register, $0.heads) }, uniquingKeysWith: { first, _ in first }),
            superseded: Dictionary(superseded.map { ($0.register, Set($0.hlcs)) }, uniquingKeysWith: { $0.union($1) }))
    }
}
