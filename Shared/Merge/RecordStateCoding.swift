/// A compact, deterministic binary form of `RecordState` for stores that keep merged states
/// (the laptop keeps one per record, the server one per record of its log). JSON through
/// `Codable` was two thirds of the cost of applying a pulled page; this codec writes the same
/// information with no reflection.
///
/// Layout (all integers LEB128 varints, strings length-prefixed UTF-8, registers and timestamps
/// in sorted order so equal states give equal bytes): `version(1)`; from version 2, a name
/// table (count, then the distinct device ids and authors the state mentions, sorted); the
/// register count, then per register: key, head count, heads; then the superseded sets: count,
/// then per register: key, count, timestamps. In heads and timestamps a device id or author is
/// its index in the name table (version 1 wrote each one out in full, three times a head: a
/// 36-character id repeated that often was most of a state's bytes).
extension RecordState {
    /// The newest version of the coding.
    public static let codingVersion: UInt8 = 2

    /// The state's bytes in version `version` of the coding (2 or 1; every reader since version 2
    /// reads both, older ones only 1).
    public func binaryEncoded(version: UInt8 = Self.codingVersion) -> [UInt8] {
        guard version >= 2 else {
            var writer = ByteWriter(names: nil)
            writer.bytes.append(1)
            writeRegisters(into: &writer)
            return writer.bytes
        }
        // A state names a handful of devices and authors, each many times: a short list, searched
        // in order, finds them faster than hashing each.
        var table: [String] = []
        var many: Set<String> = []
        func note(_ name: String) {
            if many.isEmpty {
                guard !table.contains(name) else { return }
                table.append(name)
                if table.count > ByteWriter.shortTable { many = Set(table) }
            } else if many.insert(name).inserted {
                table.append(name)
            }
        }
        for writes in heads.values {
            for write in writes {
                note(write.change.device.rawValue)
                note(write.hlc.device.rawValue)
                note(write.author)
                for stamp in write.prev { note(stamp.device.rawValue) }
            }
        }
        for stamps in superseded.values {
            for stamp in stamps { note(stamp.device.rawValue) }
        }
        table.sort()
        var writer =
            (1...ByteWriter.shortTable).contains(table.count)
            ? ByteWriter(shortNames: table)
            : ByteWriter(names: Dictionary(uniqueKeysWithValues: table.enumerated().map { ($1, $0) }))
        writer.bytes.reserveCapacity(512)
        writer.bytes.append(2)
        writer.varint(UInt64(table.count))
        for name in table { writer.string(name) }
        writeRegisters(into: &writer)
        return writer.bytes
    }

    /// Everything after the version byte and the name table.
    private func writeRegisters(into writer: inout ByteWriter) {
        // Registers sorted with their heads: no second look-up per register.
        let registers = heads.sorted { $0.key < $1.key }
        writer.varint(UInt64(registers.count))
        for (key, writes) in registers {
            writer.key(key)
            writer.varint(UInt64(writes.count))
            for write in writes {
                writer.name(write.change.device.rawValue)
                writer.varint(UInt64(bitPattern: write.change.counter))
                writer.value(write.value)
                writer.hlc(write.hlc)
                writer.varint(UInt64(write.prev.count))
                for stamp in write.prev { writer.hlc(stamp) }
                writer.name(write.author)
            }
        }
        let supersededRegisters = superseded.sorted { $0.key < $1.key }
        writer.varint(UInt64(supersededRegisters.count))
        for (key, set) in supersededRegisters {
            writer.key(key)
            let stamps = set.sorted()
            writer.varint(UInt64(stamps.count))
            for stamp in stamps { writer.hlc(stamp) }
        }
    }

