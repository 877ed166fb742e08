import CompressNIO
import Foundation
import Hummingbird
import KakehashiShared
import NIOCore
import NIOHTTP1

/// The `/v1` endpoints of Docs/protocol.md: enroll, push, pull, health; and `/metrics`.
struct SyncController<Context: RequestContext>: Sendable {
    let store: any ChangeLogStore
    let metrics: ServerMetrics
    let now: @Sendable () -> Int64
    /// The body limit of requests that carry no token (enroll); see `HTTPLimits`.
    let maxUnauthenticatedBodyBytes: Int
    /// Device health, noted per authenticated request and written in the background.
    let activity: DeviceActivity
    /// Repeated full reconciliations of a device: three at once, then one per 10 s.
    let reconcileGate = ReconcileGate()
    /// Enroll, push and pull from an older `kakehashi` are refused with 426 `upgrade-required`.
    let minClientVersion: AppVersion

    init(
        store: any ChangeLogStore, metrics: ServerMetrics, now: @escaping @Sendable () -> Int64,
        maxUnauthenticatedBodyBytes: Int, minClientVersion: AppVersion = .oldestCompatibleClient
    ) {
        self.store = store
        self.metrics = metrics
        self.now = now
        self.maxUnauthenticatedBodyBytes = maxUnauthenticatedBodyBytes
        self.minClientVersion = minClientVersion
        activity = DeviceActivity(store: store)
    }

    var authenticator: Authenticator { Authenticator(store: store) }

    func addRoutes(to router: Router<Context>) {
        let v1 = router.group("v1")
        v1.post("enroll") { request, context in
            try await counting("enroll") {
                try requireSupportedClient(request)
                return try await enroll(request, context: context)
            }
        }
        v1.post("push") { request, context in
            try await counting("push") {
                try requireSupportedClient(request)
                return try await push(request, context: context)
            }
        }
        v1.get("pull") { request, context in
            try await counting("pull") {
                try requireSupportedClient(request)
                return try await pull(request, context: context)
            }
        }
        v1.get("history") { request, context in
            try await counting("history") {
                try requireSupportedClient(request)
                return try await history(request, context: context)
            }
        }
        v1.get("health") { request, _ in try await health(request) }
        router.get("metrics") { request, context in
            JSONResponse.body(
                Data(metrics.render(devices: await deviceGauges(context: context)).utf8),
                contentType: "text/plain; version=0.0.4", status: .ok, request: request, serverTime: now())
        }
    }

    /// The health of the devices that may sync (not revoked, advisor active), after writing what
    /// `activity` noted; nil when the store does not answer (the other metrics are still served).
    func deviceGauges(context: Context) async -> DeviceHealthReport? {
        await activity.flushAll()
        do {
            let report = try await store.deviceHealth()
            let active = Set(
                try await store.records(.advisor).filter { AccessPolicy.Viewer(advisor: $0.id, state: $0).active }
                    .map(\.id))
            return DeviceHealthReport(
                head: report.head, devices: report.devices.filter { !$0.revoked && active.contains($0.advisor) })
        } catch {
            context.logger.warning(
                "metrics without device gauges: the store did not answer",
                metadata: ["error": "\(String(describing: error))"])
            return nil
        }
    }

    /// Refuses a `kakehashi` older than `minClientVersion` (its `User-Agent`), before the token
    /// or the body is read. Other user agents (tools, probes, tests) are served: the check keeps
    /// stale laptops from syncing with rules they do not know, it is not an access control.
    func requireSupportedClient(_ request: Request) throws {
        guard let version = AppVersion(userAgent: request.headers[.userAgent]), version < minClientVersion else {
            return
        }
        throw APIError(
            .upgradeRequired, code: .upgradeRequired,
            message:
                "kakehashi \(version) is no longer accepted by this server; upgrade kakehashi to \(minClientVersion) or later (kakehashi を \(minClientVersion) 以上に更新してください)"
        )
    }

    /// Runs an endpoint, counting an error answer by its code in `kakehashi_request_errors_total`.
    private func counting(_ endpoint: String, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch {
            if let code = Self.errorCode(error) { metrics.recordError(endpoint: endpoint, code: code) }
            throw error
        }
    }

