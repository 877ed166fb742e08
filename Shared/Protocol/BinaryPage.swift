/// The binary form of a pull or history page (`application/vnd.kakehashi.page`), which a client
/// asks for with `Accept` and reads without a JSON parser: decoding pulled pages as JSON was
/// about two fifths of a laptop's cost of applying them. JSON stays the default, for older
/// clients, for debugging and for the OpenAPI description; both forms carry the same page.
///
/// Layout (Docs/protocol.md, "Binary pages"; integers are LEB128 varints, strings a varint
/// length and UTF-8): the magic `KKHP`, a version byte (1), then sections, each a tag, a byte
/// length and that many bytes, and last the end mark, tag 0 (a page cut short at a section's
/// end must not read as a shorter page). A reader skips a section whose tag it does not know, so
/// a newer server can add one without breaking an older client; a known section appears at most
/// once.
///
/// | tag | section | contents |
/// |---|---|---|
/// | 1 | page (required) | server time, next cursor, has-more (a byte, 0 or 1) |
/// | 2 | epoch | the log's epoch |
/// | 3 | history | the history cursor a bootstrap's first page hands out |
/// | 4 | purges | count, then entity and record of each |
/// | 5 | names | count, then the device ids and authors the changes mention |
/// | 6 | changes | count, then per change: id (name index, counter), entity, record, field (presence byte, text), operation (byte), value, timestamp, superseded timestamps (count, each), author (name index) |
/// | 7 | states | a bootstrap page's `StateBatch` (or a stream page's gained states), as its base64 in JSON would decode |
/// | 8 | gained | count, then per gained record: entity, record, its history cursor (`PullResponse.gained`) |
///
/// Values and timestamps are coded as in `RecordState`'s binary coding, version 2: a timestamp's
/// device is its index in the names section.
public enum BinaryPage {
    /// The media type of a binary page, in `Accept` and `Content-Type`.
    public static let mediaType = "application/vnd.kakehashi.page"
    static let magic: [UInt8] = Array("KKHP".utf8)
    static let version: UInt8 = 1

    /// The sections; a case's name is how errors name the section.
    enum Section: UInt64 {
        case page = 1, epoch, history, purges, names, changes, states, gained
    }

    static let operations: [Change.Operation] = [.set, .add, .remove, .delete]

    /// A pull page's bytes.
    public static func encode(_ response: PullResponse) -> [UInt8] {
        encode(response, states: response.stateBatch?.bytes)
    }

    /// A pull page's bytes with `states` as its states section (`StateBatch.bytes`, or the same
    /// bytes from `StateBatch.Writer`) in place of `response.stateBatch`.
    public static func encode(_ response: PullResponse, states: [UInt8]?) -> [UInt8] {
        var page = PageWriter()
        page.section(.page) { writer in
            writer.varint(UInt64(bitPattern: response.serverTime))
            writer.string(response.nextCursor)
            writer.bytes.append(response.hasMore ? 1 : 0)
        }
        if let epoch = response.epoch { page.section(.epoch) { $0.string(epoch) } }
        if let history = response.history { page.section(.history) { $0.string(history) } }
        if !response.purges.isEmpty {
            page.section(.purges) { writer in
                writer.varint(UInt64(response.purges.count))
                for purge in response.purges {
                    writer.string(purge.entity.rawValue)
                    writer.string(purge.record)
                }
            }
        }
        page.changes(response.changes)
        if let states { page.section(.states, bytes: states) }
        if let gained = response.gained {
            page.section(.gained) { writer in
                writer.varint(UInt64(gained.count))
                for record in gained {
                    writer.string(record.entity.rawValue)
                    writer.string(record.record)
                    writer.string(record.history)
                }
            }
        }
        page.bytes.append(0)
        return page.bytes
    }

    /// A history page's bytes: the sections a pull page would have, without purges or states.
    public static func encode(_ response: HistoryResponse) -> [UInt8] {
        encode(
            PullResponse(
                changes: response.changes, purges: [], nextCursor: response.nextCursor, hasMore: response.hasMore,
                serverTime: response.serverTime))
    }

