/// A single field value as it is stored, merged and sent on the wire.
///
/// The wire form is a bare JSON primitive: `null`, a string, an integer or a boolean. Dates,
/// enum values, references and set elements are all strings in their canonical spelling, so two
/// replicas that hold the same value hold the same bytes.
public enum FieldValue: Hashable, Sendable {
    case null
    case string(String)
    case integer(Int64)
    case bool(Bool)

    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    public var integerValue: Int64? {
        if case .integer(let value) = self { value } else { nil }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { value } else { nil }
    }

    public var isNull: Bool { self == .null }

    /// The value as a person reads it in a table cell or a `FIELD=VALUE` argument.
    public var displayText: String {
        switch self {
        case .null: ""
        case .string(let value): value
        case .integer(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        }
    }
}

extension FieldValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Strings first: they are most values, and every failed attempt costs a thrown error.
        if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "a field value must be null, a string, an integer or a boolean"
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        }
    }
}

extension FieldValue: Comparable {
    /// A total order used only to make sorted output deterministic; it carries no meaning.
    public static func < (lhs: FieldValue, rhs: FieldValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): false
        case (.null, _): true
        case (_, .null): false
        case (.bool(let a), .bool(let b)): !a && b
        case (.bool, _): true
        case (_, .bool): false
        case (.integer(let a), .integer(let b)): a < b
        case (.integer, _): true
        case (_, .integer): false
        case (.string(let a), .string(let b)): Array(a.utf8).lexicographicallyPrecedes(b.utf8)
        }
    }
}
