import Foundation

/// The sync protocol's constants and message bodies (HTTP/JSON under `/v1`), shared by the
/// client and the server so both sides encode exactly the same thing. Docs/protocol.md is the
/// prose description of these types.
public enum WireProtocol {
    /// Every response carries the server's wall clock (Unix milliseconds) in this header, so a
    /// client can correct a laptop clock that is wrong before it stamps new writes.
    public static let serverTimeHeader = "Kakehashi-Server-Time"
    /// Every response carries the oldest client version the server accepts (`serve
    /// --min-client-version`). A client below it gets 426 `upgrade-required` on enroll, push and
    /// pull, and tells its user to upgrade; nothing on the laptop changes.
    public static let minClientVersionHeader = "Kakehashi-Min-Client-Version"
    /// Every response lists, comma-separated, the optional protocol features the server
    /// supports; a client uses a feature only when it is listed (older servers send no header).
    public static let featuresHeader = "Kakehashi-Features"
    /// The features of this release: `epoch` (responses carry the log's epoch; 409
    /// `unknown-cursor`), `ack` (`GET /v1/pull?ack=CURSOR`: a page asked ahead keeps what a retry
    /// from the stored cursor needs), `gzip-requests` (request bodies may be sent with
    /// `Content-Encoding: gzip`; the size limit applies to the decompressed body), `states`
    /// (`GET /v1/pull?after=0&states=1` bootstraps with merged states; `GET /v1/history` sends
    /// the history a bootstrap left out), `binary-pages` (pull and history pages in
    /// `BinaryPage`'s form to a client whose `Accept` lists it; a client reads the form the
    /// `Content-Type` names, so it may ask any server), `binary-push` (`POST /v1/push` reads a
    /// body of `Content-Type: application/vnd.kakehashi.push`, and answers in `BinaryPush`'s form
    /// to a client whose `Accept` lists it; a JSON push is read and answered as before),
    /// `gained-states` (`GET /v1/pull?after=CURSOR&states=1` from a stream cursor hands out the
    /// records the device gains access to as merged states, each named in `PullResponse.gained`
    /// with a history cursor scoped to it, instead of their history as changes), `page-streams`
    /// (`GET /v1/pull?…&pages=N` with `PageStream.mediaType` in `Accept` answers up to N
    /// consecutive pages in one body, each made as if asked alone).
    public static let features = [
        "ack", binaryPagesFeature, binaryPushFeature, "epoch", gainedStatesFeature, gzipRequestsFeature,
        pageStreamsFeature, statesFeature,
    ]
    /// The feature name of several pull pages in one response (`PageStream`).
    public static let pageStreamsFeature = "page-streams"
    /// The most pages one page stream may carry (`pages`, 1 to this).
    public static let maxStreamPages = 64
    /// The server ends a page stream after the page that brings it to this many bytes (before
    /// compression), whatever `pages` asked: a stream is bounded in time on a slow link too.
    public static let streamByteBudget = 32 * 1024 * 1024
    /// The feature name of binary push bodies and answers.
    public static let binaryPushFeature = "binary-push"
    /// The feature name of receiving gained records as states.
    public static let gainedStatesFeature = "gained-states"
    /// The feature name of binary pull and history pages.
    public static let binaryPagesFeature = "binary-pages"
    /// The feature name of bootstrapping from states.
    public static let statesFeature = "states"
    /// The feature name of gzip-compressed request bodies.
    public static let gzipRequestsFeature = "gzip-requests"
    /// Changes per push request; a client splits larger queues into batches.
    public static let maxPushChanges = 1_000
    /// Largest request body the server reads.
    public static let maxRequestBytes = 8 * 1024 * 1024
    /// Changes per pull page when the client does not ask for a size, and the most it may ask for.
    public static let defaultPullLimit = 1_000
    public static let maxPullLimit = 5_000
    /// The cursor a device that has pulled nothing starts from.
    public static let initialCursor = "0"
    /// The `author` of changes the server writes itself (admin commands: advisors, programs).
    public static let systemAuthor = "00000000-0000-0000-0000-000000000000"
}

/// `POST /v1/enroll`: trade a one-time code from `kakehashi-server enroll` for a device token.
public struct EnrollRequest: Codable, Sendable, Hashable {
    public let code: String
    /// A name for the device that `kakehashi-server devices` shows (e.g. the laptop's hostname).
    public let deviceName: String?

    public init(code: String, deviceName: String?) {
        self.code = code
        self.deviceName = deviceName
    }
}

public struct EnrollResponse: Codable, Sendable, Hashable {
    public let device: DeviceID
    /// The bearer token; the server keeps only its hash.
    public let token: String
    /// The advisor the device acts for.
    public let advisor: String
    public let serverTime: Int64

