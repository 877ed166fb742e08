/// The binary forms of a push (feature `binary-push`): the request body
/// (`application/vnd.kakehashi.push`) and its answer (`application/vnd.kakehashi.push-results`),
/// which a laptop sends and asks for only when the server lists the feature. Decoding the
/// request's JSON and encoding the answer's were a fifth of a server's work on a push; the
/// changes are coded as a binary page's (`BinaryPage`), so the server reads each with no JSON
/// parser and keeps the coding as the log's stored form.
///
/// Layout (Docs/protocol.md, "Binary pushes"): the container of `BinaryPage` — a magic, a
/// version byte (1), sections (tag, byte length, bytes) and the end mark, tag 0; a reader skips
/// a section whose tag it does not know.
///
/// Request, magic `KKPU`:
///
/// | tag | section | contents |
/// |---|---|---|
/// | 1 | names | count, then the device ids and authors the changes mention |
/// | 2 | changes (required) | count, then each change as in a page's changes section |
///
/// Answer, magic `KKPR`:
///
/// | tag | section | contents |
/// |---|---|---|
/// | 1 | push (required) | server time, epoch (presence byte, text) |
/// | 2 | names | count, then the device ids the results' change ids mention |
/// | 3 | results (required) | count, then per result: change id (name index, counter), status (byte: 0 accepted, 1 duplicate, 2 rejected), code (presence byte, text), reason (presence byte, text) |
public enum BinaryPush {
    /// The media type of a binary push body (`Content-Type`).
    public static let mediaType = "application/vnd.kakehashi.push"
    /// The media type of a binary push answer (`Accept`, `Content-Type`).
    public static let resultsMediaType = "application/vnd.kakehashi.push-results"
    static let requestMagic: [UInt8] = Array("KKPU".utf8)
    static let responseMagic: [UInt8] = Array("KKPR".utf8)
    static let version: UInt8 = 1

    enum RequestSection: UInt64 {
        case names = 1, changes
    }

    enum ResponseSection: UInt64 {
        case push = 1, names, results
    }

    static let statuses: [PushResult.Status] = [.accepted, .duplicate, .rejected]

    /// A push body's bytes.
    public static func encode(_ request: PushRequest) -> [UInt8] {
        var writer = SectionWriter(magic: requestMagic, version: version)
        let names = writer.names(request.changes.flatMap(Self.names), tag: RequestSection.names.rawValue)
        writer.section(RequestSection.changes.rawValue, names: names) { writer in
            writer.varint(UInt64(request.changes.count))
            for change in request.changes { writer.change(change) }
        }
        writer.bytes.append(0)
        return writer.bytes
    }

    /// Reads a push body. The changes are as sent; the server validates each as it validates a
    /// JSON body's, so a bad change gets the same 422.
    /// - Throws: `KakehashiError` (`.invalidData`, field `body`) naming what is wrong with the
    ///   bytes, and the change when one change's id or timestamp is outside what its text form
    ///   could say.
    public static func pushRequest(from bytes: [UInt8]) throws(KakehashiError) -> PushRequest {
        var names: [String] = []
        var changes: [Change]?
        try BinarySections.read(bytes, magic: requestMagic, version: version, damaged: damaged) {
            (section: RequestSection, reader: inout ByteReader) throws(KakehashiError) in
            switch section {
            case .names:
                for _ in 0..<(try reader.count()) { names.append(try reader.string()) }
            case .changes:
                reader.use(names: names)
                let count = try reader.count()
                var read: [Change] = []
                read.reserveCapacity(count)
                for index in 0..<count {
                    let change = try reader.change()
                    try checkText(change, index: index)
                    read.append(change)
                }
                changes = read
            }
        }
        guard let changes else { throw damaged("it has no changes section") }
        return PushRequest(changes: changes)
    }

    /// A push answer's bytes.
    public static func encode(_ response: PushResponse) -> [UInt8] {
        var writer = SectionWriter(magic: responseMagic, version: version)
        writer.section(ResponseSection.push.rawValue) { writer in
            writer.varint(UInt64(bitPattern: response.serverTime))
            writer.optional(response.epoch)
        }
        let names = writer.names(response.results.map(\.id.device.rawValue), tag: ResponseSection.names.rawValue)
        writer.section(ResponseSection.results.rawValue, names: names) { writer in
            writer.varint(UInt64(response.results.count))
            for result in response.results {
                writer.name(result.id.device.rawValue)
                writer.varint(UInt64(bitPattern: result.id.counter))
                writer.bytes.append(UInt8(statuses.firstIndex(of: result.status) ?? 2))
                writer.optional(result.code?.rawValue)
                writer.optional(result.reason)
            }
        }
        writer.bytes.append(0)
        return writer.bytes
    }

