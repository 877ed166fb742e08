import KakehashiShared

/// Records read in full: `event show`, `case show` and the other show commands print long texts
/// (an activity's body, a case's summary, notes) whole, wrapped to the terminal, never cut.
extension RecordPresenter {
    /// Whether a field holds long text that is printed as a block of its own.
    static func isLongText(_ spec: FieldSpec) -> Bool {
        if case .text(_, let multiline) = spec.kind { return multiline }
        return false
    }

    /// Every field with a value: short ones as a two-column listing, long texts in full below it,
    /// wrapped to `width` display columns.
    public func fullDetail(_ record: RecordView, width: Int) -> String {
        var table = TextTable(headers: ["id", record.id])
        // Fitted to the width with TextTable: values wrap under themselves, nothing is cut.
        table.width = width
        table.fixedColumns = [0]
        table.wrapsCells = true
        table.maxColumnWidth = Int.max / 4
        var blocks: [String] = []
        for field in record.entity.schema.fields {
            let text = display(record, field.name)
            if text.isEmpty { continue }
            if Self.isLongText(field) {
                blocks.append(
                    "\(field.label) (\(field.name))\n" + TextWrap.wrap(text, width: width - 2, indent: "  "))
            } else {
                table.append(["\(field.label) (\(field.name))", text])
            }
        }
        for name in record.unknownFieldNames {
            let text = record.unknownText(name)
            if !text.isEmpty { table.append(["\(Self.unknownFieldLabel) (\(name))", text]) }
        }
        return ([table.render()] + blocks).joined(separator: "\n\n")
    }

    /// Activity records as blocks: a heading line (date, kind, author, short id) and the whole
    /// body below it, wrapped to `width`.
    public func eventBlocks(_ events: [RecordView], width: Int) -> String {
        events.map { event in
            let heading = [
                display(event, "date"), display(event, "kind"), display(event, "author"),
                event.values["referred_to"]?.isNull == false ? "→ " + display(event, "referred_to") : "",
                "[\(ShortID.of(event.id))]",
            ].filter { !$0.isEmpty }.joined(separator: "  ")
            return DisplayWidth.truncate(heading, to: width) + "\n"
                + TextWrap.wrap(display(event, "body"), width: width - 2, indent: "  ")
        }.joined(separator: "\n\n")
    }
}

/// Wrapping text to a number of display columns with an indent (`DisplayWidth.wrap`: breaks
/// between words where there are spaces, between Japanese characters, never before closing
/// punctuation; line breaks in the text are kept).
public enum TextWrap {
    public static func wrap(_ text: String, width: Int, indent: String = "") -> String {
        DisplayWidth.wrap(text, to: max(10, width - DisplayWidth.of(indent)))
            .map { $0.isEmpty ? "" : indent + $0 }
            .joined(separator: "\n")
    }
}
