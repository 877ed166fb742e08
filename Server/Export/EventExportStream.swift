import KakehashiShared

/// The events of a streaming export (`Exporter`): read from the store page by page, in the same
/// read as the rest of the log, each row written to `writer` (the events file, or the events sheet
/// of a workbook) as it comes and each event counted for the indicators. What it keeps grows with
/// the cases, not the events.
///
/// A ministry's profile reads the events twice: first for the cases its advisors' events bring
/// into the profile (`ExportRows.touches`), then for the rows.
final class EventExportStream<Writer: ExportRowWriter>: SnapshotStream, @unchecked Sendable {
    // @unchecked: the store calls it from one task, one call at a time (`SnapshotStream`), and
    // `Exporter` reads it only after the store has returned.
    private let options: Exporter.Options
    /// Everything but the events, resolved.
    private(set) var data: ReportData?
    /// The wall time (Unix milliseconds) of the log's newest change.
    private(set) var latestMillis: Int64 = 0
    private var caseIDs = Set<String>()
    private var touched = Set<String>()
    /// Set once the cases the profile holds are known: the pass that writes rows.
    private(set) var rows: ExportRows?
    private(set) var facts = ExportRows.EventFacts()
    private(set) var counting: IndicatorEngine.Counting?
    /// Where the event rows are written; `Exporter` completes it once the store has returned.
    private(set) var writer: Writer
    /// Set when the pass that writes rows has ended: every event row has been written.
    private(set) var complete = false

    init(options: Exporter.Options, writer: Writer) {
        self.options = options
        self.writer = writer
    }

    func begin(_ snapshot: LogSnapshot) throws {
        let data = ReportData(snapshot)
        self.data = data
        latestMillis = snapshot.latest?.millis ?? 0
        caseIDs = data.caseIDs
        let profile = options.profile
        counting = IndicatorEngine.Counting(data, ministry: profile.indicatorMinistry)
        if !ExportRows.readsTouchedCases(profile) { startRows(data) }
    }

    func consume(_ page: [RecordState]) throws {
        guard let data else { throw KakehashiError(.internalFailure, "events streamed before the snapshot") }
        for state in page {
            guard let event = ReportData.event(state, caseIDs: caseIDs) else { continue }
            guard let rows else {
                if ExportRows.touches(event, profile: options.profile, data: data) { touched.insert(event.caseID) }
                continue
            }
            counting?.count(event)
            if let row = rows.eventRow(event) {
                try writer.append(row)
                facts.add(event)
            }
        }
    }

    func endOfPass() throws -> Bool {
        guard rows != nil else {
            guard let data else { throw KakehashiError(.internalFailure, "events streamed before the snapshot") }
            startRows(data)
            return true
        }
        complete = true
        return false
    }

    private func startRows(_ data: ReportData) {
        rows = ExportRows(data: data, profile: options.profile, fiscalYear: options.fiscalYear, touched: touched)
        touched = []
    }
}
