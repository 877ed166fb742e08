import KakehashiShared

/// One change as the log stores it: the columns access decisions need, and the change's JSON,
/// which a pull sends as it is, without decoding it.
struct LogRow: Sendable {
    let seq: Int64
    let entity: Entity
    let record: String
    /// The field written; nil only for `delete`.
    let field: String?
    let caseID: String?
    let change: StoredChange
    /// For a change that moved an event, the case the event left.
    var movedFrom: String? = nil
}

/// Decides, for one pull page, what the device may receive now, which cases it must purge and
/// which it must be back-filled with: pure logic both stores run between their reads and writes.
///
/// The device's access bookkeeping holds, per case, the level it was last handed. A case touched
/// by the page (or, when the viewer's own directory record changed, every case) is compared with
/// that level: lower now → purge (and stub back-fill if the stub is still visible); higher now →
/// back-fill the history up to the request's cursor, since everything after it arrives in the
/// stream filtered by the current level.
struct PullPlanner {
    let viewer: AccessPolicy.Viewer

    /// Directory-like entities every active advisor receives whole.
    static let sharedEntities: Set<Entity> = [.advisor, .program, .organization, .seed, .need]

    /// Whether the page changes what the viewer's access depends on in their own directory
    /// record (program, active, deletion), which can move access to any case: then every case is
    /// reconciled, in chunks. A device pulling from the start has been handed nothing yet, so it
    /// never needs this.
    func needsFullReconcile(_ rows: [LogRow], cursor: PullCursor) -> Bool {
        cursor.seq > 0
            && rows.contains {
                $0.entity == .advisor && $0.record == viewer.advisor
                    && ($0.field == "program" || $0.field == "active" || $0.field == nil)
            }
    }

    /// How many cases a full reconciliation loads at a time, which bounds its memory.
    static let reconcileChunk = 1_000

    /// The cases the page touches, and the cases its moved events left.
    static func cases(in rows: [LogRow]) -> Set<String> {
        Set(rows.compactMap(\.caseID)).union(rows.compactMap(\.movedFrom))
    }

    /// What changed in the device's access to each case.
    struct Reconciliation {
        var current: [String: AccessPolicy.Access] = [:]
        var purges: [String] = []
        /// Cases to back-fill up to the request cursor, and at which level.
        var backfill: [String: AccessPolicy.Access] = [:]
        /// New bookkeeping levels to record under the response's generation.
        var updates: [String: AccessPolicy.Access] = [:]
        /// Events moved out of the device's sight: purge them.
        var eventPurges: [String] = []
        /// Events moved into the device's sight whose history it lacks: back-fill it up to the
        /// request cursor (what comes after arrives in the page).
        var eventBackfill: [String] = []

        /// What the device must drop: cases, then moved events.
        var purgedRecords: [RecordRef] {
            purges.map { RecordRef(entity: .case, record: $0) }
                + eventPurges.map { RecordRef(entity: .event, record: $0) }
        }

        /// Adds another chunk's outcome; its `current` levels are not kept (only the page's
        /// cases need them, for filtering).
        mutating func absorb(_ other: Reconciliation) {
            purges += other.purges
            backfill.merge(other.backfill) { first, _ in first }
            updates.merge(other.updates) { first, _ in first }
        }
    }

    /// Compares current access with the recorded levels.
    /// - Parameters:
    ///   - facts: what decides access to each case, from its current merged state (missing:
    ///     unknown case).
    ///   - recorded: the level last handed to the device per case (missing: none).
    func reconcile(
        cases: Set<String>, facts: [String: AccessPolicy.CaseFacts], recorded: [String: AccessPolicy.Access]
    ) -> Reconciliation {
        var result = Reconciliation()
        for caseID in cases.sorted() {
            let now = facts[caseID].map { AccessPolicy.access(to: $0, for: viewer) } ?? .none
            let before = recorded[caseID] ?? .none
            result.current[caseID] = now
            guard now != before else { continue }
            result.updates[caseID] = now
            if now < before {
                result.purges.append(caseID)
                if now == .stub { result.backfill[caseID] = .stub }
            } else {
                result.backfill[caseID] = now
            }
        }
        return result
    }

    /// Reconciles the page's cases, then the events the page moves between cases.
    ///
    /// An event follows its case: the log keeps every change of an event under the case it is in
    /// now, so a device that could read the case the event left holds its history and must purge
    /// it when it cannot read the new one; a device that can read the new case but could not
    /// read the old one lacks its history and is back-filled.
    func reconcile(
        page rows: [LogRow], facts: [String: AccessPolicy.CaseFacts], recorded: [String: AccessPolicy.Access]
    ) -> Reconciliation {
        var plan = reconcile(cases: Self.cases(in: rows), facts: facts, recorded: recorded)
        var origins: [String: String] = [:]
        var currentCase: [String: String] = [:]
        for row in rows where row.entity == .event {
            if let from = row.movedFrom, origins[row.record] == nil { origins[row.record] = from }
            if let caseID = row.caseID { currentCase[row.record] = caseID }
        }
        let purged = Set(plan.purges)
        for (event, origin) in origins.sorted(by: { $0.key < $1.key }) {
            let hadEvent = recorded[origin] == .full
            let seesEvent = currentCase[event].flatMap { plan.current[$0] } == .full
            if seesEvent {
                let caseBackfilled = currentCase[event].flatMap { plan.backfill[$0] } == .full
                if (!hadEvent || purged.contains(origin)) && !caseBackfilled { plan.eventBackfill.append(event) }
            } else if hadEvent {
                plan.eventPurges.append(event)
            }
        }
        return plan
    }

    /// The order in which a bootstrap sends states: the directory first, then cases, then their
    /// events (which are judged by their case).
    static let bootstrapOrder: [Entity] = [.advisor, .program, .organization, .seed, .need, .case, .event]

    /// How much of a record's merged state the viewer may receive, given current access to its
    /// case (for a case, its own; for an event, the case it is in): whole with full access, a
    /// case's stub registers (and its tombstone) with stub access, nothing otherwise. The same
    /// rule as `visible` for each change, applied register by register, so a state received is
    /// the merge of exactly the changes the device would have received.
    enum StateVisibility: Equatable {
        case whole
        /// Only the registers `AccessPolicy.mayReceive` lets through at this level.
        case restricted(AccessPolicy.Access)
        case hidden
    }

    static func stateVisibility(of entity: Entity, access: AccessPolicy.Access?) -> StateVisibility {
        if sharedEntities.contains(entity) { return .whole }
        guard let level = access, level != .none else { return .hidden }
        switch entity {
        case .case: return level == .full ? .whole : .restricted(level)
        case .event: return level == .full ? .whole : .hidden
        default: return .hidden
        }
    }

    /// A record's merged state as the viewer may receive it (`stateVisibility`); nil for none.
    static func visibleState(_ state: RecordState, access: AccessPolicy.Access?) -> RecordState? {
        switch stateVisibility(of: state.entity, access: access) {
        case .whole:
            return state
        case .restricted(let level):
            return state.restricted { AccessPolicy.mayReceive(caseField: $0.isTombstone ? nil : $0.field, with: level) }
        case .hidden:
            return nil
        }
    }

    /// Whether one logged change may travel to the viewer, given current access to its case.
    static func visible(_ row: LogRow, access: [String: AccessPolicy.Access]) -> Bool {
        if sharedEntities.contains(row.entity) { return true }
        guard let caseID = row.caseID, let level = access[caseID] else { return false }
        switch row.entity {
        case .case: return AccessPolicy.mayReceive(caseField: row.field, with: level)
        case .event: return level == .full
        default: return false
        }
    }
}
