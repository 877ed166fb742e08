import Foundation

/// A whole replica held in memory: every record's merged state plus the ids of the changes
/// applied. The reference implementation of a replica — the convergence tests run many of them,
/// and the client and server stores must behave exactly like it.
public struct Replica: Sendable {
    public private(set) var records: [RecordRef: RecordState] = [:]
    public private(set) var applied: Set<ChangeID> = []

    public init() {}

    /// Merges one change; a change id seen before is acknowledged and ignored.
    /// - Returns: whether the change was new to this replica.
    @discardableResult
    public mutating func apply(_ change: Change) -> Bool {
        guard applied.insert(change.id).inserted else { return false }
        let ref = RecordRef(entity: change.entity, record: change.record)
        records[ref, default: RecordState(entity: change.entity, id: change.record)].apply(change)
        return true
    }

    /// Joins a record's state received from another replica (a bootstrap page) into this one.
    public mutating func merge(_ state: RecordState) {
        records[
            RecordRef(entity: state.entity, record: state.id), default: RecordState(entity: state.entity, id: state.id)
        ]
        .merge(state)
    }

    public func record(_ entity: Entity, _ id: String) -> RecordState? {
        records[RecordRef(entity: entity, record: id)]
    }

    /// Every conflict in the replica, in a stable order.
    public var conflicts: [Conflict] {
        records.keys.sorted().flatMap { records[$0]?.conflicts ?? [] }
    }

    /// The replica's whole merged state as canonical JSON bytes: two replicas hold the same
    /// state exactly when these bytes are equal.
    public func canonicalEncoding() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(records.keys.sorted().compactMap { records[$0] })
    }
}
