import KakehashiShared

/// One change as the log stores it, with the case it belongs to.
struct LogRow: Sendable {
    let seq: Int64
    let caseID: String?
    let change: Change
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

    /// Whether the page changes the viewer's own directory record, which can move the viewer's
    /// access to any case (program change): then every case is reconciled.
    func needsFullReconcile(_ rows: [LogRow]) -> Bool {
        rows.contains { $0.change.entity == .advisor && $0.change.record == viewer.advisor }
    }

    /// The cases the page touches.
    static func cases(in rows: [LogRow]) -> Set<String> { Set(rows.compactMap(\.caseID)) }

    /// What changed in the device's access to each case.
    struct Reconciliation {
        var current: [String: AccessPolicy.Access] = [:]
        var purges: [String] = []
        /// Cases to back-fill up to the request cursor, and at which level.
        var backfill: [String: AccessPolicy.Access] = [:]
        /// New bookkeeping levels to record under the response's generation.
        var updates: [String: AccessPolicy.Access] = [:]
    }

    /// Compares current access with the recorded levels.
    /// - Parameters:
    ///   - states: the current merged state of each case (missing: unknown case).
    ///   - recorded: the level last handed to the device per case (missing: none).
    func reconcile(
        cases: Set<String>, states: [String: RecordState], recorded: [String: AccessPolicy.Access]
    ) -> Reconciliation {
        var result = Reconciliation()
        for caseID in cases.sorted() {
            let now = states[caseID].map { AccessPolicy.access(to: AccessPolicy.CaseFacts($0), for: viewer) } ?? .none
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

    /// Whether one logged change may travel to the viewer, given current access to its case.
    static func visible(_ row: LogRow, access: [String: AccessPolicy.Access]) -> Bool {
        let change = row.change
        if sharedEntities.contains(change.entity) { return true }
        guard let caseID = row.caseID, let level = access[caseID] else { return false }
        switch change.entity {
        case .case: return AccessPolicy.mayReceive(caseField: change.field, with: level)
        case .event: return level == .full
        default: return false
        }
    }
}