    public init(device: DeviceID, token: String, advisor: String, serverTime: Int64) {
        self.device = device
        self.token = token
        self.advisor = advisor
        self.serverTime = serverTime
    }
}

/// `POST /v1/push`: a batch of at most `maxPushChanges` changes.
public struct PushRequest: Codable, Sendable, Hashable {
    public let changes: [Change]

    public init(changes: [Change]) { self.changes = changes }
}

/// The outcome of one pushed change, in the order of the request.
public struct PushResult: Codable, Sendable, Hashable {
    public enum Status: String, Codable, Sendable, Hashable {
        /// Stored now, with a sequence number.
        case accepted
        /// Stored before (same change id): a retried batch; nothing new was stored.
        case duplicate
        /// Not stored; `code` and `reason` say why. The rest of the batch is unaffected.
        case rejected
    }

    /// Why a change was rejected, for the client to act on.
    public enum RejectionCode: String, Codable, Sendable, Hashable {
        /// The device's advisor may not make this change (access rules, admin-only entity).
        case forbidden
        /// The change's HLC is further ahead of the server's clock than allowed: the laptop's
        /// clock is wrong. The client corrects its clock and writes the edit again.
        case clockSkew = "clock-skew"
        /// The change conflicts with the record's identity (for example it targets a record of
        /// another entity with the same id).
        case invalid
    }

    public let id: ChangeID
    public let status: Status
    public let code: RejectionCode?
    public let reason: String?

    public init(id: ChangeID, status: Status, code: RejectionCode? = nil, reason: String? = nil) {
        self.id = id
        self.status = status
        self.code = code
        self.reason = reason
    }

    private enum CodingKeys: String, CodingKey {
        case id, status, code, reason
    }

    /// A rejection code this release does not know (a newer server's) reads as `invalid`, with the
    /// code kept at the start of the reason: the laptop keeps the change in its refused store
    /// instead of failing the whole push response.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(ChangeID.self, forKey: .id),
            status: try container.decode(Status.self, forKey: .status),
            codeText: try container.decodeIfPresent(String.self, forKey: .code),
            reason: try container.decodeIfPresent(String.self, forKey: .reason))
    }

    /// A result whose rejection code is read as text (JSON or `BinaryPush`): a code this release
    /// does not know is kept at the start of the reason.
    init(id: ChangeID, status: Status, codeText text: String?, reason: String?) {
        self.id = id
        self.status = status
        if let text, RejectionCode(rawValue: text) == nil {
            code = .invalid
            self.reason = "[\(text)] " + (reason ?? "rejected by the server")
        } else {
            code = text.flatMap(RejectionCode.init(rawValue:))
            self.reason = reason
        }
    }
}

public struct PushResponse: Codable, Sendable, Hashable {
    public let results: [PushResult]
    public let serverTime: Int64
    /// The log's identity; a value other than the one a laptop last synced with means the server
    /// was restored (or replaced): the laptop sends its own changes again. Nil from servers
    /// older than the epoch.
    public let epoch: String?

    public init(results: [PushResult], serverTime: Int64, epoch: String? = nil) {
        self.results = results
        self.serverTime = serverTime
        self.epoch = epoch
    }
}

/// `GET /v1/pull?after=CURSOR&limit=N`: the next page of what this device may see.
///
/// Apply `purges` first (drop the record, and for a case its events, from the local store
/// without writing a change), then `changes` with the merge function, then store `nextCursor` —
/// all in one transaction. Changes older than the cursor may appear again (when access is
/// gained the server back-fills a record's full history); merging is idempotent, so that is safe.
public struct PullResponse: Codable, Sendable, Hashable {
    public let changes: [Change]
    public let purges: [RecordRef]
    public let nextCursor: String
    /// More pages are ready now; pull again with `nextCursor`.
    public let hasMore: Bool
    public let serverTime: Int64
    /// The log's identity, as in `PushResponse.epoch`.
    public let epoch: String?
    /// A bootstrap page's merged states (`?states=1` from cursor `0`): merge each into the local
    /// state of its record, after the purges, like changes. Absent from other pages and from
    /// servers without the `states` feature. On the wire, one `StateBatch`.
    public let stateBatch: StateBatch?
    /// The states of `stateBatch`.
    public var states: [RecordState]? { stateBatch?.states }
    /// On a bootstrap's first page: the cursor of the history the states stand for, to download
    /// with `GET /v1/history` (absent when there is none).
    public let history: String?
    /// On a stream page pulled with `states=1` (feature `gained-states`): the records the device
    /// gained access to, whose merged states `stateBatch` holds instead of their history, each
    /// with the cursor of that history (`GET /v1/history`). Absent from other pages; a page that
    /// has it also has `stateBatch`.
    public let gained: [GainedHistory]?

