import KakehashiShared

/// One page of the history states left out (`ChangeLogStore.history`, `GET /v1/history`): the
/// logged changes after the cursor's `after`, up to its `upTo` (for a scoped cursor, only those
/// of its case and the case's events, or of its event), that the device may receive,
/// by the same rule as a pull (`PullPlanner.visible`) at the lower of two levels per case: its
/// access now, and the level last handed to the device. History never gives a device more than
/// the change stream has handed it, so the stream's purges still cover all it holds.
///
/// It writes no bookkeeping: what access the device has is the change stream's business.
struct HistoryOperation: LogOperation {
    let device: DeviceID
    let viewer: AccessPolicy.Viewer
    let cursor: HistoryCursor
    let limit: Int

    private var rows: [LogRow] = []
    private var generation: Int64 = 0
    private var phase = Phase.rows

    private enum Phase { case rows, cases }

    init(device: DeviceID, viewer: AccessPolicy.Viewer, cursor: HistoryCursor, limit: Int) {
        self.device = device
        self.viewer = viewer
        self.cursor = cursor
        self.limit = limit
    }

    /// How many rows the page scans: sequence numbers are dense, so these are the next ones (for a
    /// scoped cursor: at most the next `limit` of its record's rows).
    private var scanned: Int { Int(min(Int64(limit), cursor.upTo - cursor.after)) }

    mutating func start() throws -> LogStep<HistoryPage> {
        guard !cursor.isComplete else { return .finish(LogWrites(), HistoryPage(stored: [], nextCursor: cursor)) }
        var reads = LogReads()
        if let scope = cursor.scope {
            reads.scopedRows = LogReads.ScopedRowsRead(
                scope: scope, after: cursor.after, upTo: cursor.upTo, limit: scanned)
        } else {
            reads.rows = LogReads.RowsRead(after: cursor.after, limit: scanned)
        }
        reads.device = LogReads.DeviceRead(device: device, generation: 0)
        return .read(reads)
    }

    mutating func resume(with facts: LogFacts) throws -> LogStep<HistoryPage> {
        switch phase {
        case .rows:
            rows = facts.rows.filter { $0.seq <= cursor.upTo }
            generation = facts.deviceGeneration ?? 0
            let cases = PullPlanner.cases(in: rows)
            guard !cases.isEmpty else { return finish(access: [:]) }
            var reads = LogReads()
            reads.caseFacts = cases
            reads.recordedLevels = LogReads.LevelsRead(device: device, cases: cases.sorted(), generation: generation)
            phase = .cases
            return .read(reads)
        case .cases:
            var access: [String: AccessPolicy.Access] = [:]
            for (caseID, caseFacts) in facts.caseFacts {
                let now = AccessPolicy.access(to: caseFacts, for: viewer)
                access[caseID] = min(now, facts.recordedLevels[caseID] ?? .none)
            }
            return finish(access: access)
        }
    }

    private func finish(access: [String: AccessPolicy.Access]) -> LogStep<HistoryPage> {
        // Fewer rows than scanned means the log (or the record's history) ends before `upTo`:
        // nothing is left then.
        let end = rows.count < scanned ? cursor.upTo : rows.last?.seq ?? cursor.upTo
        return .finish(
            LogWrites(),
            HistoryPage(
                stored: rows.filter { PullPlanner.visible($0, access: access) }.map(\.change),
                nextCursor: cursor.advanced(to: end)))
    }
}

/// One page of history before it is wrapped in a `HistoryResponse`.
public struct HistoryPage: Sendable, Hashable {
    /// The changes, as the log stores them.
    public let stored: [StoredChange]
    /// The changes' JSON texts, as JSON pages splice them in.
    public var changes: [String] { get throws { try stored.map { try $0.json } } }
    public let nextCursor: HistoryCursor
}
