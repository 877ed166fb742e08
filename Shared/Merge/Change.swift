/// One write to one field of one record: the unit that replicas exchange and merge
/// (Docs/design.md §5).
public struct Change: Codable, Hashable, Sendable {
    /// What the change does to its register.
    public enum Operation: String, Codable, Sendable, Hashable, CaseIterable {
        /// Replace a scalar field's value (`null` clears it).
        case set
        /// Put an element into a set field.
        case add
        /// Take an element out of a set field.
        case remove
        /// Write the record's tombstone: `true` deletes, `false` restores (used when resolving
        /// a delete-versus-edit conflict in favour of the edit).
        case delete
    }

    /// Globally unique and the idempotency key everywhere.
    public let id: ChangeID
    public let entity: Entity
    public let record: String
    /// The field written; nil for `delete`.
    public let field: String?
    public let op: Operation
    /// For `set`, the new value; for `add`/`remove`, the element (a string); for `delete`,
    /// `true` or `false`.
    public let value: FieldValue
    public let hlc: HLC
    /// Timestamps of the values the author had seen in this register when writing (its current
    /// heads). For `delete`, the heads of every register of the record: the version deleted.
    /// A write that lists another in `prev` supersedes it knowingly; two writes that do not see
    /// each other are concurrent, and if their values differ that is a conflict.
    public let prev: [HLC]
    /// The advisor on whose behalf the device wrote.
    public let author: String

    public init(
        id: ChangeID, entity: Entity, record: String, field: String?, op: Operation, value: FieldValue, hlc: HLC,
        prev: [HLC], author: String
    ) {
        self.id = id
        self.entity = entity
        self.record = record
        self.field = field
        self.op = op
        self.value = value
        self.hlc = hlc
        self.prev = prev.sorted()
        self.author = author
    }

    /// The register this change writes.
    public var register: RegisterKey {
        switch op {
        case .set: RegisterKey(field: field ?? "", element: nil)
        case .add, .remove: RegisterKey(field: field ?? "", element: value.stringValue ?? "")
        case .delete: .tombstone
        }
    }

    /// The value the register holds after this change: sets store presence as a boolean.
    public var registerValue: FieldValue {
        switch op {
        case .set, .delete: value
        case .add: .bool(true)
        case .remove: .bool(false)
        }
    }
}

/// `DEVICE:COUNTER` — the device's id and its local change counter.
public struct ChangeID: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let device: DeviceID
    public let counter: Int64

    public init(device: DeviceID, counter: Int64) {
        self.device = device
        self.counter = counter
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = DeviceID(String(parts[0])), let counter = Int64(parts[1]), counter > 0
        else { return nil }
        self.init(device: device, counter: counter)
    }

    public var description: String { "\(device.rawValue):\(counter)" }

    public static func < (lhs: ChangeID, rhs: ChangeID) -> Bool {
        lhs.device != rhs.device ? lhs.device < rhs.device : lhs.counter < rhs.counter
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = ChangeID(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not a change id (DEVICE:COUNTER)")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