    /// Reads a push answer. A rejection code this release does not know reads as `invalid`, as
    /// in JSON (`PushResult`).
    /// - Throws: `KakehashiError` (`.invalidData`, field `body`) naming what is wrong with the bytes.
    public static func pushResponse(from bytes: [UInt8]) throws(KakehashiError) -> PushResponse {
        var envelope: (serverTime: Int64, epoch: String?)?
        var names: [String] = []
        var results: [PushResult]?
        try BinarySections.read(bytes, magic: responseMagic, version: version, damaged: damaged) {
            (section: ResponseSection, reader: inout ByteReader) throws(KakehashiError) in
            switch section {
            case .push:
                envelope = (Int64(bitPattern: try reader.varint()), try reader.optional())
            case .names:
                for _ in 0..<(try reader.count()) { names.append(try reader.string()) }
            case .results:
                reader.use(names: names)
                var read: [PushResult] = []
                for _ in 0..<(try reader.count()) {
                    let id = ChangeID(device: try reader.device(), counter: Int64(bitPattern: try reader.varint()))
                    let status = Int(try reader.byte())
                    guard status < statuses.count else { throw ByteReader.damaged }
                    read.append(
                        PushResult(
                            id: id, status: statuses[status], codeText: try reader.optional(),
                            reason: try reader.optional()))
                }
                results = read
            }
        }
        guard let envelope else { throw damaged("it has no push section") }
        guard let results else { throw damaged("it has no results section") }
        return PushResponse(results: results, serverTime: envelope.serverTime, epoch: envelope.epoch)
    }

    /// The names a change mentions, in the order the names section lists them.
    private static func names(_ change: Change) -> [String] {
        [change.id.device.rawValue, change.hlc.device.rawValue] + change.prev.map(\.device.rawValue) + [change.author]
    }

    /// What the JSON form's text would refuse to read: a change id's counter below 1, a
    /// timestamp's milliseconds outside its 16 digits.
    private static func checkText(_ change: Change, index: Int) throws(KakehashiError) {
        guard change.id.counter > 0 else {
            throw KakehashiError(
                .invalidData, field: "id", "change \(index): '\(change.id)' is not a change id (DEVICE:COUNTER)")
        }
        for stamp in [change.hlc] + change.prev where !(0..<10_000_000_000_000_000).contains(stamp.millis) {
            throw KakehashiError(
                .invalidData, field: stamp == change.hlc ? "hlc" : "prev",
                "change \(index) (\(change.id)): \(stamp.millis) is not a timestamp's milliseconds (0 to 16 digits)")
        }
    }

    static func damaged(_ reason: String) -> KakehashiError {
        KakehashiError(.invalidData, field: "body", "the binary push body is damaged: \(reason)")
    }
}

/// Builds a binary body section by section (`BinaryPush`).
struct SectionWriter {
    var bytes: [UInt8]

    init(magic: [UInt8], version: UInt8) {
        bytes = magic + [version]
    }

    mutating func section(_ tag: UInt64, names: [String: Int]? = nil, _ write: (inout ByteWriter) -> Void) {
        var writer = ByteWriter(names: names)
        write(&writer)
        var header = ByteWriter(names: nil)
        header.varint(tag)
        header.varint(UInt64(writer.bytes.count))
        bytes += header.bytes
        bytes += writer.bytes
    }

    /// Writes a names section with `tag`, each name once in the order first mentioned, and
    /// returns each name's index.
    mutating func names(_ mentioned: [String], tag: UInt64) -> [String: Int] {
        var table: [String] = []
        var indexes: [String: Int] = [:]
        for name in mentioned where indexes[name] == nil {
            indexes[name] = table.count
            table.append(name)
        }
        section(tag) { writer in
            writer.varint(UInt64(table.count))
            for name in table { writer.string(name) }
        }
        return indexes
    }
}

extension ByteWriter {
    /// A presence byte, then the text when present.
    mutating func optional(_ text: String?) {
        if let text {
            bytes.append(1)
            string(text)
        } else {
            bytes.append(0)
        }
    }
}

extension ByteReader {
    /// A presence byte, then the text when present.
    mutating func optional() throws(KakehashiError) -> String? {
        try flag() ? try string() : nil
    }
}
