import KakehashiShared

/// The events of a streaming export (`Exporter`): read from the store page by page, in the same
/// read as the rest of the log, each row written to `writer` (the events file, or the events sheet
/// of a workbook) as it comes and each event counted for the indicators. What it keeps grows with
/// the cases, not the events.
///
/// A ministry's profile reads the events twice: first for the cases its advisors' events bring
/// into the profile (`ExportRows.touches`), then for the rows.
///
/// An incremental export (`--since`) follows the log at two positions at once: now, and the
/// cursor (each event as it was then comes with its page, `SnapshotPage.earlier`). It writes an
/// event's row when it differs from the row the export at the cursor held, and lists the key of
/// a row the export at the cursor held and this one does not (`withdrawn`): the rows and order
/// `ExportTable.changes(since:)` gives for the whole tables.
final class EventExportStream<Writer: ExportRowWriter>: SnapshotStream, @unchecked Sendable {
    // @unchecked: the store calls it from one task, one call at a time (`SnapshotStream`), and
    // `Exporter` reads it only after the store has returned.

    /// The export as of one log position: its records, and what its event rows gathered.
    struct Position {
        let data: ReportData
        private let caseIDs: Set<String>
        private(set) var touched = Set<String>()
        /// Set once the cases the profile holds are known: the pass that writes rows.
        private(set) var rows: ExportRows?
        private(set) var facts = ExportRows.EventFacts()

        init(_ data: ReportData) {
            self.data = data
            caseIDs = data.caseIDs
        }

        /// The event a record state stands for here, if it is a live event on a live case.
        func event(_ state: RecordState?) -> ReportData.Event? {
            state.flatMap { ReportData.event($0, caseIDs: caseIDs) }
        }

        /// Notes the case `event` brings into a ministry's profile (the first pass).
        mutating func noteTouch(_ event: ReportData.Event?, _ profile: ExportProfile) {
            guard let event, ExportRows.touches(event, profile: profile, data: data) else { return }
            touched.insert(event.caseID)
        }

        mutating func startRows(_ options: Exporter.Options) {
            rows = ExportRows(data: data, profile: options.profile, fiscalYear: options.fiscalYear, touched: touched)
            touched = []
        }

        /// `event`'s row in this export (nil when it holds none), gathered into `facts`.
        mutating func row(_ event: ReportData.Event?) -> [String: ExportTable.Cell]? {
            guard let event, let row = rows?.eventRow(event) else { return nil }
            facts.add(event)
            return row
        }
    }

    private let options: Exporter.Options
    /// The export now; set by `begin`.
    private(set) var now: Position?
    /// The export at the `since` cursor, for an incremental export; set by `begin`.
    private(set) var earlier: Position?
    /// The wall time (Unix milliseconds) of the log's newest change.
    private(set) var latestMillis: Int64 = 0
    private(set) var counting: IndicatorEngine.Counting?
    /// The keys of event rows the export at the cursor held and this one does not, in id order.
    private(set) var withdrawn: [String] = []
    /// Where the event rows are written; `Exporter` completes it once the store has returned.
    private(set) var writer: Writer
    /// Set when the pass that writes rows has ended: every event row has been written.
    private(set) var complete = false
    private let table = ExportRows.emptyEvents

    init(options: Exporter.Options, writer: Writer) {
        self.options = options
        self.writer = writer
    }

    func begin(_ snapshot: LogSnapshot) throws {
        let data = ReportData(snapshot)
        now = Position(data)
        if let before = snapshot.atSince { earlier = Position(ReportData(before)) }
        latestMillis = snapshot.latest?.millis ?? 0
        counting = IndicatorEngine.Counting(data, ministry: options.profile.indicatorMinistry)
        if !ExportRows.readsTouchedCases(options.profile) { startRows() }
    }

    func consume(_ page: SnapshotPage) throws {
        guard var now else { throw KakehashiError(.internalFailure, "events streamed before the snapshot") }
        defer { self.now = now }
        for state in page.states {
            let event = now.event(state)
            let earlierEvent = earlier?.event(page.earlier(state))
            guard now.rows != nil else {
                now.noteTouch(event, options.profile)
                earlier?.noteTouch(earlierEvent, options.profile)
                continue
            }
            if let event { counting?.count(event) }
            let row = now.row(event)
            guard earlier != nil else {
                if let row { try writer.append(row) }
                continue
            }
            let earlierRow = earlier?.row(earlierEvent)
            if let row, table.row(row) != earlierRow.map(table.row) {
                try writer.append(row)
            } else if row == nil, let earlierRow {
                withdrawn.append(table.key(of: table.row(earlierRow)))
            }
        }
    }

    func endOfPass() throws -> Bool {
        guard now?.rows != nil else {
            guard now != nil else { throw KakehashiError(.internalFailure, "events streamed before the snapshot") }
            startRows()
            return true
        }
        complete = true
        return false
    }

    private func startRows() {
        now?.startRows(options)
        earlier?.startRows(options)
    }
}
