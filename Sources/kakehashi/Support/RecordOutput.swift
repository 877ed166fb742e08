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
        for record in records {
            table.append([record.id] + columns.map { presenter.display(record, $0) })
        }
        Output.line(table.render())
    }

    static func detail(_ record: RecordView, client: FieldClient, json: Bool) throws {
        if json {
            try Output.json(record)
            return
        }
        Output.line(RecordPresenter(names: try client.directoryNames()).detail(record))
        if record.isStub {
            Output.note(
                "this is another program's confidential case: only its stub (program, owner, stage, kind) is shared")
        }
    }
}