    /// Reads a pull page.
    /// - Throws: `KakehashiError` (`.invalidData`, field `page`) naming what is wrong with the bytes.
    public static func pullResponse(from bytes: [UInt8]) throws(KakehashiError) -> PullResponse {
        var parts = PageParts()
        try BinarySections.read(bytes, magic: magic, version: version, damaged: damaged) {
            (section: Section, contents: inout ByteReader) throws(KakehashiError) in
            try parts.read(section, from: &contents)
        }
        guard let envelope = parts.envelope else { throw damaged("it has no page section") }
        return PullResponse(
            changes: parts.changes, purges: parts.purges, nextCursor: envelope.nextCursor, hasMore: envelope.hasMore,
            serverTime: envelope.serverTime, epoch: parts.epoch, stateBatch: parts.states, history: parts.history,
            gained: parts.gained)
    }

    /// Reads a history page.
    /// - Throws: `KakehashiError` (`.invalidData`, field `page`) naming what is wrong with the bytes.
    public static func historyResponse(from bytes: [UInt8]) throws(KakehashiError) -> HistoryResponse {
        let page = try pullResponse(from: bytes)
        return HistoryResponse(
            changes: page.changes, nextCursor: page.nextCursor, hasMore: page.hasMore, serverTime: page.serverTime)
    }

    /// One change standing alone: the coding of a page's changes section with every name written
    /// out. The server's log keeps it beside each change's JSON, so a binary page is written
    /// without parsing JSON.
    public static func encode(change: Change) -> [UInt8] {
        var writer = ByteWriter(names: nil)
        writer.change(change)
        return writer.bytes
    }

    /// Reads one change written by `encode(change:)`.
    /// - Throws: `KakehashiError` (`.internalFailure`) when the bytes are not one whole change.
    public static func change(from bytes: [UInt8]) throws(KakehashiError) -> Change {
        var reader = ByteReader(bytes: bytes)
        guard let change = try? reader.change(), reader.offset == bytes.count else {
            throw KakehashiError(.internalFailure, "a stored change's binary coding is damaged")
        }
        return change
    }

    static func damaged(_ reason: String) -> KakehashiError {
        KakehashiError(.invalidData, field: "page", "the binary page is damaged: \(reason)")
    }
}

/// The container the binary bodies share (`BinaryPage`, `BinaryPush`): a magic, a version byte,
/// then sections, each a tag, a byte length and that many bytes, and last the end mark, tag 0. A
/// section whose tag the reader does not know is skipped; a known one appears at most once.
enum BinarySections {
    /// Reads the sections of `bytes`, handing each known one to `read` with a reader bounded by
    /// the section. `damaged` makes the error for a reason.
    static func read<Section: RawRepresentable & Hashable>(
        _ bytes: [UInt8], magic: [UInt8], version: UInt8, damaged: (String) -> KakehashiError,
        _ read: (Section, inout ByteReader) throws(KakehashiError) -> Void
    ) throws(KakehashiError) where Section.RawValue == UInt64 {
        let name = String(decoding: magic, as: UTF8.self)
        guard bytes.count > magic.count, Array(bytes.prefix(magic.count)) == magic else {
            throw damaged("it does not start with \(name)")
        }
        guard bytes[magic.count] == version else { throw damaged("its version is not \(version)") }
        var reader = ByteReader(bytes: bytes, offset: magic.count + 1)
        var seen = Set<Section>()
        while true {
            let tag: UInt64
            let end: Int
            do {
                tag = try reader.varint()
                if tag == 0 { break }
                let length = try reader.count()
                end = reader.offset + length
            } catch {
                throw damaged("it is cut short (no end mark)")
            }
            defer { reader.offset = end }
            guard let section = Section(rawValue: tag) else { continue }  // a newer writer's section: skipped
            guard seen.insert(section).inserted else { throw damaged("the \(section) section appears twice") }
            var contents = ByteReader(bytes: bytes, offset: reader.offset, end: end)
            do {
                try read(section, &contents)
            } catch {
                // A reader's own clear refusal (a change named) stands; a short read is damage.
                if error.code == .invalidData { throw error }
                throw damaged("the \(section) section cannot be read")
            }
            guard contents.offset == end else { throw damaged("the \(section) section has bytes left over") }
        }
        guard reader.offset == bytes.count else { throw damaged("bytes follow its end mark") }
    }
}

/// What a binary page's sections held, as they are read.
private struct PageParts {
    var envelope: (serverTime: Int64, nextCursor: String, hasMore: Bool)?
    var epoch: String?
    var history: String?
    var purges: [RecordRef] = []
    var names: [String] = []
    var changes: [Change] = []
    var states: StateBatch?
    var gained: [GainedHistory]?

