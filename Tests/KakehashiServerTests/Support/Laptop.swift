import Foundation
import HTTPTypes
import Hummingbird
import KakehashiServer
import KakehashiShared
import KakehashiTestSupport
import Testing

/// A field laptop on the wire: a `ReplicaLaptop` that syncs with raw HTTP requests exactly as
/// Docs/protocol.md tells a client to (purges first, then changes, then the cursor), so that
/// attack tests can also push what no honest client would.
final class Laptop: @unchecked Sendable {
    let advisor: String
    let device: DeviceID
    let token: String
    let client: APIClient
    private var local: ReplicaLaptop
    /// The change maker, for attack tests that forge changes outside the replica.
    var maker: ChangeMaker {
        get { local.maker }
        set { local.maker = newValue }
    }
    /// The local replica: merged records.
    var records: [RecordRef: RecordState] { local.replica.records }
    /// Every change this laptop ever received, to check nothing confidential arrived.
    private(set) var received: [Change] = []
    private(set) var purged: [RecordRef] = []
    /// Changes waiting for the next push (attack tests take them and push them by hand).
    var pending: [Change] = []
    private(set) var cursor = WireProtocol.initialCursor
    /// Whether a pull from the start asks for a bootstrap from states (`states=1`).
    var bootstraps = false
    /// Whether pulls of the change stream ask for gained records as states (`states=1` from a
    /// stream cursor, feature `gained-states`).
    var takesGainedStates = false
    /// Every record a stream page handed out as a gained state (`PullResponse.gained`).
    private(set) var gained: [GainedHistory] = []
    /// The last page pulled.
    private(set) var lastPage: PullResponse?
    /// The histories of gained records still to download, by record.
    private(set) var gainedHistories: [RecordRef: String] = [:]
    /// Whether pulls and history downloads ask for binary pages (`Accept: BinaryPage.mediaType`)
    /// rather than JSON; each answer must then come in that form.
    var binaryPages = false
    /// Every state this laptop received in bootstrap pages, to check nothing confidential arrived.
    private(set) var receivedStates: [RecordState] = []
    /// The raw bodies of every pull and history page, to look for text that must not be there.
    private(set) var rawPages: [Data] = []
    /// The history cursor a bootstrap handed out, until its history has all arrived.
    private(set) var historyCursor: String?
    /// The changes that arrived as history (`GET /v1/history`).
    private(set) var history: [Change] = []