    /// The `ErrorResponse` code an error is answered with (as `ServerMiddleware` maps it); nil when
    /// the client went away and nothing is answered.
    static func errorCode(_ error: any Error) -> APIErrorCode? {
        switch error {
        case let error as APIError: error.code
        case let error as HTTPError: APIError.from(error).code
        case is NIOTooManyBytesError: .tooLarge
        case is CancellationError, is ChannelError, is IOError, is HTTPParserError: nil
        default: .internal
        }
    }

    func enroll(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let body: EnrollRequest = try await decode(&request, upTo: maxUnauthenticatedBodyBytes)
        if let name = body.deviceName, name.count > 100 || name.unicodeScalars.contains(where: { $0.value < 0x20 }) {
            throw APIError.invalid(.invalid("deviceName", "at most 100 characters, on one line"))
        }
        let time = now()
        let device = DeviceRecord(
            id: DeviceID(Secrets.newDeviceID())!, advisor: "", name: body.deviceName, enrolledAt: time, revokedAt: nil)
        let token = Secrets.newToken()
        guard
            let advisor = try await store.redeemEnrollmentCode(
                hash: Secrets.hash(Secrets.normalizeCode(body.code)), device: device, tokenHash: Secrets.hash(token),
                now: time)
        else {
            context.logger.notice("enrollment refused: unknown, used or expired code")
            throw APIError.unauthorized("the enrollment code is unknown, already used or expired; ask for a new one")
        }
        // A code handed out before its advisor was deactivated must not yield a working device: the
        // new device is revoked at once and the answer is the same as for any dead code.
        let viewer = AccessPolicy.Viewer(advisor: advisor, state: try await store.record(.advisor, advisor))
        guard viewer.active else {
            _ = try await store.revoke(device.id, at: time)
            context.logger.notice("enrollment refused: advisor deactivated", metadata: ["advisor": "\(advisor)"])
            throw APIError.unauthorized("the enrollment code is unknown, already used or expired; ask for a new one")
        }
        context.logger.notice("device enrolled", metadata: ["device": "\(device.id)", "advisor": "\(advisor)"])
        return try JSONResponse.make(
            EnrollResponse(device: device.id, token: token, advisor: advisor, serverTime: time), request: request,
            serverTime: time)
    }

    func push(_ request: Request, context: Context) async throws -> Response {
        // The token is checked before a byte of the body is read: without one, the answer is 401
        // and the body is discarded (`ConnectionGuardHandler`), never buffered.
        let session = try await authenticator.authenticate(authorization: request.headers[.authorization])
        activity.note(session.device.id, at: now(), userAgent: request.headers[.userAgent])
        var request = request
        let body = try await pushBody(&request)
        guard body.changes.count <= WireProtocol.maxPushChanges else {
            throw APIError(
                .contentTooLarge, code: .tooLarge,
                message: "\(body.changes.count) changes in one push; at most \(WireProtocol.maxPushChanges)")
        }
        // A field this server's schema does not know comes from a newer client: that change alone
        // is rejected (the client keeps it in its refused store), the rest of the batch goes on.
        var changes: [(change: Change, unknown: PushResult?)] = []
        for (index, change) in body.changes.enumerated() {
            if let unknown = Self.unknownField(change) {
                changes.append((change, unknown))
                continue
            }
            do {
                changes.append((try change.validated(), nil))
            } catch {
                throw APIError(
                    .unprocessableContent, code: .invalidData,
                    message: "change \(index) (\(change.id)): \(error.message)", field: error.field, change: change.id)
            }
        }
        // A device writes with its own id: another device's ids would pre-empt that device's changes.
        var results: [PushResult?] = []
        var own: [Change] = []
        for (change, unknown) in changes {
            if let unknown {
                results.append(unknown)
            } else if change.id.device != session.device.id {
                results.append(
                    PushResult(
                        id: change.id, status: .rejected, code: .forbidden,
                        reason: "change ids of this device start with \(session.device.id):"))
            } else if change.author != session.device.advisor {
                results.append(
                    PushResult(
                        id: change.id, status: .rejected, code: .forbidden,
                        reason: "author must be the device's advisor \(session.device.advisor)"))
            } else {
                results.append(nil)
                own.append(change)
            }
        }
        let time = now()
        var stored = try await store.append(own, viewer: session.viewer, wallMillis: time, onlyIfEmpty: false)
            .makeIterator()
        let final = results.map { $0 ?? stored.next()! }
        let counts = Dictionary(grouping: final, by: \.status).mapValues(\.count)
        metrics.recordPush(
            accepted: counts[.accepted] ?? 0, duplicate: counts[.duplicate] ?? 0, rejected: counts[.rejected] ?? 0)
        metrics.recordRejections(final.filter { $0.status == .rejected }.map { $0.code?.rawValue ?? "unknown" })
        context.logger.info(
            "push",
            metadata: [
                "device": "\(session.device.id)", "accepted": "\(counts[.accepted] ?? 0)",
                "duplicate": "\(counts[.duplicate] ?? 0)", "rejected": "\(counts[.rejected] ?? 0)",
            ])
        let response = PushResponse(results: final, serverTime: time, epoch: try await store.epoch())
        guard JSONResponse.accepts(BinaryPush.resultsMediaType, request) else {
            return try JSONResponse.make(response, request: request, serverTime: time)
        }
        return JSONResponse.body(
            Data(BinaryPush.encode(response)), contentType: BinaryPush.resultsMediaType, status: .ok,
            request: request, serverTime: time)
    }

