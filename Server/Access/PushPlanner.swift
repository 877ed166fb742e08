import KakehashiShared

/// Decides, change by change, what a pushed batch does to the log: pure logic that both stores run
/// inside their write transaction, after loading the states it needs (`requiredRecords`).
///
/// Changes are processed in request order and each accepted change is merged at once, so a later
/// change in the batch sees the earlier ones (an event may name a case created in the same batch).
struct PushPlanner {
    /// Record states as loaded from the store, updated as changes are accepted.
    var states: [RecordRef: RecordState]
    /// Change ids already in the log (a retried batch) and accepted from this batch so far.
    var known: Set<ChangeID>
    let viewer: AccessPolicy.Viewer?
    let clock: HybridClock
    let wallMillis: Int64

    /// What the batch did.
    struct Outcome {
        var results: [PushResult] = []
        /// Accepted changes in order, with the case each belongs to (for the log's `case_id`).
        var accepted: [Change] = []
        /// Events whose `case` field was written: their older log rows move with them.
        var movedEvents: Set<String> = []
    }

    /// The entities each record id of the batch already exists under (ids are unique across
    /// entities: a change naming an id that belongs to another entity is `invalid`).
    private var owners: [String: Entity] = [:]

    init(
        states: [RecordRef: RecordState], known: Set<ChangeID>, viewer: AccessPolicy.Viewer?, wallMillis: Int64,
        existingIDs: [RecordRef] = []
    ) {
        for ref in existingIDs { owners[ref.record] = ref.entity }
        self.states = states
        self.known = known
        self.viewer = viewer
        self.wallMillis = wallMillis
        // Only the drift bound is used; the device id is irrelevant for `checkDrift`.
        self.clock = HybridClock(device: DeviceID("server")!)
    }

    /// The records a batch touches, then (second pass) the cases its events belong to.
    static func requiredRecords(_ changes: [Change]) -> Set<RecordRef> {
        var refs = Set(changes.map { RecordRef(entity: $0.entity, record: $0.record) })
        for change in changes where change.entity == .event && change.field == "case" && change.op == .set {
            if let caseID = change.value.stringValue { refs.insert(RecordRef(entity: .case, record: caseID)) }
        }
        return refs
    }

    /// The cases of events already in the store, which the first pass could not know.
    static func eventCases(_ states: [RecordRef: RecordState]) -> Set<RecordRef> {
        Set(
            states.values.filter { $0.entity == .event }.compactMap { state in
                state.value("case").stringValue.map { RecordRef(entity: .case, record: $0) }
            })
    }

    /// For each event the batch names a case for, that case (the newest such write): a new
    /// event's fields may arrive before its `case` field in the same batch.
    private var batchEventCases: [String: String] = [:]
    /// Records this batch creates: until the batch ends they are being written by their creator,
    /// whose access cannot be judged from a half-written state (a case's `owner` may come after
    /// its `kind`).
    private var createdInBatch: Set<RecordRef> = []

    mutating func plan(_ changes: [Change]) -> Outcome {
        var newest: [String: HLC] = [:]
        for change in changes where change.entity == .event && change.field == "case" && change.op == .set {
            guard let caseID = change.value.stringValue, newest[change.record].map({ $0 < change.hlc }) ?? true
            else { continue }
            newest[change.record] = change.hlc
            batchEventCases[change.record] = caseID
        }
        var outcome = Outcome()
        for change in changes {
            let result = decide(change)
            outcome.results.append(result)
            guard result.status == .accepted else { continue }
            let ref = RecordRef(entity: change.entity, record: change.record)
            if states[ref] == nil { createdInBatch.insert(ref) }
            owners[change.record] = change.entity
            states[ref, default: RecordState(entity: change.entity, id: change.record)].apply(change)
            known.insert(change.id)
            outcome.accepted.append(change)
            if change.entity == .event && change.field == "case" { outcome.movedEvents.insert(change.record) }
        }
        return outcome
    }

    /// The case a log row of `change` belongs to, after the batch: the case itself, an event's
    /// current case, nil for everything else.
    func caseID(of change: Change) -> String? {
        switch change.entity {
        case .case: change.record
        case .event: states[RecordRef(entity: .event, record: change.record)]?.value("case").stringValue
        default: nil
        }
    }

    private func decide(_ change: Change) -> PushResult {
        if known.contains(change.id) { return PushResult(id: change.id, status: .duplicate) }
        if let owner = owners[change.record], owner != change.entity {
            return PushResult(
                id: change.id, status: .rejected, code: .invalid,
                reason:
                    "record id \(change.record) already belongs to a \(owner.rawValue), not a \(change.entity.rawValue)"
            )
        }
        do {
            try clock.checkDrift(change.hlc, wallMillis: wallMillis)
        } catch {
            return PushResult(id: change.id, status: .rejected, code: .clockSkew, reason: error.message)
        }
        guard let viewer else { return PushResult(id: change.id, status: .accepted) }
        let ref = RecordRef(entity: change.entity, record: change.record)
        let state = createdInBatch.contains(ref) && change.entity == .case ? nil : states[ref]
        var facts: AccessPolicy.CaseFacts?
        switch change.entity {
        case .case:
            facts = state.map(AccessPolicy.CaseFacts.init)
        case .event:
            let current = state?.value("case").stringValue
            let target =
                change.field == "case" && change.op == .set
                ? change.value.stringValue : current ?? batchEventCases[change.record]
            if viewer.active, let target, createdInBatch.contains(RecordRef(entity: .case, record: target)) {
                return PushResult(id: change.id, status: .accepted)
            }
            facts = target.flatMap { states[RecordRef(entity: .case, record: $0)] }.map(AccessPolicy.CaseFacts.init)
            // Moving an event out of a case needs full access to the case it leaves as well.
            if let current, current != target {
                let old = states[RecordRef(entity: .case, record: current)].map(AccessPolicy.CaseFacts.init)
                if let old, AccessPolicy.access(to: old, for: viewer) != .full {
                    return PushResult(
                        id: change.id, status: .rejected, code: .forbidden, reason: "no full access to the event's case"
                    )
                }
            }
        default:
            break
        }
        if let reason = AccessPolicy.writeRefusal(change, by: viewer, recordExists: state != nil, caseFacts: facts) {
            return PushResult(id: change.id, status: .rejected, code: .forbidden, reason: reason)
        }
        return PushResult(id: change.id, status: .accepted)
    }
}
