import KakehashiShared

/// Turns stored values into what a person reads: enum values as their Japanese labels,
/// references as names, stubs marked as such.
public struct RecordPresenter: Sendable {
    /// Names of advisors and programs by id.
    public let names: [String: String]

    public init(names: [String: String]) { self.names = names }

    public static let stubTitle = "（非開示：他事業の秘案件）"
    /// The label of a field this release does not know (a newer release's field, shown raw).
    public static let unknownFieldLabel = "未対応の項目"

    public func display(_ record: RecordView, _ field: String) -> String {
        guard let spec = try? record.entity.schema.field(field) else { return "" }
        if field == "title", record.isStub { return Self.stubTitle }
        switch spec.kind {
        case .enumeration(let domain):
            let value = record.text(field)
            return domain.label(of: value) ?? value
        case .reference:
            let id = record.text(field)
            return names[id] ?? id
        case .referenceSet:
            return (record.sets[field] ?? []).map { names[$0] ?? $0 }.joined(separator: ", ")
        case .yen:
            guard let amount = record.values[field]?.integerValue else { return "" }
            return Self.groupedYen(amount)
        case .bool:
            guard let value = record.values[field], !value.isNull else { return "" }
            return value == .bool(true) ? "はい" : "いいえ"
        default:
            return record.text(field)
        }
    }

    /// `1500000` → `1,500,000円`.
    public static func groupedYen(_ amount: Int64) -> String {
        let digits = Array(String(amount))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out + "円"
    }

    /// A vertical listing of every field with a value: `件名 (title)  精密加工の試作`. With a
    /// `width`, long values wrap onto more lines within it (nothing is cut).
    public func detail(_ record: RecordView, width: Int? = nil) -> String {
        var table = TextTable(headers: ["id", record.id])
        table.maxColumnWidth = Int.max / 4
        table.width = width
        table.fixedColumns = [0]
        table.wrapsCells = true
        for field in record.entity.schema.fields {
            let text = display(record, field.name)
            if text.isEmpty { continue }
            table.append(["\(field.label) (\(field.name))", text])
        }
        // Fields a newer release added: this release cannot label or check them, so they are
        // shown raw, and kept and synced untouched.
        for name in record.unknownFieldNames {
            let text = record.unknownText(name)
            if text.isEmpty { continue }
            table.append(["\(Self.unknownFieldLabel) (\(name))", text])
        }
        return table.render()
    }
}
