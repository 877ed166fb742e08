/// One field of one entity: the single description that drives validation, the local store's
/// columns, the wire format, help text and export headers.
///
/// Adding a field to Kakehashi means adding one `FieldSpec` to `Schema`.
public struct FieldSpec: Sendable, Hashable {
    /// Who may read a field of a `confidential` case that they do not have full access to.
    public enum Exposure: Sendable, Hashable {
        /// Part of the stub other programs see (organization, program, owner, stage, kind).
        case stub
        /// Only for those with full access.
        case full
    }

    /// The name users type (`case set ID amount_yen=…`), the JSON key, and the store's column.
    public let name: String
    /// The Japanese label used in tables and export headers.
    public let label: String
    public let kind: FieldKind
    /// Must be given when a record is created.
    public let required: Bool
    /// The value a new record starts with when none is given.
    public let defaultValue: FieldValue?
    /// Included in the offline full-text index.
    public let searchable: Bool
    public let exposure: Exposure

    public init(
        _ name: String,
        label: String,
        _ kind: FieldKind,
        required: Bool = false,
        default defaultValue: FieldValue? = nil,
        searchable: Bool = false,
        exposure: Exposure = .full
    ) {
        self.name = name
        self.label = label
        self.kind = kind
        self.required = required
        self.defaultValue = defaultValue
        self.searchable = searchable
        self.exposure = exposure
    }

    public var isSet: Bool { kind.isSet }

    /// The default of a field whose default is text (a case's `stage` and `level`), for code that
    /// reads the field; asking it of a field without one is a programming error.
    public var textDefault: String {
        guard let text = defaultValue?.stringValue else { preconditionFailure("field '\(name)' has no text default") }
        return text
    }
}