    public init(
        changes: [Change], purges: [RecordRef], nextCursor: String, hasMore: Bool, serverTime: Int64,
        epoch: String? = nil, states: [RecordState]? = nil, history: String? = nil, gained: [GainedHistory]? = nil
    ) {
        self.init(
            changes: changes, purges: purges, nextCursor: nextCursor, hasMore: hasMore, serverTime: serverTime,
            epoch: epoch, stateBatch: states.map(StateBatch.init), history: history, gained: gained)
    }

    /// A page whose states are already a batch (a binary page's states section).
    public init(
        changes: [Change], purges: [RecordRef], nextCursor: String, hasMore: Bool, serverTime: Int64,
        epoch: String?, stateBatch: StateBatch?, history: String?, gained: [GainedHistory]? = nil
    ) {
        self.gained = gained
        self.epoch = epoch
        self.stateBatch = stateBatch
        self.history = history
        self.changes = changes
        self.purges = purges
        self.nextCursor = nextCursor
        self.hasMore = hasMore
        self.serverTime = serverTime
    }

    private enum CodingKeys: String, CodingKey {
        case changes, purges, nextCursor, hasMore, serverTime, epoch, states, history, gained
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        changes = try container.decode([Change].self, forKey: .changes)
        purges = try container.decode([RecordRef].self, forKey: .purges)
        nextCursor = try container.decode(String.self, forKey: .nextCursor)
        hasMore = try container.decode(Bool.self, forKey: .hasMore)
        serverTime = try container.decode(Int64.self, forKey: .serverTime)
        epoch = try container.decodeIfPresent(String.self, forKey: .epoch)
        stateBatch = try container.decodeIfPresent(String.self, forKey: .states).map { text in
            guard let batch = StateBatch(base64: text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .states, in: container, debugDescription: "not a batch of record states")
            }
            return batch
        }
        history = try container.decodeIfPresent(String.self, forKey: .history)
        gained = try container.decodeIfPresent([GainedHistory].self, forKey: .gained)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(changes, forKey: .changes)
        try container.encode(purges, forKey: .purges)
        try container.encode(nextCursor, forKey: .nextCursor)
        try container.encode(hasMore, forKey: .hasMore)
        try container.encode(serverTime, forKey: .serverTime)
        try container.encodeIfPresent(epoch, forKey: .epoch)
        try container.encodeIfPresent(stateBatch?.base64, forKey: .states)
        try container.encodeIfPresent(history, forKey: .history)
        try container.encodeIfPresent(gained, forKey: .gained)
    }
}

/// A record a stream page handed out as its merged state because the device gained access to it
/// (`PullResponse.gained`): the record, and the opaque cursor of the history its state stands
/// for, to download with `GET /v1/history` (for a case, the case's and its events').
public struct GainedHistory: Codable, Sendable, Hashable {
    public let entity: Entity
    public let record: String
    public let history: String

    public init(entity: Entity, record: String, history: String) {
        self.entity = entity
        self.record = record
        self.history = history
    }

    public var ref: RecordRef { RecordRef(entity: entity, record: record) }
}

/// The states of a bootstrap page on the wire (`PullResponse.states`): one base64 text of, per
/// record, its entity, its id and its state in `RecordState`'s binary coding (version 2), each
/// length-prefixed (Docs/data-model.md, "Merged states on the wire"). One string per page, so a
/// page of a thousand states costs the JSON decoder nothing, and each state's bytes can be
/// stored as they came.
public struct StateBatch: Sendable, Hashable {
    public let states: [RecordState]
    /// Each state's binary coding, as sent.
    public let codings: [[UInt8]]

    public init(_ states: [RecordState]) {
        self.states = states
        codings = states.map { $0.binaryEncoded() }
    }

    /// Reads a batch; nil when the text is not one.
    public init?(base64 text: String) {
        guard let data = Data(base64Encoded: text) else { return nil }
        self.init(bytes: [UInt8](data))
    }

    /// Reads the batch's bytes (what its base64 stands for, or a binary page's states section).
    public init?(bytes: [UInt8]) {
        var reader = ByteReader(bytes: bytes)
        var states: [RecordState] = []
        var codings: [[UInt8]] = []
        do {
            while reader.offset < reader.bytes.count {
                guard let entity = Entity(rawValue: try reader.string()) else { return nil }
                let id = try reader.string()
                let length = try reader.count()
                let coding = Array(reader.bytes[reader.offset..<reader.offset + length])
                reader.offset += length
                states.append(try RecordState(entity: entity, id: id, binary: coding))
                codings.append(coding)
            }
        } catch {
            return nil
        }
        self.states = states
        self.codings = codings
    }

