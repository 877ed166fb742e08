import Foundation
import KakehashiShared
import Synchronization

/// A record's merged state as a store returned it, decoded only where an operation needs what it
/// holds: a bootstrap page sends most states as they are stored (`wireCoding`), and reads a
/// case's access facts (`caseFacts`) and an event's case (`value`) straight from the bytes.
struct StoredState: Sendable {
    let entity: Entity
    let id: String
    /// The `state` column (`StoreCoding.pack`).
    let stored: Data

    func state() throws -> RecordState { try StoreCoding.state(stored, entity: entity, id: id) }

    /// `AccessPolicy.CaseFacts` of a case's state.
    func caseFacts() throws -> AccessPolicy.CaseFacts { try StoreCoding.caseFacts(stored, id: id) }

    /// The current value of the scalar `field` (`RecordState.value`), read from the binary
    /// coding without decoding the state.
    func value(_ field: String) throws -> FieldValue {
        try StoreCoding.value(field, of: stored, entity: entity, id: id)
    }

    /// The state in the coding the wire carries (`StateBatch`: `RecordState.binaryEncoded()`):
    /// the stored bytes when the store keeps that version (an SQLite store since schema version
    /// 7), else the state decoded and encoded again. The coding is deterministic (equal states,
    /// equal bytes), so both give the same bytes.
    func wireCoding() throws -> [UInt8] {
        if stored.first == RecordState.codingVersion { return [UInt8](stored) }
        return try state().binaryEncoded()
    }
}

/// The forms the stores keep changes and record states in: changes as JSON with sorted keys, so
/// equal values are equal bytes in both databases; states in `RecordState`'s binary coding.
enum StoreCoding {
    static func encode(_ change: Change) throws -> String {
        String(decoding: try encoder.encode(change), as: UTF8.self)
    }

    /// A change as a log of `format` keeps it (`StoredChange`): its binary coding, and its JSON
    /// unless the format is `.binary` (a seventh of a push's server work, `Docs/benchmarks.md`).
    static func stored(_ change: Change, format: LogFormat) throws -> StoredChange {
        StoredChange(
            json: format == .json ? try encode(change) : "", binary: BinaryPage.encode(change: change))
    }

    /// Reads a logged change: its binary coding when the row has one, else its JSON.
    static func change(_ stored: StoredChange) throws -> Change {
        if let binary = stored.binary { return try BinaryPage.change(from: binary) }
        return try change(stored.text)
    }

    /// A record's merged state as a store of `format` keeps it (schema version 5): `RecordState`'s
    /// binary coding, several times cheaper to read and write than JSON, in the version the
    /// format names (`LogFormat.stateCodingVersion`): version 1 on PostgreSQL, which every server
    /// release since schema version 5 reads (during a rolling restart an older process reads what
    /// a newer one wrote); version 2 on SQLite, which no earlier release opens.
    static func pack(_ state: RecordState, format: LogFormat) -> Data {
        Data(state.binaryEncoded(version: format.stateCodingVersion))
    }

    static func change(_ text: String) throws -> Change {
        try JSONDecoder().decode(Change.self, from: Data(text.utf8))
    }

    /// Reads a stored state: the binary coding, or the JSON text stores wrote before schema
    /// version 5, kept until the record is written again (JSON starts with `{`, the binary form
    /// with its version byte).
    static func state(_ stored: Data, entity: Entity, id: String) throws -> RecordState {
        if stored.first == UInt8(ascii: "{") { return try JSONDecoder().decode(RecordState.self, from: stored) }
        guard entity == .case else { return try RecordState(entity: entity, id: id, binary: [UInt8](stored)) }
        if let state = caseStates.state(id: id, stored: stored) { return state }
        let state = try RecordState(entity: entity, id: id, binary: [UInt8](stored))
        caseStates.keep(state, stored: stored)
        return state
    }

    /// What decides access to a case, from its stored state: read from the binary coding without
    /// decoding the state (`AccessPolicy.CaseFacts(binaryState:id:)`), or from a state decoded
    /// lately or stored as JSON before schema version 5.
    static func caseFacts(_ stored: Data, id: String) throws -> AccessPolicy.CaseFacts {
        if stored.first == UInt8(ascii: "{") { return AccessPolicy.CaseFacts(try state(stored, entity: .case, id: id)) }
        if let state = caseStates.state(id: id, stored: stored) { return AccessPolicy.CaseFacts(state) }
        return try AccessPolicy.CaseFacts(binaryState: [UInt8](stored), id: id)
    }

