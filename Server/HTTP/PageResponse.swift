import Foundation
import HTTPTypes
import Hummingbird
import KakehashiShared

/// Pull and history pages in the form the client asked for with `Accept`: a binary page
/// (`BinaryPage.mediaType`) when it lists that type, JSON otherwise — older clients, curl,
/// schemathesis. Either way the page is the same; a JSON page splices each change's JSON in as the
/// log stores it, a binary page reads each change's stored binary coding (`StoredChange`).
enum PageResponse {
    /// The form of a page, as `ServerMetrics` counts it.
    enum Form: String {
        case json, binary
    }

    /// Whether `Accept` lists the binary page type (and does not refuse it with `q=0`).
    static func form(for request: Request) -> Form {
        JSONResponse.accepts(BinaryPage.mediaType, request) ? .binary : .json
    }

    /// A pull page. `states` says whether the page is a bootstrap's, which always carries a
    /// (possibly empty) batch of states; a stream page that names gained records carries their
    /// states and the `gained` list.
    static func pull(
        _ page: PullPage, epoch: String, states: Bool, form: Form, request: Request, serverTime: Int64
    ) throws -> Response {
        let states = states || !page.gained.isEmpty
        let gained = gainedHistories(page)
        switch form {
        case .binary:
            return respond(
                Data(try binaryPull(page, epoch: epoch, states: states, serverTime: serverTime)), form: form,
                request: request, serverTime: serverTime)
        case .json:
            var body = "{\"changes\":[" + (try page.changes).joined(separator: ",") + "]"
            body += ",\"epoch\":" + (try quoted(epoch))
            if let gained {
                body += ",\"gained\":" + String(decoding: try encoder.encode(gained), as: UTF8.self)
            }
            body += ",\"hasMore\":\(page.hasMore)"
            if let history = page.history { body += ",\"history\":" + (try quoted(history.description)) }
            body += ",\"nextCursor\":" + (try quoted(page.nextCursor.description))
            body += ",\"purges\":" + String(decoding: try encoder.encode(page.purges), as: UTF8.self)
            body += ",\"serverTime\":\(serverTime)"
            // Base64 needs no escaping.
            if states { body += ",\"states\":\"" + Data(stateBatch(page.states)).base64EncodedString() + "\"" }
            body += "}"
            return respond(Data(body.utf8), form: form, request: request, serverTime: serverTime)
        }
    }

    /// The records a stream page hands out as gained states, with their history cursors; nil for none.
    private static func gainedHistories(_ page: PullPage) -> [GainedHistory]? {
        page.gained.isEmpty
            ? nil
            : page.gained.map {
                GainedHistory(entity: $0.record.entity, record: $0.record.record, history: $0.history.description)
            }
    }

    /// A pull page's binary form (`BinaryPage`): the body of a binary page, or a page stream's frame.
    static func binaryPull(_ page: PullPage, epoch: String, states: Bool, serverTime: Int64) throws -> [UInt8] {
        let states = states || !page.gained.isEmpty
        let gained = gainedHistories(page)
        return BinaryPage.encode(
            PullResponse(
                changes: try changes(page.stored), purges: page.purges, nextCursor: page.nextCursor.description,
                hasMore: page.hasMore, serverTime: serverTime, epoch: epoch,
                stateBatch: nil, history: page.history?.description, gained: gained),
            states: states ? stateBatch(page.states) : nil)
    }

    /// A page's states as a `StateBatch`'s bytes, from their codings as they are.
    static func stateBatch(_ states: [SentState]) -> [UInt8] {
        var writer = StateBatch.Writer(states: states.count, codingBytes: states.reduce(0) { $0 + $1.coding.count })
        for state in states { writer.append(entity: state.entity, id: state.id, coding: state.coding) }
        return writer.bytes
    }

    /// A history page.
    static func history(_ page: HistoryPage, form: Form, request: Request, serverTime: Int64) throws -> Response {
        switch form {
        case .binary:
            let response = HistoryResponse(
                changes: try changes(page.stored), nextCursor: page.nextCursor.description,
                hasMore: !page.nextCursor.isComplete, serverTime: serverTime)
            return respond(Data(BinaryPage.encode(response)), form: form, request: request, serverTime: serverTime)
        case .json:
            var body = "{\"changes\":[" + (try page.changes).joined(separator: ",") + "]"
            body += ",\"hasMore\":\(!page.nextCursor.isComplete)"
            body += ",\"nextCursor\":" + (try quoted(page.nextCursor.description))
            body += ",\"serverTime\":\(serverTime)}"
            return respond(Data(body.utf8), form: form, request: request, serverTime: serverTime)
        }
    }

    private static func respond(_ body: Data, form: Form, request: Request, serverTime: Int64) -> Response {
        var response = JSONResponse.body(
            body, contentType: form == .binary ? BinaryPage.mediaType : "application/json; charset=utf-8",
            status: .ok, request: request, serverTime: serverTime)
        // Caches between client and server must keep the two forms apart.
        response.headers[.vary] = "Accept, Accept-Encoding"
        return response
    }

    /// The logged changes, read from their binary codings (rows logged before schema version 6
    /// from their JSON texts).
    private static func changes(_ stored: [StoredChange]) throws -> [Change] {
        try stored.map(StoreCoding.change)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    private static func quoted(_ text: String) throws -> String {
        String(decoding: try encoder.encode(text), as: UTF8.self)
    }
}