    /// A push's body: `BinaryPush`'s form when its `Content-Type` says so (a laptop sends it only
    /// to a server listing `binary-push`), JSON otherwise. Both are bounded and decompressed
    /// alike, and give the same changes to the same validation.
    private func pushBody(_ request: inout Request) async throws -> PushRequest {
        let type = request.headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        guard type == BinaryPush.mediaType else {
            return try await decode(&request, upTo: WireProtocol.maxRequestBytes)
        }
        let (buffer, encoding) = try await body(&request, upTo: WireProtocol.maxRequestBytes)
        do throws(KakehashiError) {
            return try BinaryPush.pushRequest(from: Array(buffer: buffer))
        } catch {
            // zlib cannot tell a cut gzip stream from a whole one: the compression may be what broke.
            let after = encoding.map { " (sent with Content-Encoding: \($0))" } ?? ""
            throw APIError.malformed(error.message + after, field: error.field)
        }
    }

    /// The rejection of a change to a field this server's schema lacks (a newer client's field);
    /// nil for a known field or a delete.
    static func unknownField(_ change: Change) -> PushResult? {
        guard change.op != .delete, let field = change.field, !change.entity.schema.fieldNames.contains(field) else {
            return nil
        }
        return PushResult(
            id: change.id, status: .rejected, code: .invalid,
            reason:
                "kakehashi-server \(KakehashiVersion.current) does not know the field '\(field.prefix(64))' of \(change.entity.rawValue); upgrade the server before the laptops (サーバーがこの項目を知りません。サーバーの更新が必要です)"
        )
    }

    func pull(_ request: Request, context: Context) async throws -> Response {
        // The token is read with the page, in its transaction (`SessionPullOperation`); a header
        // that cannot carry a token is refused before anything is read.
        let tokenHash = try Authenticator.tokenHash(authorization: request.headers[.authorization])
        let query: PullQuery
        do {
            query = try PullQuery(request.uri.queryParameters)
        } catch {
            // An unknown or revoked token is answered 401 before a malformed query's 400.
            _ = try await authenticator.authenticate(authorization: request.headers[.authorization])
            throw error
        }
        let form = PageResponse.form(for: request)
        if let pages = query.pages, JSONResponse.accepts(PageStream.mediaType, request) {
            return try await PageStreamResponse(controller: self, tokenHash: tokenHash, query: query, pages: pages)
                .respond(to: request, context: context)
        }
        let answer = try await makePage(
            tokenHash: tokenHash, query: query, cursor: query.cursor, acknowledged: query.acknowledged,
            json: form == .json)
        let (session, page) = (answer.session, answer.page)
        let time = now()
        noteServed(page, session: session, request: request, at: time)
        metrics.recordPage(form.rawValue)
        return try PageResponse.pull(
            page, epoch: answer.epoch, states: query.cursor.bootstraps(askingStates: query.states), form: form,
            request: request, serverTime: time)
    }

