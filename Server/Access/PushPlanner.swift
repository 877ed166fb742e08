import KakehashiShared

/// Decides, change by change, what a pushed batch does to the log: pure logic that both stores run
/// inside their write transaction, after loading the states it needs (`requiredRecords`,
/// `eventCases`, `referralCases`).
///
/// Changes are processed in request order and each accepted change is merged at once, so a later
/// change in the batch sees the earlier ones (an event may name a case created in the same batch).
/// Every decision is taken against the record states as they stand, never against what the batch
/// claims: a case created earlier in the batch grants its creator nothing over records that
/// existed before (Docs/security.md, "Who changes what").
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
        /// For each accepted change that moved an event, the case the event left: pulls use it
        /// to purge the event where it is lost and back-fill it where it is gained.
        var movedFrom: [ChangeID: String] = [:]
    }

    /// The entities each record id of the batch already exists under (ids are unique across
    /// entities).
    private var owners: [String: Entity] = [:]
    /// Records this batch creates (they did not exist before it). The batch comes from one device,
    /// so a case in this set is being written by its creator, who holds every right on it until
    /// the batch ends, even before its `owner` field arrives.
    private var createdInBatch: Set<RecordRef> = []
    /// Estimated state sizes of the records the batch writes (`RecordLimits.maxStateBytes`).
    private var sizes: [RecordRef: Int] = [:]
    /// The access facts of each case the batch has asked about, as its state stands: read from
    /// the state once rather than for every decision (an event's change asks two or three
    /// times), and dropped when a change to the case is accepted.
    private var caseFacts: [String: AccessPolicy.CaseFacts] = [:]

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

    /// The records a batch touches, the cases its events name, and the advisors it refers to.
    /// The store also loads the records of other entities that hold a batch's ids
    /// (`existingIDs`), then (second pass) `eventCases` and `referralCases`.
    static func requiredRecords(_ changes: [Change]) -> Set<RecordRef> {
        var refs = Set<RecordRef>(minimumCapacity: changes.count)
        // One pass: a change copied out of the batch costs more than the checks.
        for change in changes {
            refs.insert(RecordRef(entity: change.entity, record: change.record))
            guard let id = change.value.stringValue else { continue }
            switch (change.entity, change.field) {
            case (.event, "case") where change.op == .set: refs.insert(RecordRef(entity: .case, record: id))
            case (.event, "referred_to") where change.op == .set: refs.insert(RecordRef(entity: .advisor, record: id))
            case (.case, "owner") where change.op == .set: refs.insert(RecordRef(entity: .advisor, record: id))
            case (.organization, "merged_into"): refs.insert(RecordRef(entity: .organization, record: id))
            default: break
            }
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

    /// Cases the batch adds participants to that the viewer may refer but not control: a
    /// participant who is not the owner adds only an advisor they referred the case to, so the
    /// store loads these cases' referral events (the events with a `referred_to` write in the
    /// log). Cases the viewer cannot refer cost the store nothing.
    static func referralCases(
        _ changes: [Change], states: [RecordRef: RecordState], viewer: AccessPolicy.Viewer?
    ) -> [String] {
        guard let viewer else { return [] }
        let cases = Set(
            changes.filter { $0.entity == .case && $0.field == "participants" && $0.op == .add }.map(\.record))
        return cases.filter { caseID in
            guard let state = states[RecordRef(entity: .case, record: caseID)] else { return false }
            let rights = AccessPolicy.rights(to: AccessPolicy.CaseFacts(state), for: viewer)
            return rights.contains(.refer) && !rights.contains(.control)
        }.sorted()
    }

    mutating func plan(_ changes: [Change]) -> Outcome {
        var outcome = Outcome()
        outcome.results.reserveCapacity(changes.count)
        outcome.accepted.reserveCapacity(changes.count)
        for change in changes {
            // The change's own record is looked up once: decisions read it, an accepted change is
            // merged into it in place (a push's planning was a fifth of its server work, much of
            // it hashing the same record id again and again).
            let ref = RecordRef(entity: change.entity, record: change.record)
            let index = states.index(forKey: ref)
            let result = decide(change, state: index.map { states.values[$0] })
            outcome.results.append(result)
            guard result.status == .accepted else { continue }
            let movesEvent = change.entity == .event && change.field == "case"
            if movesEvent { outcome.movedEvents.insert(change.record) }
            if let index {
                if movesEvent, let from = states.values[index].value("case").stringValue,
                    from != change.value.stringValue
                {
                    outcome.movedFrom[change.id] = from
                }
                states.values[index].apply(change)
                sizes[ref] = states.values[index].estimatedBytes
            } else {
                // A record this batch creates: its id belonged to no record before (`owners` holds
                // every record of the batch's ids that existed).
                createdInBatch.insert(ref)
                owners[change.record] = change.entity
                var state = RecordState(entity: change.entity, id: change.record)
                state.apply(change)
                sizes[ref] = state.estimatedBytes
                states[ref] = state
            }
            if change.entity == .case { caseFacts[change.record] = nil }
            known.insert(change.id)
            outcome.accepted.append(change)
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

    private mutating func size(of ref: RecordRef) -> Int {
        if let size = sizes[ref] { return size }
        let size = states[ref]?.estimatedBytes ?? 0
        sizes[ref] = size
        return size
    }

    /// - Parameter state: the change's record as it stands, nil when the log holds none.
    private mutating func decide(_ change: Change, state: RecordState?) -> PushResult {
        if known.contains(change.id) { return PushResult(id: change.id, status: .duplicate) }
        do {
            try clock.checkDrift(change.hlc, wallMillis: wallMillis)
        } catch {
            return PushResult(id: change.id, status: .rejected, code: .clockSkew, reason: error.message)
        }
        if let refusal = accessRefusal(change, state: state) { return refusal.result(for: change.id) }
        if let reason = ActivityDate.refusal(of: change, nowMillis: wallMillis) ?? organizationRefusal(change) {
            return PushResult(id: change.id, status: .rejected, code: .invalid, reason: reason)
        }
        if let reason = limitRefusal(change, state: state) {
            return PushResult(id: change.id, status: .rejected, code: .invalid, reason: reason)
        }
        return PushResult(id: change.id, status: .accepted)
    }

    /// A refused change's code and reason.
    private struct Refusal {
        let code: PushResult.RejectionCode
        let reason: String

        static func forbidden(_ reason: String) -> Refusal { Refusal(code: .forbidden, reason: reason) }
        static func notVisible(_ id: String) -> Refusal { .forbidden(AccessPolicy.notVisible(id)) }

        func result(for id: ChangeID) -> PushResult {
            PushResult(id: id, status: .rejected, code: code, reason: reason)
        }
    }

    // MARK: - Access

    private mutating func accessRefusal(_ change: Change, state: RecordState?) -> Refusal? {
        guard let viewer else { return nil }  // the administrators' own writes
        guard viewer.active else { return .forbidden("advisor \(viewer.advisor) is deactivated") }
        if let owner = owners[change.record], owner != change.entity {
            // The id belongs to another record. Saying which entity would tell an advisor about a
            // record they cannot see, so only a visible one is named.
            let other = RecordRef(entity: owner, record: change.record)
            guard isVisible(other, to: viewer) else { return .notVisible(change.record) }
            return Refusal(
                code: .invalid,
                reason:
                    "record id \(change.record) already belongs to a \(owner.rawValue), not a \(change.entity.rawValue)"
            )
        }
        if change.entity.schema.adminOnly {
            return .forbidden("\(change.entity.rawValue) records are kept by the Cabinet Office administrators")
        }
        switch change.entity {
        case .case: return caseRefusal(change, viewer, state: state)
        case .event: return eventRefusal(change, viewer, state: state)
        default: return nil  // organizations, seeds and needs are shared by every active advisor
        }
    }

    /// Whether the record exists for `viewer` at all: directory-like records for everyone, a case
    /// from its stub up, an event with full access to its case.
    private mutating func isVisible(_ ref: RecordRef, to viewer: AccessPolicy.Viewer) -> Bool {
        switch ref.entity {
        case .case:
            return access(toCase: ref.record, viewer) > .none
        case .event:
            guard let caseID = states[ref]?.value("case").stringValue else { return false }
            return access(toCase: caseID, viewer) == .full
        default:
            return true
        }
    }

    private mutating func access(toCase caseID: String, _ viewer: AccessPolicy.Viewer) -> AccessPolicy.Access {
        let ref = RecordRef(entity: .case, record: caseID)
        if createdInBatch.contains(ref) { return .full }
        guard let facts = facts(ofCase: ref) else { return .none }
        return AccessPolicy.access(to: facts, for: viewer)
    }

    /// The access facts of the case `ref` as its state stands (`caseFacts`); nil when the log
    /// holds no such case.
    private mutating func facts(ofCase ref: RecordRef) -> AccessPolicy.CaseFacts? {
        if let facts = caseFacts[ref.record] { return facts }
        guard let state = states[ref] else { return nil }
        let facts = AccessPolicy.CaseFacts(state)
        caseFacts[ref.record] = facts
        return facts
    }

    /// Why `viewer` may not do what needs `right` on the case; the case must be one they see.
    private mutating func refusal(
        _ right: AccessPolicy.WriteRight, onCase caseID: String, _ viewer: AccessPolicy.Viewer
    ) -> Refusal? {
        let ref = RecordRef(entity: .case, record: caseID)
        if createdInBatch.contains(ref) { return nil }
        guard let facts = facts(ofCase: ref) else { return .notVisible(caseID) }
        return AccessPolicy.refusal(right, on: caseID, facts: facts, for: viewer).map(Refusal.forbidden)
    }

    private mutating func caseRefusal(
        _ change: Change, _ viewer: AccessPolicy.Viewer, state: RecordState?
    ) -> Refusal? {
        let ref = RecordRef(entity: .case, record: change.record)
        if state == nil {
            // A case the log does not hold comes into being only by a first change that names its
            // creator as owner (the laptop writes `owner` first). Any other change to an unknown
            // case id (one learned from a stub or an export, or a case a restore lost whose owner
            // has not sent it again yet) creates nothing and claims nothing.
            guard change.field == "owner", change.op == .set, change.value.stringValue == viewer.advisor else {
                return .notVisible(change.record)
            }
            return nil
        }
        if createdInBatch.contains(ref) {
            // Creating a case: its owner is the advisor who creates it, for the whole batch.
            if change.field == "owner", change.value.stringValue != viewer.advisor {
                return .forbidden("a new case's owner is the advisor who creates it")
            }
            if change.field == "program", let program = change.value.stringValue, program != viewer.program {
                return .forbidden("新しい案件は作成者の事業の案件です（\(program) は指定できません）")
            }
            return nil
        }
        guard access(toCase: change.record, viewer) > .none else { return .notVisible(change.record) }
        if change.field == "owner", let advisor = change.value.stringValue, !isActiveAdvisor(advisor) {
            return .forbidden("owner must be an active advisor")
        }
        let right = AccessPolicy.requiredRight(forCaseChange: change)
        guard let refused = refusal(right, onCase: change.record, viewer) else { return nil }
        if change.field == "participants", change.op == .add, let advisor = change.value.stringValue,
            refusal(.refer, onCase: change.record, viewer) == nil,
            hasReferral(ofCase: change.record, to: advisor, by: viewer.advisor)
        {
            return nil
        }
        return refused
    }

    /// Whether a referral event on the case, created by `author`, names `advisor`.
    private func hasReferral(ofCase caseID: String, to advisor: String, by author: String) -> Bool {
        states.values.contains { state in
            state.entity == .event && !state.isDeleted && state.value("case").stringValue == caseID
                && state.value("kind").stringValue == "referral"
                && state.value("referred_to").stringValue == advisor
                && EventCredit.author(of: state) == author
        }
    }

    private mutating func eventRefusal(
        _ change: Change, _ viewer: AccessPolicy.Viewer, state: RecordState?
    ) -> Refusal? {
        let current = state?.value("case").stringValue
        if state != nil, let current {
            // An existing event is seen, and changed, only through the case it is in now.
            guard access(toCase: current, viewer) == .full else { return .notVisible(change.record) }
        }
        let right = AccessPolicy.requiredRight(forEventChange: change)
        if change.field == "case", change.op == .set {
            guard let target = change.value.stringValue else { return .forbidden("an event must name its case") }
            if let current, current != target, let state {
                if let refusal = refusal(.content, onCase: current, viewer) { return refusal }
                // Moving takes the event away from everyone who reads only the case it leaves: only
                // the event's author or that case's owner may do it.
                if !isAuthorOrOwner(of: state, inCase: current, viewer) {
                    return .forbidden(
                        "only the event's author or the owner of case \(current) may move the event to another case")
                }
            }
            guard access(toCase: target, viewer) > .none else { return .notVisible(target) }
            if let refusal = refusal(right, onCase: target, viewer) { return refusal }
        } else {
            guard let current else {
                // A new event starts with its `case`: every other field is judged by that case.
                return .forbidden("event \(change.record) names no case; send its `case` field first")
            }
            guard access(toCase: current, viewer) > .none else { return .notVisible(current) }
            if let refusal = refusal(right, onCase: current, viewer) { return refusal }
            // A referral is credit between programs: others may not undo or redate it.
            if let state, state.value("kind").stringValue == "referral",
                change.op == .delete || change.field == "kind" || change.field == "date",
                !isAuthorOrOwner(of: state, inCase: current, viewer)
            {
                return .forbidden(
                    "only the referral's author or the owner of case \(current) may change its kind or date or delete it"
                )
            }
        }
        return creditRefusal(change, state, viewer)
    }

    /// Whether `viewer` wrote the event, or owns the case it is in (or creates that case in this batch).
    private func isAuthorOrOwner(of event: RecordState, inCase caseID: String, _ viewer: AccessPolicy.Viewer) -> Bool {
        let ref = RecordRef(entity: .case, record: caseID)
        return createdInBatch.contains(ref) || EventCredit.author(of: event) == viewer.advisor
            || states[ref]?.value("owner").stringValue == viewer.advisor
    }

    /// Credit is never taken from the client's word: an event's author is the advisor who wrote
    /// it, once; a referral names, once, an active advisor of another program.
    private func creditRefusal(_ change: Change, _ state: RecordState?, _ viewer: AccessPolicy.Viewer) -> Refusal? {
        switch change.field {
        case "author":
            guard state?.value("author").isNull ?? true, change.value.stringValue == viewer.advisor else {
                return .forbidden("an event's author is the advisor who created it and cannot be changed")
            }
        case "referred_to":
            guard state?.value("referred_to").isNull ?? true else {
                return .forbidden("the advisor a referral names cannot be changed; record a new referral instead")
            }
            guard let advisor = change.value.stringValue, isActiveAdvisor(advisor) else {
                return .forbidden("referred_to must be an active advisor")
            }
            let directory = states[RecordRef(entity: .advisor, record: advisor)]
            if let program = directory?.value("program").stringValue, program == viewer.program {
                return .forbidden("a referral hands a case to another program; \(advisor) is in your own program")
            }
        default:
            break
        }
        return nil
    }

    private func isActiveAdvisor(_ advisor: String) -> Bool {
        guard let directory = states[RecordRef(entity: .advisor, record: advisor)] else { return false }
        return AccessPolicy.Viewer(advisor: advisor, state: directory).active
    }

    // MARK: - Organizations

    /// `merged_into` joins two records of one company: it must name another organization, and a
    /// record with a 法人番号 only one with the same number (two companies never become one, and
    /// the number stays with the record that represents the company).
    private func organizationRefusal(_ change: Change) -> String? {
        guard change.entity == .organization, change.field == "merged_into", change.op == .set,
            let target = change.value.stringValue
        else { return nil }
        if target == change.record { return "組織を自分自身に統合することはできません" }
        guard let into = states[RecordRef(entity: .organization, record: target)] else {
            return "merged_into: 組織 \(target) がありません"
        }
        let number = states[RecordRef(entity: .organization, record: change.record)]?.value("corporate_number")
            .stringValue
        let other = into.value("corporate_number").stringValue
        if let number, number != other {
            return other.map { "法人番号が異なる組織（\(number)、\($0)）は別の会社なので統合できません" }
                ?? "法人番号 \(number) の組織は、同じ法人番号を持つ組織にだけ統合できます"
        }
        return nil
    }

    // MARK: - Limits

    private mutating func limitRefusal(_ change: Change, state: RecordState?) -> String? {
        let ref = RecordRef(entity: change.entity, record: change.record)
        // Every change has its own timestamp. One reused under a new change id would merge to
        // nothing and only grow the log.
        if let state,
            state.heads[change.register]?.contains(where: { $0.hlc == change.hlc }) == true
                || state.superseded[change.register]?.contains(change.hlc) == true
        {
            return "timestamp \(change.hlc) was already used by another change to \(change.register)"
        }
        if change.op == .add, let field = change.field, let elements = state?.elements(field),
            let element = change.value.stringValue, !elements.contains(element),
            elements.count >= RecordLimits.maxSetElements
        {
            return "\(field) holds at most \(RecordLimits.maxSetElements) elements"
        }
        if change.op != .delete, let heads = state?.heads[change.register],
            heads.count(where: { !change.prev.contains($0.hlc) }) >= RecordLimits.maxHeads
        {
            return "\(change.register) already holds \(RecordLimits.maxHeads) concurrent values; "
                + "resolve the conflict before writing it again"
        }
        if size(of: ref) + RecordLimits.estimatedBytes(of: change) > RecordLimits.maxStateBytes {
            return "record \(change.record) has reached its size limit (\(RecordLimits.maxStateBytes / 1024) KiB "
                + "of merged history); resolve its conflicts or start a new record"
        }
        return nil
    }
}
