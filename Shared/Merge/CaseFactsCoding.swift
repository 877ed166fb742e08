/// The facts that decide access to a case (`AccessPolicy.CaseFacts`) read straight from the
/// case's merged state in its binary coding (`RecordState.binaryEncoded`, version 1 or 2),
/// without decoding the state. A pull decides the device's access to every case its page
/// touches, and a full reconciliation to every case of the store; decoding each whole state for
/// four of its registers was a sixth of a replay's server work. Only the access registers'
/// newest values are read (`RecordState.newestValues`).
extension AccessPolicy.CaseFacts {
    /// The facts of the case whose state is `bytes`; the same as
    /// `init(RecordState(entity: .case, id: id, binary: bytes))`. Where an access register's
    /// heads are not in the order the coding writes them (newest first: damaged bytes, or not
    /// ours), the state is decoded whole instead, as that initializer puts them in order.
    /// - Throws: `KakehashiError` (`.internalFailure`) for damaged or unknown data.
    public init(binaryState bytes: [UInt8], id: String) throws(KakehashiError) {
        guard
            let found = try RecordState.newestValues(
                in: bytes, fields: AccessField.names, keepingElementsOf: AccessField.participants.name,
                record: "case \(id)")
        else {
            self.init(try RecordState(entity: .case, id: id, binary: bytes))
            return
        }
        var level: String?
        var owner: String?
        var program: String?
        var participants: Set<String> = []
        for register in found {
            switch AccessField.allCases[register.field] {
            case .level where !register.isElement: level = register.value.stringValue
            case .owner where !register.isElement: owner = register.value.stringValue
            case .program where !register.isElement: program = register.value.stringValue
            case .participants:
                if let element = register.element, register.value == .bool(true) { participants.insert(element) }
            default: break
            }
        }
        self.init(level: level ?? Self.unsetLevel, owner: owner, participants: participants, program: program)
    }
}

extension RecordState {
    /// The current value of the scalar field `field` (`value(_:)`) read straight from a state's
    /// binary coding, without decoding the state: an event's case, which a bootstrap page reads
    /// for every event it sends. Decodes the state whole where the heads are not newest first.
    /// - Throws: `KakehashiError` (`.internalFailure`) for damaged or unknown data.
    public static func value(
        _ field: String, binaryState bytes: [UInt8], entity: Entity, id: String
    ) throws(KakehashiError) -> FieldValue {
        guard
            let found = try newestValues(
                in: bytes, fields: [Array(field.utf8)], keepingElementsOf: nil, record: "\(entity.rawValue) \(id)")
        else {
            return try RecordState(entity: entity, id: id, binary: bytes).value(field)
        }
        return found.first { !$0.isElement }?.value ?? .null
    }

    /// One register `newestValues` found: which of its fields, whether its key names a set
    /// element and that element (when kept), and the value of its newest head.
    struct NewestValue {
        let field: Int
        let isElement: Bool
        let element: String?
        let value: FieldValue
    }

    /// The newest head's value of every register whose field is one of `fields` (names in
    /// UTF-8), read from a state's binary coding. Every other register's key, value, name and
    /// timestamp is skipped over by its length, without making a `String` of it; a key's element
    /// is read only for the field `keepingElementsOf`. Nil where a wanted register's heads are
    /// not newest first (the caller decodes the state whole, which puts them in order).
    static func newestValues(
        in bytes: [UInt8], fields: [[UInt8]], keepingElementsOf kept: [UInt8]?, record: String
    ) throws(KakehashiError) -> [NewestValue]? {
        var reader = ByteReader(bytes: bytes)
        let named: Bool
        switch try reader.byte() {
        case 1: named = false
        case 2:
            named = true
            for _ in 0..<(try reader.count()) { try reader.skipString() }
        default:
            throw KakehashiError(.internalFailure, "stored state of \(record) has an unknown format")
        }
        var found: [NewestValue] = []
        for _ in 0..<(try reader.count()) {
            let field = try reader.keyField(among: fields)
            let keeping = field.map { fields[$0] == kept } ?? false
            let isElement = try reader.byte() == 1
            let element = isElement ? try reader.keyElement(keeping: keeping) : nil
            let heads = try reader.count()
            var newest: (value: FieldValue, millis: Int64, counter: UInt64)?
            for _ in 0..<heads {
                try reader.skipName(named: named)
                _ = try reader.varint()
                let value = field == nil ? try reader.skipValue() : try reader.value()
                let (millis, counter) = (Int64(bitPattern: try reader.varint()), try reader.varint())
                try reader.skipName(named: named)
                for _ in 0..<(try reader.count()) { try reader.skipHLC(named: named) }
                try reader.skipName(named: named)
                guard field != nil else { continue }
                guard let first = newest else {
                    newest = (value, millis, counter)
                    continue
                }
                // Not newest first: let the full decoder put the heads in order.
                guard (millis, counter) < (first.millis, first.counter) else { return nil }
            }
            if let field, let value = newest?.value {
                found.append(NewestValue(field: field, isElement: isElement, element: element, value: value))
            }
        }
        return found
    }
}

/// The registers `CaseFacts` is made of, as their keys' fields.
enum AccessField: CaseIterable {
    case level, owner, program, participants

    /// The field's name in UTF-8, as a key spells it.
    var name: [UInt8] {
        switch self {
        case .level: Array("level".utf8)
        case .owner: Array("owner".utf8)
        case .program: Array("program".utf8)
        case .participants: Array("participants".utf8)
        }
    }

    /// Every case's names, in `allCases` order.
    static let names = allCases.map(\.name)
}

extension ByteReader {
    /// A register key's field as its index in `fields` (names in UTF-8), nil for any other
    /// (skipped).
    mutating func keyField(among fields: [[UInt8]]) throws(KakehashiError) -> Int? {
        let length = try count()
        defer { offset += length }
        let field = bytes[offset..<offset + length]
        return fields.firstIndex { $0.elementsEqual(field) }
    }

    /// A register key's element, as text when `keeping`, else skipped (nil).
    mutating func keyElement(keeping: Bool) throws(KakehashiError) -> String? {
        guard keeping else {
            try skipString()
            return nil
        }
        return try string()
    }

    mutating func skipString() throws(KakehashiError) {
        offset += try count()
    }

    /// A device id or author: an index into the name table (`named`, version 2) or the text.
    mutating func skipName(named: Bool) throws(KakehashiError) {
        if named { _ = try varint() } else { try skipString() }
    }

    mutating func skipHLC(named: Bool) throws(KakehashiError) {
        _ = try varint()
        _ = try varint()
        try skipName(named: named)
    }

    /// A value skipped over, read as null.
    mutating func skipValue() throws(KakehashiError) -> FieldValue {
        switch try byte() {
        case 0, 1, 2: break
        case 3: _ = try varint()
        case 4: try skipString()
        default: throw Self.damaged
        }
        return .null
    }
}