    init(advisor: String, device: DeviceID, token: String, client: APIClient) {
        self.advisor = advisor
        self.device = device
        self.token = token
        self.client = client
        self.local = ReplicaLaptop(device: device, author: advisor)
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// A local write, queued for the next push.
    @discardableResult
    func write(
        _ entity: Entity, _ record: String, _ field: String?, _ value: FieldValue, op: Change.Operation = .set
    ) -> Change {
        let change = local.write(op, entity, record, field: field, value, at: Self.now())
        pending.append(change)
        return change
    }

    /// A new record with several fields; returns its id.
    func create(_ entity: Entity, _ values: [String: FieldValue], sets: [String: [String]] = [:]) -> String {
        var generator = SystemRandomNumberGenerator()
        let id = RecordID.uuidV7(unixMillis: Self.now(), using: &generator)
        // As the field client writes them: an event's `case` first (the server judges the event's
        // other fields by its case), a case's access fields first, `owner` leading (a case comes
        // into being by its owner naming its creator).
        let first = entity == .case ? AccessPolicy.caseAccessFields : ["case"]
        func rank(_ field: String) -> (Int, String) { (first.firstIndex(of: field) ?? first.count, field) }
        let ordered = values.sorted { rank($0.key) < rank($1.key) }
        for (field, value) in ordered { write(entity, id, field, value) }
        for (field, elements) in sets.sorted(by: { $0.key < $1.key }) {
            for element in elements { write(entity, id, field, .string(element), op: .add) }
        }
        return id
    }

    /// Pushes the queue, then pulls until caught up. Returns the push results.
    @discardableResult
    func sync(limit: Int? = nil) async throws -> [PushResult] {
        var results: [PushResult] = []
        if !pending.isEmpty {
            let response = try await client.push(pending, token: token)
            try #require(response.status == .ok, "push: \(String(decoding: response.body, as: UTF8.self))")
            results = try response.decode(PushResponse.self).results
            pending = []
        }
        try await pullAll(limit: limit)
        return results
    }

    func pullAll(limit: Int? = nil) async throws {
        while try await pullPage(limit: limit) {}
    }

    /// Pulls and applies one page as Docs/protocol.md says; returns whether more are ready.
    @discardableResult
    func pullPage(limit: Int? = nil) async throws -> Bool {
        let states =
            cursor == WireProtocol.initialCursor ? bootstraps : takesGainedStates
        let response = try await client.pull(
            after: cursor, limit: limit, states: states, token: token, headers: acceptHeaders)
        try #require(response.status == .ok, "pull: \(String(decoding: response.body, as: UTF8.self))")
        rawPages.append(response.body)
        let page =
            try binaryPages ? BinaryPage.pullResponse(from: binaryBody(response)) : response.decode(PullResponse.self)
        try apply(page)
        return page.hasMore
    }

    /// What one page stream (`GET /v1/pull?…&pages=N`, `PageStream`) carried: its pages, applied
    /// one by one as the laptop applies pages alone, and how it ended.
    struct Streamed {
        var pages: [PullResponse] = []
        /// The end frame, or the error frame the stream ended with.
        var ending: PageStream.Frame?
    }

    /// Asks one page stream of at most `pages` pages from the stored cursor (with `ack`, when
    /// given) and applies its first `applying` pages (fewer: a laptop that crashes before storing
    /// the rest).
    @discardableResult
    func pullStream(
        pages: Int, limit: Int? = nil, ack: String? = nil, applying: Int = .max
    ) async throws -> Streamed {
        let states = cursor == WireProtocol.initialCursor ? bootstraps : takesGainedStates
        let query =
            "after=\(cursor)" + (ack.map { "&ack=\($0)" } ?? "") + (limit.map { "&limit=\($0)" } ?? "")
            + (states ? "&states=1" : "") + "&pages=\(pages)"
        let response = try await client.send(
            .get, "/v1/pull?\(query)", token: token,
            headers: [.accept: "\(PageStream.mediaType), \(BinaryPage.mediaType);q=0.9, application/json;q=0.5"])
        try #require(response.status == .ok, "pull: \(String(decoding: response.body, as: UTF8.self))")
        try #require(response.headers[.contentType] == PageStream.mediaType, "a page stream was asked for")
        rawPages.append(response.body)
        var reader = PageStream.Reader()
        reader.append([UInt8](response.body))
        var streamed = Streamed()
        while let frame = try reader.next() {
            guard case .page(let bytes, _) = frame else {
                streamed.ending = frame
                continue
            }
            let page = try BinaryPage.pullResponse(from: bytes)
            streamed.pages.append(page)
            if streamed.pages.count <= applying { try self.apply(page) }
        }
        #expect(!reader.holdsPartialFrame, "the stream ends with whole frames")
        return streamed
    }

    /// Pulls in page streams until caught up.
    func pullAllInStreams(pages: Int, limit: Int? = nil) async throws {
        while try await pullStream(pages: pages, limit: limit).pages.last?.hasMore == true {}
    }

    /// Applies one page as Docs/protocol.md says, and stores its cursor.
    func apply(_ page: PullResponse) throws {
        for ref in page.purges {
            purged.append(ref)
            // A purged case takes its events with it.
            let events = records.filter {
                $0.key.entity == .event && $0.value.value("case").stringValue == ref.record
            }
            local.forget(Set(events.keys).union([ref]))
            for forgotten in Set(events.keys).union([ref]) { gainedHistories[forgotten] = nil }
        }
        receivedStates += page.states ?? []
        try local.receive(states: page.states ?? [], at: Self.now())
        received += page.changes
        try local.receive(page.changes, at: Self.now())
        if let history = page.history { historyCursor = history }
        for record in page.gained ?? [] { gainedHistories[record.ref] = record.history }
        gained += page.gained ?? []
        lastPage = page
        cursor = page.nextCursor
    }

    /// Downloads the history states left out, page by page: the bootstrap's, then each gained
    /// record's.
    func downloadHistory(limit: Int? = nil) async throws {
        while let after = historyCursor {
            let page = try await historyPage(after: after, limit: limit)
            history += page.changes
            historyCursor = page.hasMore ? page.nextCursor : nil
        }
        while let next = gainedHistories.min(by: { $0.key < $1.key }) {
            let page = try await historyPage(after: next.value, limit: limit)
            history += page.changes
            gainedHistories[next.key] = page.hasMore ? page.nextCursor : nil
        }
    }

    /// One history page.
    func historyPage(after: String, limit: Int? = nil) async throws -> HistoryResponse {
        let query = limit.map { "&limit=\($0)" } ?? ""
        let response = try await client.send(
            .get, "/v1/history?after=\(after)\(query)", token: token, headers: acceptHeaders)
        try #require(response.status == .ok, "history: \(String(decoding: response.body, as: UTF8.self))")
        rawPages.append(response.body)
        return
            try binaryPages
            ? BinaryPage.historyResponse(from: binaryBody(response)) : response.decode(HistoryResponse.self)
    }

    private var acceptHeaders: HTTPFields { binaryPages ? [.accept: BinaryPage.mediaType] : [:] }

    /// The body of a page asked for in binary, which must have come in that form.
    private func binaryBody(_ response: APIResponse) throws -> [UInt8] {
        try #require(response.headers[.contentType] == BinaryPage.mediaType, "a binary page was asked for")
        return [UInt8](response.body)
    }

    /// The records whose merged states differ between this laptop and `other` (for messages).
    func differences(from other: Laptop) -> [String] {
        Set(records.keys).union(other.records.keys).sorted().compactMap { ref in
            records[ref] == other.records[ref]
                ? nil
                : "\(ref.entity.rawValue) \(ref.record): \(records[ref].map { "\($0.heads.count) registers" } ?? "missing") here, \(other.records[ref].map { "\($0.heads.count) registers" } ?? "missing") there"
        }
    }

    /// The replica's whole merged state, as canonical bytes.
    func canonicalState() throws -> Data { try local.replica.canonicalEncoding() }

    func record(_ entity: Entity, _ id: String) -> RecordState? { records[RecordRef(entity: entity, record: id)] }

    /// Events this laptop holds for a case.
    func events(of caseID: String) -> [RecordState] {
        records.values.filter { $0.entity == .event && $0.value("case").stringValue == caseID }
    }
}