    mutating func read(_ section: BinaryPage.Section, from reader: inout ByteReader) throws(KakehashiError) {
        switch section {
        case .page: envelope = (Int64(bitPattern: try reader.varint()), try reader.string(), try reader.flag())
        case .epoch: epoch = try reader.string()
        case .history: history = try reader.string()
        case .purges:
            for _ in 0..<(try reader.count()) {
                purges.append(RecordRef(entity: try reader.entity(), record: try reader.string()))
            }
        case .names:
            for _ in 0..<(try reader.count()) { names.append(try reader.string()) }
        case .changes:
            // Names come before the changes that refer to them; without them no index is valid.
            reader.use(names: names)
            let count = try reader.count()
            changes.reserveCapacity(count)
            for _ in 0..<count { changes.append(try reader.change()) }
        case .states:
            guard let batch = StateBatch(bytes: Array(reader.bytes[reader.offset..<reader.end])) else {
                throw ByteReader.damaged
            }
            states = batch
            reader.offset = reader.end
        case .gained:
            var records: [GainedHistory] = []
            for _ in 0..<(try reader.count()) {
                records.append(
                    GainedHistory(
                        entity: try reader.entity(), record: try reader.string(), history: try reader.string()))
            }
            gained = records
        }
    }
}

/// Builds a binary page section by section.
private struct PageWriter {
    var bytes = BinaryPage.magic + [BinaryPage.version]

    mutating func section(
        _ section: BinaryPage.Section, names: [String: Int]? = nil, _ write: (inout ByteWriter) -> Void
    ) {
        var writer = ByteWriter(names: names)
        write(&writer)
        self.section(section, bytes: writer.bytes)
    }

    /// A section whose bytes are already made (a batch of states: most of a bootstrap page),
    /// appended once.
    mutating func section(_ section: BinaryPage.Section, bytes body: [UInt8]) {
        var header = ByteWriter(names: nil)
        header.varint(section.rawValue)
        header.varint(UInt64(body.count))
        bytes += header.bytes
        bytes += body
    }

    /// The names section and the changes section, which refers to it.
    mutating func changes(_ changes: [Change]) {
        guard !changes.isEmpty else { return }
        var table: [String] = []
        var indexes: [String: Int] = [:]
        func note(_ name: String) {
            guard indexes[name] == nil else { return }
            indexes[name] = table.count
            table.append(name)
        }
        for change in changes {
            note(change.id.device.rawValue)
            note(change.hlc.device.rawValue)
            for stamp in change.prev { note(stamp.device.rawValue) }
            note(change.author)
        }
        section(.names) { writer in
            writer.varint(UInt64(table.count))
            for name in table { writer.string(name) }
        }
        section(.changes, names: indexes) { writer in
            writer.varint(UInt64(changes.count))
            for change in changes { writer.change(change) }
        }
    }
}

extension ByteWriter {
    /// One change, as a page's changes section holds it (names as indexes into the page's names
    /// section) or, without a name table, standing alone (`BinaryPage.encode(change:)`).
    mutating func change(_ change: Change) {
        name(change.id.device.rawValue)
        varint(UInt64(bitPattern: change.id.counter))
        string(change.entity.rawValue)
        string(change.record)
        if let field = change.field {
            bytes.append(1)
            string(field)
        } else {
            bytes.append(0)
        }
        bytes.append(UInt8(BinaryPage.operations.firstIndex(of: change.op) ?? 0))
        value(change.value)
        hlc(change.hlc)
        varint(UInt64(change.prev.count))
        for stamp in change.prev { hlc(stamp) }
        name(change.author)
    }
}

extension ByteReader {
    mutating func flag() throws(KakehashiError) -> Bool {
        switch try byte() {
        case 0: false
        case 1: true
        default: throw Self.damaged
        }
    }

    mutating func entity() throws(KakehashiError) -> Entity {
        guard let entity = Entity(rawValue: try string()) else { throw Self.damaged }
        return entity
    }

    /// One change of a page's changes section.
    mutating func change() throws(KakehashiError) -> Change {
        let id = ChangeID(device: try device(), counter: Int64(bitPattern: try varint()))
        let entity = try entity()
        let record = try string()
        let field = try flag() ? try string() : nil
        let code = Int(try byte())
        guard code < BinaryPage.operations.count else { throw Self.damaged }
        let value = try value()
        let hlc = try hlc()
        var prev: [HLC] = []
        for _ in 0..<(try count()) { prev.append(try self.hlc()) }
        return Change(
            sentID: id, entity: entity, record: record, field: field, op: BinaryPage.operations[code], value: value,
            hlc: hlc, prev: prev, author: try name())
    }
}
