import KakehashiShared

/// A laptop reduced to its merge core: a `Replica`, the `ChangeMaker` that stamps its writes,
/// and every change it holds in the order it got them (what it can pass on to another laptop).
///
/// The merge and convergence tests exchange changes between these by hand; the server tests'
/// wire laptop and the field client's store are checked against the same merge.
package struct ReplicaLaptop: Sendable {
    package private(set) var replica = Replica()
    /// Public to tests that forge changes outside the replica (attacks on the server).
    package var maker: ChangeMaker
    package private(set) var log: [Change] = []
    /// The states it merged in from elsewhere (bootstrap pages), per record, as received.
    package private(set) var receivedStates: [RecordRef: RecordState] = [:]

    package init(device: DeviceID, author: String) {
        maker = ChangeMaker(clock: HybridClock(device: device), author: author)
    }

    /// Makes a local change at wall time `wallMillis`, merges it here and returns it.
    @discardableResult
    package mutating func write(
        _ op: Change.Operation, _ entity: Entity = .case, _ record: String, field: String?, _ value: FieldValue,
        at wallMillis: Int64
    ) -> Change {
        let change = maker.make(
            op, entity: entity, record: record, field: field, value: value, state: replica.record(entity, record),
            wallMillis: wallMillis)
        replica.apply(change)
        log.append(change)
        return change
    }

    /// Merges changes made elsewhere, in the order given, as a sync would: the clock observes each
    /// stamp at wall time `wallMillis` (by default the stamp's own time), and a change held
    /// already is acknowledged and ignored.
    /// - Throws: `HybridClock`'s refusal of a stamp too far in the future.
    package mutating func receive(_ changes: [Change], at wallMillis: Int64? = nil) throws {
        for change in changes {
            try maker.observe(change.hlc, wallMillis: wallMillis ?? change.hlc.millis)
            if replica.apply(change) { log.append(change) }
        }
    }

    /// Merges records' states received from elsewhere (a bootstrap page), as a sync would: the
    /// clock moves past each state's newest head.
    package mutating func receive(states: [RecordState], at wallMillis: Int64? = nil) throws {
        for state in states {
            if let newest = state.newestHead { try maker.observe(newest, wallMillis: wallMillis ?? newest.millis) }
            replica.merge(state)
            let ref = RecordRef(entity: state.entity, record: state.id)
            receivedStates[ref, default: RecordState(entity: state.entity, id: state.id)].merge(state)
        }
    }

    /// Forgets records as a purge makes a laptop forget them: their states and the changes that
    /// made them, so that they can arrive again.
    package mutating func forget(_ refs: Set<RecordRef>) {
        log.removeAll { refs.contains(RecordRef(entity: $0.entity, record: $0.record)) }
        for ref in refs { receivedStates[ref] = nil }
        replica = Replica()
        for state in receivedStates.values { replica.merge(state) }
        for change in log { replica.apply(change) }
    }

    package func record(_ entity: Entity = .case, _ id: String) -> RecordState? { replica.record(entity, id) }
}
