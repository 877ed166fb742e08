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
        self.init(
            sentID: id, entity: entity, record: record, field: field, op: op, value: value, hlc: hlc,
            prev: prev.sorted(), author: author)
    }

    /// A change as it was sent, `prev` in the order it came (a binary page's; validation judges it).
    init(
        sentID id: ChangeID, entity: Entity, record: String, field: String?, op: Operation, value: FieldValue,
        hlc: HLC, prev: [HLC], author: String
    ) {
        self.id = id
        self.entity = entity
        self.record = record
        self.field = field
        self.op = op
        self.value = value
        self.hlc = hlc
        self.prev = prev
        self.author = author
    }

    private enum CodingKeys: String, CodingKey {
        case id, entity, record, field, op, value, hlc, prev, author
    }

    /// An element's place in an array, for the coding path of an error.
    private struct Position: CodingKey {
        let intValue: Int?
        var stringValue: String { intValue.map(String.init) ?? "" }
        init(intValue: Int) { self.intValue = intValue }
        init?(stringValue: String) { nil }
    }

    /// Decodes the timestamps and the id from their strings here rather than through their own
    /// `Decodable` conformances: a nested decoder per timestamp was a third of the cost of reading
    /// a pulled page. Fields are kept as sent (`prev` is not re-sorted): validation judges them.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let idText = try container.decode(String.self, forKey: .id)
        guard let id = ChangeID(idText) else {
            throw DecodingError.dataCorruptedError(
                forKey: .id, in: container, debugDescription: "'\(idText)' is not a change id (DEVICE:COUNTER)")
        }
        self.id = id
        entity = try container.decode(Entity.self, forKey: .entity)
        record = try container.decode(String.self, forKey: .record)
        field = try container.decodeIfPresent(String.self, forKey: .field)
        op = try container.decode(Operation.self, forKey: .op)
        value = try container.decode(FieldValue.self, forKey: .value)
        let hlcText = try container.decode(String.self, forKey: .hlc)
        guard let hlc = HLC(hlcText) else {
            throw DecodingError.dataCorruptedError(
                forKey: .hlc, in: container,
                debugDescription: "'\(hlcText)' is not an HLC timestamp (MILLIS-COUNTER-DEVICE)")
        }
        self.hlc = hlc
        var stamps = try container.nestedUnkeyedContainer(forKey: .prev)
        var prev: [HLC] = []
        while !stamps.isAtEnd {
            let position = Position(intValue: stamps.currentIndex)
            let text = try stamps.decode(String.self)
            guard let stamp = HLC(text) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: stamps.codingPath + [position],
                        debugDescription: "'\(text)' is not an HLC timestamp (MILLIS-COUNTER-DEVICE)"))
            }
            prev.append(stamp)
        }
        self.prev = prev
        author = try container.decode(String.self, forKey: .author)
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