    /// One pull page as `query` asks it, from `cursor` with `acknowledged` stored, made in one
    /// transaction that reads the token first (`SessionPullOperation`): a page alone, or one of a
    /// page stream (`PageStreamResponse`), which asks each of its pages here exactly as a
    /// request of its own would.
    /// - Throws: `APIError` as the page would be answered alone (401, 409, 429, …).
    func makePage(
        tokenHash: String, query: PullQuery, cursor: PullCursor, acknowledged: PullCursor?, json: Bool
    ) async throws -> SessionPullPage {
        let asked = now()
        do {
            let answer = try await store.pull(
                SessionPullRequest(
                    tokenHash: tokenHash, cursor: cursor, acknowledged: acknowledged, states: query.states,
                    json: json, limit: query.limit,
                    allowsFullReconcile: { [reconcileGate] device in
                        reconcileGate.allows(device, after: cursor, at: asked)
                    }))
            if answer.page.fullReconcile {
                reconcileGate.record(
                    answer.session.device.id, after: cursor, endingAt: answer.page.nextCursor.seq, at: now())
            }
            return answer
        } catch let error as KakehashiError where error.field == "reconcile" {
            throw APIError(.tooManyRequests, code: .tooManyRequests, message: error.message)
        } catch let error as KakehashiError where error.field == "after" {
            // A cursor this log never issued: the laptop synced with a log since replaced.
            throw APIError(.conflict, code: .unknownCursor, message: error.message, field: "after")
        }
    }

    /// Counts a page handed out, and notes the device's position for `devices` and the metrics.
    func noteServed(_ page: PullPage, session: Authenticator.Session, request: Request, at time: Int64) {
        metrics.recordPull(changes: page.stored.count + page.states.count, purges: page.purges.count)
        activity.note(
            session.device.id, at: time, userAgent: request.headers[.userAgent], pulledSeq: page.nextCursor.seq,
            caughtUp: !page.hasMore)
    }

    /// What a pull's query asks (`after`, `ack`, `limit`, `states`), checked.
    struct PullQuery: Sendable {
        let cursor: PullCursor
        /// `ack`: the cursor of the last page the client has stored, when it asks for a page ahead.
        let acknowledged: PullCursor?
        let limit: Int
        /// `states=1`: a device pulling from the start asks for merged states, not every change;
        /// from a stream cursor, it takes the records it gains access to as states (`gained`).
        let states: Bool
        /// `pages`: how many consecutive pages one response may carry (`PageStream`, feature
        /// `page-streams`); used only when `Accept` lists `PageStream.mediaType`.
        let pages: Int?

        /// - Throws: `APIError` (400 `malformed`) naming the parameter.
        init(_ query: Parameters) throws {
            do {
                cursor = try PullCursor(parsing: query["after"].map(String.init) ?? WireProtocol.initialCursor)
            } catch {
                throw APIError.malformed(error.message, field: "after")
            }
            if let text = query["ack"] {
                let ack: PullCursor
                do {
                    ack = try PullCursor(parsing: String(text))
                } catch {
                    throw APIError.malformed(
                        "'\(text.prefix(40))' is not a pull cursor; ack is the nextCursor of the last page stored",
                        field: "ack")
                }
                guard ack.seq <= cursor.seq, ack.generation <= cursor.generation else {
                    throw APIError.malformed("ack must not be ahead of after", field: "ack")
                }
                acknowledged = ack
            } else {
                acknowledged = nil
            }
            limit = try SyncController.limit(query["limit"])
            if let text = query["states"] {
                guard text == "1" || text == "0" else {
                    throw APIError.malformed("states must be 1 (bootstrap from states) or 0", field: "states")
                }
                states = text == "1"
            } else {
                states = false
            }
            if let text = query["pages"] {
                guard let value = Int(text), (1...WireProtocol.maxStreamPages).contains(value) else {
                    throw APIError.malformed(
                        "pages must be an integer from 1 to \(WireProtocol.maxStreamPages)", field: "pages")
                }
                pages = value
            } else {
                pages = nil
            }
        }
    }

    func history(_ request: Request, context: Context) async throws -> Response {
        let session = try await authenticator.authenticate(authorization: request.headers[.authorization])
        let query = request.uri.queryParameters
        let cursor: HistoryCursor
        do {
            cursor = try HistoryCursor(parsing: query["after"].map(String.init) ?? "")
        } catch {
            throw APIError.malformed(error.message, field: "after")
        }
        let page = try await store.history(
            device: session.device.id, viewer: session.viewer, cursor: cursor, limit: try Self.limit(query["limit"]))
        metrics.recordPull(changes: page.stored.count, purges: 0)
        let time = now()
        let form = PageResponse.form(for: request)
        metrics.recordPage(form.rawValue)
        return try PageResponse.history(page, form: form, request: request, serverTime: time)
    }