    /// Per state: entity, id, and the length and bytes of its coding.
    public var bytes: [UInt8] {
        var writer = Writer(states: codings.count, codingBytes: codings.reduce(0) { $0 + $1.count })
        for (state, coding) in zip(states, codings) {
            writer.append(entity: state.entity, id: state.id, coding: coding)
        }
        return writer.bytes
    }

    /// A batch's bytes made from states already in their binary coding, without decoding them
    /// (a server sends the states it stores in that coding as they are): the same bytes as
    /// `bytes` of a batch of the same states.
    public struct Writer: Sendable {
        private var writer = ByteWriter(names: nil)

        /// A writer for `states` states whose codings take `codingBytes` in all. Each state's
        /// entity, id and length take well under 64 bytes: one allocation for the batch instead of
        /// a page's worth of growing copies.
        public init(states: Int, codingBytes: Int) {
            writer.bytes.reserveCapacity(codingBytes + 64 * states)
        }

        /// Appends one record's state: `coding` is its `RecordState.binaryEncoded()`.
        public mutating func append(entity: Entity, id: String, coding: [UInt8]) {
            writer.string(entity.rawValue)
            writer.string(id)
            writer.varint(UInt64(coding.count))
            writer.bytes.append(contentsOf: coding)
        }

        public var bytes: [UInt8] { writer.bytes }
    }

    public var base64: String { Data(bytes).base64EncodedString() }
}

/// `GET /v1/history?after=CURSOR&limit=N`: the next page of the history states left out (a
/// bootstrap's, or a gained record's),
/// filtered like a pull by what the device may see now. Store the changes as history (the states
/// already hold them), then `nextCursor`; `hasMore` is false once the history is complete.
public struct HistoryResponse: Codable, Sendable, Hashable {
    public let changes: [Change]
    public let nextCursor: String
    public let hasMore: Bool
    public let serverTime: Int64

    public init(changes: [Change], nextCursor: String, hasMore: Bool, serverTime: Int64) {
        self.changes = changes
        self.nextCursor = nextCursor
        self.hasMore = hasMore
        self.serverTime = serverTime
    }
}

/// A record named on the wire: `{"entity": "case", "record": "0192…"}`.
public struct RecordRef: Codable, Sendable, Hashable, Comparable {
    public let entity: Entity
    public let record: String

    public init(entity: Entity, record: String) {
        self.entity = entity
        self.record = record
    }

    public static func < (lhs: RecordRef, rhs: RecordRef) -> Bool {
        lhs.entity != rhs.entity
            ? lhs.entity < rhs.entity : Array(lhs.record.utf8).lexicographicallyPrecedes(rhs.record.utf8)
    }
}

/// `GET /v1/health`.
public struct HealthResponse: Codable, Sendable, Hashable {
    public let status: String
    public let version: String
    /// The oldest client version the server accepts (as `WireProtocol.minClientVersionHeader`);
    /// absent from servers that predate it.
    public let minClientVersion: String?
    public let serverTime: Int64

    public init(status: String, version: String, minClientVersion: String? = nil, serverTime: Int64) {
        self.status = status
        self.version = version
        self.minClientVersion = minClientVersion
        self.serverTime = serverTime
    }
}

/// The body of every error response: `{"error": {"code": "…", "message": "…", "field": "…"}}`.
public struct ErrorResponse: Codable, Sendable, Hashable {
    public struct Body: Codable, Sendable, Hashable {
        /// Machine-readable, one of `APIErrorCode` (kept a string on the wire, so a code newer
        /// than the client still decodes; `kind` gives the typed value).
        public let code: String
        public let message: String
        public let field: String?
        /// The id of the change at fault, when one change refused a whole push (422
        /// `invalid-data`); the laptop refuses just that change and pushes the rest again.
        public let change: String?

        public init(code: APIErrorCode, message: String, field: String? = nil, change: ChangeID? = nil) {
            self.code = code.rawValue
            self.message = message
            self.field = field
            self.change = change?.description
        }

        /// The typed code; nil for a code this release does not know.
        public var kind: APIErrorCode? { APIErrorCode(rawValue: code) }
    }

    public let error: Body

    public init(code: APIErrorCode, message: String, field: String? = nil, change: ChangeID? = nil) {
        self.error = Body(code: code, message: message, field: field, change: change)
    }
}
