import KakehashiClient
import KakehashiShared

/// Prints records as a table of chosen columns, a detail view, or JSON.
enum RecordOutput {
    static func list(_ records: [RecordView], columns: [String], client: FieldClient, json: Bool) throws {
        if json {
            try Output.json(records)
            return
        }
        guard let entity = records.first?.entity else {
            Output.note("(none)")
            return
        }
        let presenter = RecordPresenter(names: try client.directoryNames())
        let labels = columns.map { name in (try? entity.schema.field(name).label) ?? name }
        var table = TextTable(headers: ["ID"] + labels)
        // Ids, dates and numbers stay whole; text columns give way first, closed values and
        // names only when that is not enough.
        table.fixedColumns = [0]
        for (index, column) in columns.enumerated() {
            switch (try? entity.schema.field(column))?.kind {
            case .date?, .integer?, .yen?, .bool?: table.fixedColumns.insert(index + 1)
            case .enumeration?, .reference?: table.keptColumns.insert(index + 1)
            default: break
            }
        }
        for record in records {
            table.append([ShortID.of(record.id)] + columns.map { presenter.display(record, $0) })
        }
        Output.table(table)
    }

    static func detail(_ record: RecordView, client: FieldClient, json: Bool) throws {
        if json {
            try Output.json(record)
            return
        }
        Output.line(
            RecordPresenter(names: try client.directoryNames()).detail(
                record, width: Terminal.wide ? nil : Terminal.width()))
        if record.isStub {
            Output.note(
                "this is another program's confidential case: only its stub (program, owner, stage, kind) is shared")
        }
    }
}
