import KakehashiShared

/// The events of a streaming export (`Exporter`): read from the store page by page, in the same
/// read as the rest of the log, each row written to the events file as it comes and each event
/// counted for the indicators. What it keeps grows with the cases, not the events.
///
/// A ministry's profile reads the events twice: first for the cases its advisors' events bring
/// into the profile (`ExportRows.touches`), then for the rows.
final class EventExportStream: SnapshotStream, @unchecked Sendable {
    // @unchecked: the store calls it from one task, one call at a time (`SnapshotStream`), and
    // `Exporter` reads it only after the store has returned.
    private let options: Exporter.Options
    /// Everything but the events, resolved.
    private(set) var data: ReportData?
    private var caseIDs = Set<String>()
    private var touched = Set<String>()
    /// Set once the cases the profile holds are known: the pass that writes rows.
    private(set) var rows: ExportRows?
    private(set) var facts = ExportRows.EventFacts()
    private(set) var counting: IndicatorEngine.Counting?
    private var file: ExportFileWriter?
    /// The events file, complete under its temporary name, and its manifest entry.
    private(set) var events: (temporary: String, entry: ExportManifest.File)?

    init(options: Exporter.Options) {
        self.options = options
    }

    func begin(_ snapshot: LogSnapshot) throws {
        let data = ReportData(snapshot)
        self.data = data
        caseIDs = data.caseIDs
        let profile = options.profile
        counting = IndicatorEngine.Counting(data, ministry: profile.indicatorMinistry)
        if !ExportRows.readsTouchedCases(profile) { try startRows(data) }
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
                try file?.append(row)
                facts.add(event)
            }
        }
    }

    func endOfPass() throws -> Bool {
        guard rows != nil else {
            guard let data else { throw KakehashiError(.internalFailure, "events streamed before the snapshot") }
            try startRows(data)
            return true
        }
        if var file {
            events = (file.temporary, try file.finish())
            self.file = nil
        }
        return false
    }

    /// The temporary file written so far, to remove when the export fails.
    var temporaryFile: String? { file?.temporary ?? events?.temporary }

    private func startRows(_ data: ReportData) throws {
        rows = ExportRows(data: data, profile: options.profile, fiscalYear: options.fiscalYear, touched: touched)
        touched = []
        file = try ExportFileWriter(
            ExportRows.emptyEvents, format: options.format, labels: options.labels, directory: options.directory)
    }
}
