/// A closed set of values for an enum field, each with its Japanese label.
///
/// Input accepts either the canonical value (`sme`) or its label (`中小企業`); storage and the
/// wire always carry the canonical value.
public struct EnumDomain: Sendable, Hashable {
    public struct Member: Sendable, Hashable {
        public let value: String
        public let label: String
    }

    public let name: String
    public let members: [Member]

    public init(_ name: String, _ members: KeyValuePairs<String, String>) {
        self.name = name
        self.members = members.map { Member(value: $0.key, label: $0.value) }
    }

    public var values: [String] { members.map(\.value) }

    public func contains(_ value: String) -> Bool { members.contains { $0.value == value } }

    public func label(of value: String) -> String? { members.first { $0.value == value }?.label }

    /// The canonical value for a value or a Japanese label, or nil when it is neither.
    public func canonical(_ input: String) -> String? {
        members.first { $0.value == input || $0.label == input }?.value
    }

    /// `sme (中小企業), large-company (大企業), …` for error messages and help text.
    public var listing: String {
        members.map { "\($0.value) (\($0.label))" }.joined(separator: ", ")
    }
}
