/// The address of one mergeable value inside a record: a scalar field, one element of a set
/// field, or the record's tombstone.
public struct RegisterKey: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let field: String
    /// For set fields, the element whose presence this register holds.
    public let element: String?

    public init(field: String, element: String?) {
        self.field = field
        self.element = element
    }

    /// The register `delete` writes; its name is not a valid field name, so it never collides.
    public static let tombstone = RegisterKey(field: "@deleted", element: nil)

    public var isTombstone: Bool { self == .tombstone }

    public static func < (lhs: RegisterKey, rhs: RegisterKey) -> Bool {
        if lhs.field != rhs.field { return lhs.field.utf8.lexicographicallyPrecedes(rhs.field.utf8) }
        switch (lhs.element, rhs.element) {
        case (nil, _): return rhs.element != nil
        case (_, nil): return false
        case (let left?, let right?): return left.utf8.lexicographicallyPrecedes(right.utf8)
        }
    }

    public var description: String { element.map { "\(field)[\($0)]" } ?? field }
}

/// A write as a register remembers it: enough to show who wrote what, when, and what they saw.
public struct Write: Sendable, Hashable, Codable {
    public let change: ChangeID
    public let value: FieldValue
    public let hlc: HLC
    public let prev: [HLC]
    public let author: String

    public init(change: ChangeID, value: FieldValue, hlc: HLC, prev: [HLC], author: String) {
        self.change = change
        self.value = value
        self.hlc = hlc
        self.prev = prev
        self.author = author
    }

    public init(_ change: Change) {
        self.init(
            change: change.id, value: change.registerValue, hlc: change.hlc, prev: change.prev, author: change.author)
    }
}