    /// Reads what `binaryEncoded()` wrote, in this version or version 1.
    /// - Throws: `KakehashiError` (`.internalFailure`) for damaged or unknown data.
    public init(entity: Entity, id: String, binary bytes: [UInt8]) throws(KakehashiError) {
        var reader = ByteReader(bytes: bytes)
        switch try reader.byte() {
        case 1: break
        case 2:
            var names: [String] = []
            for _ in 0..<(try reader.count()) { names.append(try reader.string()) }
            reader.use(names: names)
        default:
            throw KakehashiError(.internalFailure, "stored state of \(entity.rawValue) \(id) has an unknown format")
        }
        var heads: [RegisterKey: [Write]] = [:]
        let registers = try reader.count()
        heads.reserveCapacity(registers)
        for _ in 0..<registers {
            let key = try reader.key()
            let count = try reader.count()
            var writes: [Write] = []
            writes.reserveCapacity(count)
            for _ in 0..<count {
                let change = ChangeID(device: try reader.device(), counter: Int64(bitPattern: try reader.varint()))
                let value = try reader.value()
                let hlc = try reader.hlc()
                var prev: [HLC] = []
                for _ in 0..<(try reader.count()) { prev.append(try reader.hlc()) }
                writes.append(Write(change: change, value: value, hlc: hlc, prev: prev, author: try reader.name()))
            }
            // Written newest first; bytes that are not (damaged, or not ours) are put in order.
            if zip(writes, writes.dropFirst()).contains(where: { $0.hlc <= $1.hlc }) {
                writes.sort { $0.hlc > $1.hlc }
            }
            heads[key] = writes
        }
        var superseded: [RegisterKey: Set<HLC>] = [:]
        for _ in 0..<(try reader.count()) {
            let key = try reader.key()
            var stamps: Set<HLC> = []
            for _ in 0..<(try reader.count()) { stamps.insert(try reader.hlc()) }
            superseded[key] = stamps
        }
        self.init(entity: entity, id: id, sortedHeads: heads, superseded: superseded)
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []
    /// The name table's indexes (version 2); nil for version 1, which writes names in full.
    let names: [String: Int]?
    /// A short name table (at most `shortTable` names), searched in order instead of `names`.
    private var shortNames: [String] = []

    /// The most names `init(shortNames:)` takes.
    static let shortTable = 8

    init(names: [String: Int]?) {
        self.names = names
    }

    /// A writer whose name table is `shortNames`, an index its place there.
    init(shortNames: [String]) {
        precondition(!shortNames.isEmpty && shortNames.count <= Self.shortTable, "not a short name table")
        self.names = [:]
        self.shortNames = shortNames
    }

    /// A device id or author: its index in the name table, or (version 1) the text itself.
    mutating func name(_ text: String) {
        if !shortNames.isEmpty { return varint(UInt64(shortNames.firstIndex(of: text) ?? 0)) }
        guard let names else { return string(text) }
        varint(UInt64(names[text] ?? 0))
    }

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func string(_ text: String) {
        varint(UInt64(text.utf8.count))
        bytes.append(contentsOf: text.utf8)
    }

    mutating func hlc(_ stamp: HLC) {
        varint(UInt64(bitPattern: stamp.millis))
        varint(UInt64(stamp.counter))
        name(stamp.device.rawValue)
    }

    mutating func key(_ key: RegisterKey) {
        string(key.field)
        if let element = key.element {
            bytes.append(1)
            string(element)
        } else {
            bytes.append(0)
        }
    }

    mutating func value(_ value: FieldValue) {
        switch value {
        case .null: bytes.append(0)
        case .bool(let flag): bytes.append(flag ? 2 : 1)
        case .integer(let number):
            bytes.append(3)
            varint(UInt64(bitPattern: number))
        case .string(let text):
            bytes.append(4)
            string(text)
        }
    }
}

struct ByteReader {
    static let damaged = KakehashiError(.internalFailure, "a stored record state is damaged")

    let bytes: [UInt8]
    var offset: Int
    /// Where what this reader reads ends: the buffer's end, or a binary page's section's.
    let end: Int
    /// The name table (version 2); nil for version 1, which writes names in full.
    private(set) var names: [String]?
    /// The name table's entries as device ids, read once (nil where an entry is an author).
    private(set) var devices: [DeviceID?] = []

    init(bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    /// Reads names as indexes into `names` from here on (a page's or a push's name table).
    mutating func use(names: [String]) {
        self.names = names
        devices = names.map(DeviceID.init)
    }

    /// A device id: an index into the name table, or (version 1) the text itself.
    mutating func device() throws(KakehashiError) -> DeviceID {
        guard names != nil else {
            guard let device = DeviceID(try string()) else { throw Self.damaged }
            return device
        }
        let index = try varint()
        guard index < UInt64(devices.count), let device = devices[Int(index)] else { throw Self.damaged }
        return device
    }

    /// A device id or author: an index into the name table, or (version 1) the text itself.
    mutating func name() throws(KakehashiError) -> String {
        guard let names else { return try string() }
        let index = try varint()
        guard index < UInt64(names.count) else { throw Self.damaged }
        return names[Int(index)]
    }

    mutating func byte() throws(KakehashiError) -> UInt8 {
        guard offset < end else { throw Self.damaged }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint() throws(KakehashiError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            value |= UInt64(next & 0x7F) << shift
            if next < 0x80 { return value }
            shift += 7
            guard shift < 64 else { throw Self.damaged }
        }
    }

    /// A count that must fit in what is left of the buffer.
    mutating func count() throws(KakehashiError) -> Int {
        let value = try varint()
        guard value <= UInt64(end - offset) else { throw Self.damaged }
        return Int(value)
    }

    mutating func string() throws(KakehashiError) -> String {
        let length = try count()
        defer { offset += length }
        guard let text = String(validating: bytes[offset..<offset + length], as: UTF8.self) else {
            throw Self.damaged
        }
        return text
    }

    mutating func hlc() throws(KakehashiError) -> HLC {
        let millis = Int64(bitPattern: try varint())
        let counter = try varint()
        guard counter <= UInt64(HLC.maxCounter) else { throw Self.damaged }
        return HLC(millis: millis, counter: UInt32(counter), device: try device())
    }

    mutating func key() throws(KakehashiError) -> RegisterKey {
        let field = try string()
        return RegisterKey(field: field, element: try byte() == 1 ? try string() : nil)
    }

    mutating func value() throws(KakehashiError) -> FieldValue {
        switch try byte() {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3: return .integer(Int64(bitPattern: try varint()))
        case 4: return .string(try string())
        default: throw Self.damaged
        }
    }
}
