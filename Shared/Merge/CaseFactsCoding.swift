/// The facts that decide access to a case (`AccessPolicy.CaseFacts`) read straight from the
/// case's merged state in its binary coding (`RecordState.binaryEncoded`, version 1 or 2),
/// without decoding the state. A pull decides the device's access to every case its page
/// touches, and a full reconciliation to every case of the store; decoding each whole state for
/// four of its registers was a sixth of a replay's server work. Only the access registers'
/// newest values are read; every other register's key, value, name and timestamp is skipped
/// over by its length, without making a `String` of it.
extension AccessPolicy.CaseFacts {
    /// The facts of the case whose state is `bytes`; the same as
    /// `init(RecordState(entity: .case, id: id, binary: bytes))`. Where an access register's
    /// heads are not in the order the coding writes them (newest first: damaged bytes, or not
    /// ours), the state is decoded whole instead, as that initializer puts them in order.
    /// - Throws: `KakehashiError` (`.internalFailure`) for damaged or unknown data.
    public init(binaryState bytes: [UInt8], id: String) throws(KakehashiError) {
        var reader = ByteReader(bytes: bytes)
        let named: Bool
        switch try reader.byte() {
        case 1: named = false
        case 2:
            named = true
            for _ in 0..<(try reader.count()) { try reader.skipString() }
        default:
            throw KakehashiError(.internalFailure, "stored state of case \(id) has an unknown format")
        }
        var level: String?
        var owner: String?
        var program: String?
        var participants: Set<String> = []
        for _ in 0..<(try reader.count()) {
            let field = try reader.accessField()
            let element = try reader.byte() == 1 ? try reader.keyElement(keeping: field == .participants) : nil
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
                guard (millis, counter) < (first.millis, first.counter) else {
                    self.init(try RecordState(entity: .case, id: id, binary: bytes))
                    return
                }
            }
            guard let value = newest?.value else { continue }
            switch field {
            case .level where element == nil: level = value.stringValue
            case .owner where element == nil: owner = value.stringValue
            case .program where element == nil: program = value.stringValue
            case .participants: if let element, value == .bool(true) { participants.insert(element) }
            default: break
            }
        }
        self.init(level: level ?? Self.unsetLevel, owner: owner, participants: participants, program: program)
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

    static let names = allCases.map { ($0, $0.name) }
}

extension ByteReader {
    /// A register key's field when it is one of `AccessField`, nil for any other (skipped).
    mutating func accessField() throws(KakehashiError) -> AccessField? {
        let length = try count()
        defer { offset += length }
        let field = bytes[offset..<offset + length]
        return AccessField.names.first { $0.1.elementsEqual(field) }?.0
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
