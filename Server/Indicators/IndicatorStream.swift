import KakehashiShared

extension IndicatorEngine {
    /// The indicators of the whole log, with the events read from the store a page at a time
    /// (`kakehashi-server indicators`): what is held grows with the cases, programs and years,
    /// not with the events. The same counting as `compute(_:fiscalYear:ministry:today:)`, whose
    /// report it equals.
    public static func compute(
        from store: any ChangeLogStore, fiscalYear: Int? = nil, pageSize: Int = 1_000
    ) async throws -> IndicatorReport {
        let stream = IndicatorStream()
        try await store.snapshot(
            entities: LogSnapshot.reportingEntities.filter { $0 != .event }, streaming: .event, since: nil,
            pageSize: pageSize,
            into: stream)
        guard let data = stream.data, let counting = stream.counting else {
            throw KakehashiError(.internalFailure, "the store ended the event stream early")
        }
        return counting.report(fiscalYear: fiscalYear, today: data.asOf)
    }
}

/// The events of `IndicatorEngine.compute(from:)`, counted as they come, in one pass.
final class IndicatorStream: SnapshotStream, @unchecked Sendable {
    // @unchecked: the store calls it from one task, one call at a time (`SnapshotStream`), and
    // `compute(from:)` reads it only after the store has returned.
    private(set) var data: ReportData?
    private(set) var counting: IndicatorEngine.Counting?
    private var caseIDs = Set<String>()

    func begin(_ snapshot: LogSnapshot) throws {
        let data = ReportData(snapshot)
        self.data = data
        caseIDs = data.caseIDs
        counting = IndicatorEngine.Counting(data, ministry: nil)
    }

    func consume(_ page: SnapshotPage) throws {
        for state in page.states {
            guard let event = ReportData.event(state, caseIDs: caseIDs) else { continue }
            counting?.count(event)
        }
    }

    func endOfPass() throws -> Bool { false }
}