    /// The current value of the scalar `field` of a stored state: read from the binary coding
    /// without decoding the state (`RecordState.value(_:binaryState:entity:id:)`), or from a state
    /// stored as JSON before schema version 5.
    static func value(_ field: String, of stored: Data, entity: Entity, id: String) throws -> FieldValue {
        if stored.first == UInt8(ascii: "{") { return try state(stored, entity: entity, id: id).value(field) }
        return try RecordState.value(field, binaryState: [UInt8](stored), entity: entity, id: id)
    }

    /// Case states decoded lately: every pull reads the states of its page's cases, the same few
    /// hundred busy cases again and again (decoding them was a sixth of a server's work under load).
    /// 8 MiB of stored states: a few thousand ordinary cases (a decoded state takes a few times
    /// its stored bytes).
    private static let caseStates = DecodedStates(byteLimit: 8 << 20)

    /// `state(_:entity:id:)` for a row of `entity`, `id` and `state`, in that order.
    static func state(entity: String, id: String, stored: Data) throws -> RecordState {
        guard let entity = Entity(rawValue: entity) else {
            throw KakehashiError(.internalFailure, "a stored state has an unknown entity '\(entity)'")
        }
        return try state(stored, entity: entity, id: id)
    }

    /// One encoder for every change, not one made per change.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Splits `items` into chunks small enough for one `IN (…)` list.
    static func chunks<T>(_ items: [T], size: Int = 500) -> [ArraySlice<T>] {
        stride(from: 0, to: items.count, by: size).map { items[$0..<min($0 + size, items.count)] }
    }
}

/// A change as the log keeps it. Schema version 6 kept its JSON text (`body`), which JSON pages
/// splice in as it is, and its binary coding (`packed`, `BinaryPage.encode(change:)`), which
/// binary pages and snapshots read without a JSON parser — parsing the JSON was a fifth of a
/// server's work under load. A row whose `body` is empty has its JSON made from the binary
/// coding (`json`, the same text with sorted keys): what a log of `LogFormat.binary` writes.
/// Rows logged before schema version 6 have no binary coding; they are read from their JSON.
public struct StoredChange: Sendable, Hashable {
    /// The `body` column: the change's JSON, or empty when the row keeps only `binary`.
    public let text: String
    public let binary: [UInt8]?

    init(json: String, binary: [UInt8]?) {
        self.text = json
        self.binary = binary
    }

    /// The change's JSON with sorted keys: the stored text, or when the row keeps none, the same
    /// text made from its binary coding.
    /// - Throws: when the row's binary coding is damaged.
    public var json: String {
        get throws {
            guard text.isEmpty, let binary else { return text }
            return try StoreCoding.encode(BinaryPage.change(from: binary))
        }
    }

    /// A row as PostgreSQL returns it (`packed` is NULL for rows logged before schema version 6).
    init(json: String, packed: Data?) {
        self.init(json: json, binary: packed.map { [UInt8]($0) })
    }
}

/// Decoded record states by id, each with the stored bytes it was decoded from: a state is
/// reused only while the store holds exactly those bytes, so a record written since (by this
/// process or another one on the same database) is decoded again. The stored bytes of the states
/// kept add up to at most `byteLimit` (a state may be up to about 1 MiB, `RecordLimits`); when
/// the next would pass it, the cache starts over.
final class DecodedStates: Sendable {
    private struct Entries {
        var states: [String: (stored: Data, state: RecordState)] = [:]
        var bytes = 0
    }

    private let byteLimit: Int
    private let entries = Mutex(Entries())

    init(byteLimit: Int) {
        self.byteLimit = byteLimit
    }

    func state(id: String, stored: Data) -> RecordState? {
        entries.withLock { entries in
            guard let entry = entries.states[id], entry.stored == stored else { return nil }
            return entry.state
        }
    }

    func keep(_ state: RecordState, stored: Data) {
        // A state larger than a sixteenth of the cache is decoded each time instead.
        guard stored.count <= byteLimit / 16 else { return }
        entries.withLock { entries in
            if let old = entries.states[state.id] { entries.bytes -= old.stored.count }
            if entries.bytes + stored.count > byteLimit { entries = Entries() }
            entries.states[state.id] = (stored, state)
            entries.bytes += stored.count
        }
    }
}
