import GRDB
import KakehashiShared

/// A record as the laptop currently holds it, read from its entity table.
public struct RecordView: Sendable, Hashable {
    public let entity: Entity
    public let id: String
    public let values: [String: FieldValue]
    public let sets: [String: [String]]
    /// Fields this release's schema does not know (a newer release added them), exactly as the
    /// record's merged state holds them: scalar registers by name. Filled by `show`.
    public internal(set) var unknownValues: [String: FieldValue] = [:]
    /// Set-like registers (written with add/remove) of unknown fields: the elements present.
    public internal(set) var unknownSets: [String: [String]] = [:]

    /// The names of the unknown fields this record holds, sorted.
    public var unknownFieldNames: [String] { Set(unknownValues.keys).union(unknownSets.keys).sorted() }

    /// The raw text of an unknown field: the value as received, or set elements joined with commas.
    public func unknownText(_ field: String) -> String {
        if let elements = unknownSets[field] { return elements.joined(separator: ",") }
        return unknownValues[field]?.displayText ?? ""
    }

    /// Copies the fields `state` holds that the schema does not know.
    mutating func addUnknownFields(from state: RecordState) {
        let known = Set(entity.schema.fieldNames)
        for key in state.heads.keys where !key.isTombstone && !known.contains(key.field) {
            if key.element == nil {
                unknownValues[key.field] = state.value(key.field)
            } else if unknownSets[key.field] == nil {
                unknownSets[key.field] = state.elements(key.field)
            }
        }
    }

    /// The display text of a field: scalar value, or set elements joined with commas.
    public func text(_ field: String) -> String {
        if let elements = sets[field] { return elements.joined(separator: ",") }
        return values[field]?.displayText ?? ""
    }

    /// A case of which only the stub reached this laptop (another program's confidential case).
    public var isStub: Bool { entity == .case && (values["title"] ?? .null).isNull }

    init(entity: Entity, row: Row) {
        self.entity = entity
        id = row["id"]
        var values: [String: FieldValue] = [:]
        var sets: [String: [String]] = [:]
        for field in entity.schema.fields {
            let name = field.name
            if field.isSet {
                sets[name] = JSONText.parseArray(row[name])
                continue
            }
            let stored = row[name] as DatabaseValue
            if stored.isNull {
                values[name] = .null
                continue
            }
            switch field.kind {
            case .bool: values[name] = .bool((row[name] as Int64?) != 0)
            case .integer, .yen: values[name] = .integer(row[name] as Int64? ?? 0)
            default: values[name] = .string(row[name] as String? ?? "")
            }
        }
        self.values = values
        self.sets = sets
    }
}

/// The `--json` form: an object whose keys are `id` and the field names `case set` accepts.
extension RecordView: Encodable {
    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(id, forKey: Key(stringValue: "id"))
        for field in entity.schema.fields {
            if let elements = sets[field.name] {
                try container.encode(elements, forKey: Key(stringValue: field.name))
            } else {
                try container.encode(values[field.name] ?? .null, forKey: Key(stringValue: field.name))
            }
        }
        // Never a field name (those are snake case): a newer release's fields, as received.
        let unknown = unknownFieldNames
        guard !unknown.isEmpty else { return }
        var nested = container.nestedContainer(keyedBy: Key.self, forKey: Key(stringValue: "unknownFields"))
        for name in unknown {
            if let elements = unknownSets[name] {
                try nested.encode(elements, forKey: Key(stringValue: name))
            } else {
                try nested.encode(unknownValues[name] ?? .null, forKey: Key(stringValue: name))
            }
        }
    }
}
