import KakehashiShared

/// One page of the history a bootstrap left out (`ChangeLogStore.history`, `GET /v1/history`):
/// the logged changes after the cursor's `after`, up to its `upTo`, that the device may receive
/// now, by the same rule as a pull (`PullPlanner.visible`, current access to each change's case).
///
/// It reads and writes no bookkeeping: the states the device holds are complete, and what
/// access it has is the change stream's business. The history only fills `kakehashi log`.
struct HistoryOperation: LogOperation {
    let viewer: AccessPolicy.Viewer
    let cursor: HistoryCursor
    let limit: Int

    private var rows: [LogRow] = []
    private var phase = Phase.rows

    private enum Phase { case rows, cases }

    init(viewer: AccessPolicy.Viewer, cursor: HistoryCursor, limit: Int) {
        self.viewer = viewer
        self.cursor = cursor
        self.limit = limit
    }

    /// How many rows the page scans: sequence numbers are dense, so these are the next ones.
    private var scanned: Int { Int(min(Int64(limit), cursor.upTo - cursor.after)) }

    mutating func start() throws -> LogStep<HistoryPage> {
        guard !cursor.isComplete else { return .finish(LogWrites(), HistoryPage(changes: [], nextCursor: cursor)) }
        var reads = LogReads()
        reads.rows = LogReads.RowsRead(after: cursor.after, limit: scanned)
        return .read(reads)
    }

    mutating func resume(with facts: LogFacts) throws -> LogStep<HistoryPage> {
        switch phase {
        case .rows:
            rows = facts.rows.filter { $0.seq <= cursor.upTo }
            let cases = PullPlanner.cases(in: rows)
            guard !cases.isEmpty else { return finish(access: [:]) }
            var reads = LogReads()
            reads.states = Set(cases.map { RecordRef(entity: .case, record: $0) })
            phase = .cases
            return .read(reads)
        case .cases:
            var access: [String: AccessPolicy.Access] = [:]
            for (ref, state) in facts.states where ref.entity == .case {
                access[ref.record] = AccessPolicy.access(to: AccessPolicy.CaseFacts(state), for: viewer)
            }
            return finish(access: access)
        }
    }

    private func finish(access: [String: AccessPolicy.Access]) -> LogStep<HistoryPage> {
        // Fewer rows than scanned would mean the log ends before `upTo`: nothing is left then.
        let end = rows.count < scanned ? cursor.upTo : rows.last?.seq ?? cursor.upTo
        return .finish(
            LogWrites(),
            HistoryPage(
                changes: rows.filter { PullPlanner.visible($0, access: access) }.map(\.json),
                nextCursor: HistoryCursor(after: end, upTo: cursor.upTo)))
    }
}

/// One page of history before it is wrapped in a `HistoryResponse`.
public struct HistoryPage: Sendable, Hashable {
    /// The changes, each as the JSON text the log stores.
    public let changes: [String]
    public let nextCursor: HistoryCursor
}