    /// A pull's or history's `limit`: how many log entries (or states) a page holds.
    private static func limit(_ text: Substring?) throws -> Int {
        guard let text else { return WireProtocol.defaultPullLimit }
        guard let value = Int(text), (1...WireProtocol.maxPullLimit).contains(value) else {
            throw APIError.malformed("limit must be an integer from 1 to \(WireProtocol.maxPullLimit)", field: "limit")
        }
        return value
    }

    func health(_ request: Request) async throws -> Response {
        // One indexed row proves the store answers and is migrated; counting the log did too, at
        // a cost that grew with the log (12 ms a probe at 560,000 changes).
        _ = try await store.epoch()
        let time = now()
        return try JSONResponse.make(
            HealthResponse(
                status: "ok", version: KakehashiVersion.current, minClientVersion: minClientVersion.description,
                serverTime: time),
            request: request, serverTime: time)
    }

    /// Reads and decodes a JSON body of at most `limit` bytes, mapping every failure to the
    /// protocol's errors. A larger `Content-Length` is refused before the body is read.
    private func decode<T: Decodable>(_ request: inout Request, upTo limit: Int) async throws -> T {
        let (json, encoding) = try await body(&request, upTo: limit)
        // zlib cannot tell a cut gzip stream from a whole one: a body that was sent compressed
        // and is not JSON says so, since the compression may be what broke.
        let notJSON = encoding.map { "\(Self.notJSON) once decompressed (Content-Encoding: \($0))" } ?? Self.notJSON
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: json))
        } catch let error as DecodingError {
            let message = Self.describe(error)
            throw APIError.malformed(
                message == Self.notJSON ? notJSON : message, field: Self.field(of: error))
        } catch {
            throw APIError.malformed(notJSON)
        }
    }

    /// A body of at most `limit` bytes, with its `Content-Encoding` undone (the limit applies to
    /// both the body sent and the body decompressed), and that encoding. A larger
    /// `Content-Length` is refused before the body is read.
    private func body(_ request: inout Request, upTo limit: Int) async throws -> (ByteBuffer, encoding: String?) {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.bodyTooLarge(limit: limit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: limit)
        }
        let encoding = Self.contentCoding(request.headers[.contentEncoding])
        return (try Self.decoded(buffer, encoding: encoding, upTo: limit), encoding)
    }

    static var notJSON: String { "the body is not valid JSON" }

    /// The `Content-Encoding` a body was sent with, lower-cased; nil for none or `identity`.
    static func contentCoding(_ header: String?) -> String? {
        guard let coding = header?.trimmingCharacters(in: .whitespaces).lowercased(),
            !coding.isEmpty, coding != "identity"
        else { return nil }
        return coding
    }

    /// The body with its `Content-Encoding` undone: none, `identity` or `gzip` (which clients
    /// use only when the server lists `gzip-requests` in `Kakehashi-Features`). `limit` bounds the
    /// decompressed size as it bounds a plain body, so a small bomb cannot expand into memory.
    static func decoded(_ body: ByteBuffer, encoding: String?, upTo limit: Int) throws -> ByteBuffer {
        switch encoding {
        case nil:
            return body
        case "gzip":
            var compressed = body
            do {
                return try compressed.decompress(with: .gzip(), maxSize: limit)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                throw APIError.bodyTooLarge(limit: limit)
            } catch {
                throw APIError.malformed("the body is not valid gzip (Content-Encoding: gzip)")
            }
        case let other?:
            throw APIError(
                .unsupportedMediaType, code: .unsupportedMediaType,
                message: "Content-Encoding '\(other)' is not supported; send gzip or no encoding")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context):
            context.codingPath.isEmpty
                ? notJSON : "\(path(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            "the body does not match the expected JSON"
        }
    }

    static func field(of error: DecodingError) -> String? {
        switch error {
        case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
            context.codingPath.last.map { $0.intValue == nil ? $0.stringValue : nil } ?? nil
        case .keyNotFound(let key, _): key.stringValue
        @unknown default: nil
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingPrefix(".").description
    }
}
