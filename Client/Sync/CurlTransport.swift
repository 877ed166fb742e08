import CCurl
import Foundation
import KakehashiShared

/// The production transport: HTTP/JSON over libcurl (Docs/design.md §3 and §7).
///
/// TLS verification is always on (`cacert` adds a private CA); proxies come from the usual
/// `http_proxy`/`https_proxy`/`no_proxy` variables, which libcurl reads itself; responses may be
/// gzip-compressed. Requests that fail on the network, with 5xx or with 429 are retried with
/// exponential backoff and jitter; other 4xx never are. Every request is safe to retry: pushes
/// are idempotent by change id, pulls are reads.
///
/// Transfers run on a thread of the transport's own, never on Swift's cooperative pool (see
/// `perform`), and cancelling the task that waits for one aborts it.
public struct CurlTransport: SyncTransport {
    public let baseURL: String
    public let cacert: String?
    public var connectTimeoutSeconds = 10
    /// The whole request, including a large pull page on a slow link.
    public var requestTimeoutSeconds = 300
    /// A transfer slower than 1 byte/s for this long counts as stalled and is abandoned.
    public var stallSeconds = 30
    public var retry = RetryPolicy()
    /// Seconds without a byte moving before `observer` hears `.waiting` (and again every as many).
    public var waitingNoticeSeconds = 5
    /// Whether pulls and history downloads ask for binary pages; off, they ask for JSON as an
    /// older client does (the benchmark compares the two).
    public var asksForBinaryPages = true
    /// Told when a request stalls (called on the transfer's thread) or is retried (called by the
    /// task making the request).
    public var observer: (@Sendable (TransportEvent) -> Void)?
    /// The one easy handle every request of this transport (and its copies) goes through, so a
    /// whole sync keeps one connection, and one TLS session, alive instead of opening one per page.
    private let session = CurlSession()

    private static let globalInit: Void = { _ = curl_global_init(3) }()  // CURL_GLOBAL_ALL

    public init(baseURL: String, cacert: String? = nil) {
        _ = Self.globalInit
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.cacert = cacert
    }

    public func enroll(_ request: EnrollRequest) async throws(TransportFailure) -> Transferred<EnrollResponse> {
        try await send("POST", "/v1/enroll", body: encode(request), token: nil)
    }

    public func push(_ request: PushRequest, token: String) async throws(TransportFailure) -> Transferred<PushResponse>
    {
        try await push(request, token: token, gzip: false)
    }

    public func push(
        _ request: PushRequest, token: String, gzip: Bool
    ) async throws(TransportFailure) -> Transferred<PushResponse> {
        try await push(request, token: token, gzip: gzip, binary: false)
    }

    public func push(
        _ request: PushRequest, token: String, gzip: Bool, binary: Bool
    ) async throws(TransportFailure) -> Transferred<PushResponse> {
        try await push(prepare(request, gzip: gzip, binary: binary), token: token)
    }

    /// The body encoded (in `BinaryPush`'s form or JSON) and, with `gzip`, compressed (sent plain
    /// if zlib fails).
    public func prepare(_ request: PushRequest, gzip: Bool, binary: Bool) -> PreparedPush {
        PreparedPush(request, gzip: gzip, binary: binary, body: body(of: request, gzip: gzip, binary: binary))
    }

    public func push(
        _ prepared: PreparedPush, token: String
    ) async throws(TransportFailure) -> Transferred<PushResponse> {
        let (body, encoding) =
            prepared.body ?? self.body(of: prepared.request, gzip: prepared.gzip, binary: prepared.binary)
        guard prepared.binary else {
            return try await send("POST", "/v1/push", body: body, encoding: encoding, token: token)
        }
        return try await send(
            "POST", "/v1/push", body: body, encoding: encoding, contentType: BinaryPush.mediaType, token: token,
            accept: "\(BinaryPush.resultsMediaType), application/json;q=0.5",
            decode: Self.either(BinaryPush.resultsMediaType, BinaryPush.pushResponse))
    }

    /// A push's bytes on the wire and their `Content-Encoding`.
    private func body(of request: PushRequest, gzip: Bool, binary: Bool) -> (data: Data, encoding: String?) {
        let body = binary ? Data(BinaryPush.encode(request)) : encode(request)
        guard gzip, let compressed = Gzip.compress(body) else { return (body, nil) }
        return (compressed, "gzip")
    }

    public func pull(
        after cursor: String, limit: Int, token: String
    ) async throws(TransportFailure)
        -> Transferred<PullResponse>
    {
        try await pull(after: cursor, acknowledged: nil, limit: limit, token: token)
    }

    public func pull(
        after cursor: String, acknowledged: String?, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<PullResponse> {
        try await pull(after: cursor, acknowledged: acknowledged, states: false, limit: limit, token: token)
    }

    public func pull(
        after cursor: String, acknowledged: String?, states: Bool, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<PullResponse> {
        let ack = acknowledged.map { "&ack=" + Self.escaped($0) } ?? ""
        return try await send(
            "GET", "/v1/pull?after=\(Self.escaped(cursor))\(ack)\(states ? "&states=1" : "")&limit=\(limit)",
            body: nil, token: token,
            accept: pageTypes, decode: Self.either(BinaryPage.mediaType, BinaryPage.pullResponse))
    }

    public func pullStates(limit: Int, token: String) async throws(TransportFailure) -> Transferred<PullResponse> {
        try await send(
            "GET", "/v1/pull?after=\(WireProtocol.initialCursor)&states=1&limit=\(limit)", body: nil, token: token,
            accept: pageTypes, decode: Self.either(BinaryPage.mediaType, BinaryPage.pullResponse))
    }

    public func pullPages(
        after cursor: String, acknowledged: String?, states: Bool, limit: Int, pages: Int, token: String,
        receive: @escaping @Sendable (Transferred<PullResponse>) -> Bool
    ) async throws(TransportFailure) {
        guard asksForBinaryPages else {
            // Streams carry binary pages only: a transport asking for JSON asks page by page.
            let reply =
                cursor == WireProtocol.initialCursor && states
                ? try await pullStates(limit: limit, token: token)
                : try await pull(after: cursor, acknowledged: acknowledged, states: states, limit: limit, token: token)
            _ = receive(reply)
            return
        }
        let ack = acknowledged.map { "&ack=" + Self.escaped($0) } ?? ""
        let url =
            baseURL
            + "/v1/pull?after=\(Self.escaped(cursor))\(ack)\(states ? "&states=1" : "")&limit=\(limit)&pages=\(pages)"
        var generator = SystemRandomNumberGenerator()
        var attempt = 1
        while true {
            if Task.isCancelled { throw .cancelled }
            let feed = StreamFeed(receive: receive)
            let failure: TransportFailure
            do throws(TransportFailure) {
                try await stream(url, token: token, into: feed)
                return
            } catch {
                failure = error
            }
            // Pages were handed on: the caller goes on from the last, never from this cursor again.
            if feed.pages > 0 { return }
            try await pause(after: failure, attempt: &attempt, using: &generator)
        }
    }

    /// One attempt at a page stream: each page goes to `feed` as its frame arrives.
    /// - Throws: what ends the stream before its end frame, which `pullPages` judges by how many
    ///   pages were handed on; a non-retryable error frame whatever came before.
    private func stream(_ url: String, token: String, into feed: StreamFeed) async throws(TransportFailure) {
        let reply: Reply
        do throws(TransportFailure) {
            reply = try await perform(
                "GET", url, body: nil, encoding: nil, contentType: "application/json", token: token,
                accept: "\(PageStream.mediaType), \(BinaryPage.mediaType);q=0.9, application/json;q=0.5", feed: feed)
        } catch {
            if feed.abandoned { throw .cancelled }
            if let damage = feed.failure { throw damage }
            throw error
        }
        guard (200..<300).contains(reply.status) else { throw Self.failure(of: reply) }
        guard feed.streamed else {
            // Answered with one page (the server did not stream it): that page alone.
            let page = try Self.either(BinaryPage.mediaType, BinaryPage.pullResponse)(reply)
            _ = feed.receive(
                Transferred(
                    page, bytes: reply.bytes, features: reply.features, serverTiming: reply.serverTiming,
                    received: reply.received))
            feed.pages += 1
            return
        }
        switch feed.ending {
        case .end?, .page?:
            return
        case .error(let status, let body)?:
            let error = try? JSONDecoder().decode(ErrorResponse.self, from: Data(body))
            let failure = TransportFailure.status(status, error)
            // A retryable refusal ends the stream like a cut: the next request meets it with retries.
            if failure.isRetryable, feed.pages > 0 { return }
            throw failure
        case nil:
            throw .unreachable("\(url): the page stream ended before its last frame")
        }
    }

    public func history(
        after cursor: String, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<HistoryResponse> {
        try await send(
            "GET", "/v1/history?after=\(Self.escaped(cursor))&limit=\(limit)", body: nil, token: token,
            accept: pageTypes, decode: Self.either(BinaryPage.mediaType, BinaryPage.historyResponse))
    }

    /// What pulls and history downloads accept: binary pages, which cost the laptop less to
    /// read, or JSON from a server that does not write them (an older one ignores the header).
    public var pageTypes: String {
        asksForBinaryPages ? "\(BinaryPage.mediaType), application/json;q=0.5" : "application/json"
    }

    /// A cursor as a query parameter's value.
    private static func escaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    /// Liveness check (`GET /v1/health`); tests use it to wait for a server. No `kakehashi` command calls it.
    public func health() async throws(TransportFailure) -> Transferred<HealthResponse> {
        try await send("GET", "/v1/health", body: nil, token: nil)
    }

    private func encode(_ value: some Encodable) -> Data {
        (try? JSONEncoder().encode(value)) ?? Data()
    }

    /// One request, tried again after a pause while it fails in a retryable way.
    ///
    /// A cancelled task ends the pause at once and makes no further attempt: the request fails
    /// with `.cancelled`, never with another try.
    /// - Parameter encoding: the body's `Content-Encoding`, when it is compressed.
    private func send<Response: Decodable & Sendable>(
        _ method: String, _ path: String, body: Data?, encoding: String? = nil, token: String?
    ) async throws(TransportFailure) -> Transferred<Response> {
        try await send(
            method, path, body: body, encoding: encoding, token: token, accept: "application/json",
            decode: Self.json)
    }

    /// A request whose answer `decode` reads, from the body and its `Content-Type`.
    private func send<Response: Sendable>(
        _ method: String, _ path: String, body: Data?, encoding: String? = nil,
        contentType: String = "application/json", token: String?, accept: String,
        decode: @escaping @Sendable (Reply) throws(TransportFailure) -> Response
    ) async throws(TransportFailure) -> Transferred<Response> {
        var generator = SystemRandomNumberGenerator()
        var attempt = 1
        while true {
            if Task.isCancelled { throw .cancelled }
            let failure: TransportFailure
            do throws(TransportFailure) {
                return try await exchange(
                    method, baseURL + path, body: body, encoding: encoding, contentType: contentType, token: token,
                    accept: accept, decode: decode)
            } catch {
                failure = error
            }
            try await pause(after: failure, attempt: &attempt, using: &generator)
        }
    }

    /// The pause before attempt `attempt + 1`, told to the observer; throws `failure` when it is
    /// not worth retrying or the attempts are spent, `.cancelled` when the task is cancelled.
    private func pause(
        after failure: TransportFailure, attempt: inout Int, using generator: inout SystemRandomNumberGenerator
    ) async throws(TransportFailure) {
        guard failure.isRetryable, attempt < retry.attempts else { throw failure }
        let pause = retry.delay(beforeRetry: attempt, using: &generator)
        observer?(.retrying(attempt: attempt + 1, of: retry.attempts, delay: pause, reason: failure.description))
        do {
            try await Task.sleep(nanoseconds: UInt64(pause * 1_000_000_000))
        } catch {
            throw .cancelled  // the only error `Task.sleep` throws
        }
        attempt += 1
    }

    /// One attempt: the HTTP exchange, then its status, and its body read by `decode`.
    private func exchange<Response: Sendable>(
        _ method: String, _ url: String, body: Data?, encoding: String?, contentType: String, token: String?,
        accept: String, decode: (Reply) throws(TransportFailure) -> Response
    ) async throws(TransportFailure) -> Transferred<Response> {
        let reply = try await perform(
            method, url, body: body, encoding: encoding, contentType: contentType, token: token, accept: accept)
        guard (200..<300).contains(reply.status) else { throw Self.failure(of: reply) }
        return Transferred(
            try decode(reply), bytes: reply.bytes, features: reply.features, serverTiming: reply.serverTiming,
            received: reply.received)
    }

    /// What an error answer (not 2xx) says.
    private static func failure(of reply: Reply) -> TransportFailure {
        let error = try? JSONDecoder().decode(ErrorResponse.self, from: reply.body)
        if reply.status == 426 || error?.error.kind == .upgradeRequired {
            return .upgradeRequired(minimum: reply.minClientVersion.flatMap(AppVersion.init).map(\.description))
        }
        return .status(reply.status, error)
    }

    /// A JSON body.
    private static func json<Response: Decodable>(_ reply: Reply) throws(TransportFailure) -> Response {
        do {
            return try JSONDecoder().decode(Response.self, from: reply.body)
        } catch {
            throw .undecodable("\(error)")
        }
    }

    /// A body read by `binary` when the server sent `mediaType` (its `Content-Type`: a page, a
    /// push's answer), as JSON otherwise.
    private static func either<Response: Decodable & Sendable>(
        _ mediaType: String, _ binary: @escaping @Sendable ([UInt8]) throws(KakehashiError) -> Response
    ) -> @Sendable (Reply) throws(TransportFailure) -> Response {
        { reply throws(TransportFailure) in
            guard reply.contentType?.lowercased().hasPrefix(mediaType) == true else {
                return try json(reply)
            }
            do throws(KakehashiError) {
                return try binary([UInt8](reply.body))
            } catch {
                throw .undecodable(error.message)
            }
        }
    }

    struct Reply: Sendable {
        let status: Int
        let body: Data
        let bytes: Int
        /// The `Kakehashi-Min-Client-Version` header, when the server sent one.
        let minClientVersion: String?
        /// The `Kakehashi-Features` the server listed.
        let features: Set<String>
        /// The body's `Content-Type`.
        let contentType: String?
        /// The server's time for the response (`Server-Timing`), when it sent one.
        let serverTiming: Duration?
        /// When the transfer ended.
        let received: ContinuousClock.Instant
    }

    /// One HTTP exchange on the session's handle, reset to this request's options; libcurl keeps
    /// the connection of the previous request open and reuses it.
    ///
    /// `curl_easy_perform` blocks its thread until the transfer ends: minutes, on a slow link.
    /// Called straight from this async function it would hold a thread of Swift's cooperative
    /// pool, which has one per core, for all that time: on a two-core laptop, half of what every
    /// other task (the page asked ahead, the sync's database work) runs on. So the transfer runs
    /// on the session's serial dispatch queue, whose thread is not one of the pool's, and the task
    /// awaits it through a continuation without holding a thread. Cancelling the task raises the
    /// transfer's flag, and libcurl's progress callback, called at least once a second even
    /// while nothing moves, answers by aborting the transfer (`.cancelled`).
    ///
    /// With a `feed`, a page stream's frames go to it as they arrive instead of into the reply's
    /// body, and the request has no overall time limit (a stream that keeps delivering is alive;
    /// one that stalls is still abandoned).
    private func perform(
        _ method: String, _ url: String, body: Data?, encoding: String?, contentType: String, token: String?,
        accept: String, feed: StreamFeed? = nil
    ) async throws(TransportFailure) -> Reply {
        let cancellation = CancellationFlag()
        let outcome = await withTaskCancellationHandler {
            await session.run { handle throws(TransportFailure) in
                try perform(
                    method, url, body: body, encoding: encoding, contentType: contentType, token: token,
                    accept: accept, on: handle, cancellation: cancellation, feed: feed)
            }
        } onCancel: {
            cancellation.raise()
        }
        return try outcome.get()
    }

    /// The transfer itself, on the session's queue.
    private func perform(
        _ method: String, _ url: String, body: Data?, encoding: String?, contentType: String, token: String?,
        accept: String, on handle: UnsafeMutableRawPointer, cancellation: CancellationFlag, feed: StreamFeed?
    ) throws(TransportFailure) -> Reply {
        // Cancelled while an earlier request held the queue: not started at all.
        guard !cancellation.isRaised else { throw .cancelled }
        let sink = ResponseSink()
        sink.feed = feed
        sink.handle = handle
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }

        var headers: UnsafeMutablePointer<curl_slist>? = nil
        for header in ["Accept: \(accept)", "Content-Type: \(contentType)"]
            + (encoding.map { ["Content-Encoding: \($0)"] } ?? [])
            + (token.map { ["Authorization: Bearer \($0)"] } ?? [])
        {
            headers = curl_slist_append(headers, header)
        }
        defer { curl_slist_free_all(headers) }

        _ = kh_curl_setopt_string(handle, CURLOPT_URL, url)
        _ = kh_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = kh_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, connectTimeoutSeconds)
        _ = kh_curl_setopt_long(handle, CURLOPT_TIMEOUT, feed == nil ? requestTimeoutSeconds : 0)
        _ = kh_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = kh_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, stallSeconds)
        _ = kh_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "gzip")
        _ = kh_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
        _ = kh_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
        if let cacert { _ = kh_curl_setopt_string(handle, CURLOPT_CAINFO, cacert) }
        _ = kh_curl_setopt_string(handle, CURLOPT_USERAGENT, KakehashiVersion.userAgent)
        _ = kh_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        _ = kh_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, ResponseSink.collect)
        _ = kh_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque())
        _ = kh_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION, ResponseSink.header)
        _ = kh_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context.toOpaque())
        if method == "POST" {
            let payload = body ?? Data()
            _ = kh_curl_setopt_long(handle, CURLOPT_POST, 1)
            _ = kh_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(payload.count))
            payload.withUnsafeBytes { raw in
                _ = kh_curl_setopt_pointer(
                    handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
            }
        }

        let watch = TransferWatch(noticeAfter: waitingNoticeSeconds, observer: observer, cancellation: cancellation)
        let watchContext = Unmanaged.passRetained(watch)
        defer { watchContext.release() }
        _ = kh_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
        _ = kh_curl_setopt_progress_function(handle, TransferWatch.progress)
        _ = kh_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, watchContext.toOpaque())

        let code = curl_easy_perform(handle)
        let received = ContinuousClock.now
        guard code == CURLE_OK else {
            if code == CURLE_ABORTED_BY_CALLBACK { throw .cancelled }
            let detail = "\(url): \(String(cString: curl_easy_strerror(code)))"
            if Self.tlsFailures.contains(code.rawValue) { throw .tls(detail) }
            throw .unreachable(detail)
        }
        var status = 0
        _ = kh_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var downloaded: curl_off_t = 0
        var uploaded: curl_off_t = 0
        var headerBytes = 0
        _ = kh_curl_getinfo_off_t(handle, CURLINFO_SIZE_DOWNLOAD_T, &downloaded)
        _ = kh_curl_getinfo_off_t(handle, CURLINFO_SIZE_UPLOAD_T, &uploaded)
        _ = kh_curl_getinfo_long(handle, CURLINFO_HEADER_SIZE, &headerBytes)
        return Reply(
            status: status, body: sink.body, bytes: Int(downloaded) + Int(uploaded) + headerBytes,
            minClientVersion: sink.minClientVersion, features: sink.features, contentType: sink.contentType,
            serverTiming: sink.serverTiming, received: received)
    }
}

/// A libcurl easy handle and the serial dispatch queue its transfers run on, off Swift's
/// cooperative pool (see `CurlTransport.perform`). Being serial, the queue also gives the handle
/// to one request at a time: requests of a sync run one after another anyway, and a page asked
/// ahead waits for the request before it.
private final class CurlSession: @unchecked Sendable {
    private let queue = DispatchQueue(label: "kakehashi.curl-session")
    /// Used on `queue` only (and by `deinit`, when no transfer can be running).
    private var handle: UnsafeMutableRawPointer?

    /// Runs `body` on the queue with the handle, and hands its outcome back to the waiting task.
    func run<T: Sendable>(
        _ body: @escaping @Sendable (UnsafeMutableRawPointer) throws(TransportFailure) -> T
    ) async -> Result<T, TransportFailure> {
        await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(TransportFailure) -> T in try self.withHandle(body) })
            }
        }
    }

    private func withHandle<T>(
        _ body: (UnsafeMutableRawPointer) throws(TransportFailure) -> T
    ) throws(TransportFailure) -> T {
        if let handle {
            curl_easy_reset(handle)
        } else {
            guard let created = curl_easy_init() else { throw .unreachable("libcurl could not start a transfer") }
            handle = created
        }
        return try body(handle!)
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
    }
}

extension CurlTransport {
    /// libcurl's codes for a TLS handshake or certificate that failed: CURLE_SSL_CONNECT_ERROR (35),
    /// CURLE_SSL_CERTPROBLEM (58), CURLE_SSL_CIPHER (59), CURLE_PEER_FAILED_VERIFICATION (60),
    /// CURLE_SSL_CACERT_BADFILE (77), CURLE_SSL_PINNEDPUBKEYNOTMATCH (90), CURLE_SSL_INVALIDCERTSTATUS (91).
    static let tlsFailures: Set<UInt32> = [35, 58, 59, 60, 77, 90, 91]
}

/// Raised when the task waiting for a transfer is cancelled; read on the transfer's thread.
private final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    var isRaised: Bool { lock.withLock { raised } }

    func raise() {
        lock.withLock { raised = true }
    }
}

/// libcurl's progress callback (about once a second, also while nothing moves): aborts the
/// transfer once its task is cancelled, and tells the observer when no byte has moved in either
/// direction for `noticeAfter` seconds, then again every `noticeAfter` seconds, so a silent
/// server is reported within seconds, not when the stall timeout ends the request.
private final class TransferWatch {
    let noticeAfter: Int
    let observer: (@Sendable (TransportEvent) -> Void)?
    let cancellation: CancellationFlag
    private var moved: curl_off_t = -1
    private var since = Date()
    private var reported = 0

    init(noticeAfter: Int, observer: (@Sendable (TransportEvent) -> Void)?, cancellation: CancellationFlag) {
        self.noticeAfter = max(1, noticeAfter)
        self.observer = observer
        self.cancellation = cancellation
    }

    /// Returns non-zero, which makes libcurl end the transfer with CURLE_ABORTED_BY_CALLBACK,
    /// once the transfer's task is cancelled.
    static let progress: kh_curl_progress_callback = { context, _, downloaded, _, uploaded in
        guard let context else { return 0 }
        let watch = Unmanaged<TransferWatch>.fromOpaque(context).takeUnretainedValue()
        guard !watch.cancellation.isRaised else { return 1 }
        watch.observe(downloaded + uploaded)
        return 0
    }

    private func observe(_ total: curl_off_t) {
        guard let observer else { return }
        let now = Date()
        if total != moved {
            moved = total
            since = now
            reported = 0
            return
        }
        let idle = Int(now.timeIntervalSince(since))
        if idle >= noticeAfter * (reported + 1) {
            reported = idle / noticeAfter
            observer(.waiting(seconds: idle))
        }
    }
}

/// Collects a response body from libcurl's write callback, and the headers the client reads.
final class ResponseSink {
    var body = Data()
    /// Where a page stream's bytes go (`CurlTransport.pullPages`), when the answer is one.
    var feed: StreamFeed?
    /// The transfer's handle, for the byte counts of a stream's pages.
    var handle: UnsafeMutableRawPointer?
    var minClientVersion: String?
    var features: Set<String> = []
    var contentType: String?
    var serverTiming: Duration?

    private static let serverTimingPrefix = Array("server-timing:".utf8)
    private static let contentTypePrefix = Array("content-type:".utf8)
    private static let minClientVersionPrefix = Array((WireProtocol.minClientVersionHeader + ":").lowercased().utf8)
    private static let featuresPrefix = Array((WireProtocol.featuresHeader + ":").lowercased().utf8)

    /// The value of `line` when it is the header `prefix` names (case-insensitively).
    private static func value(of line: [UInt8], _ prefix: [UInt8]) -> String? {
        guard line.count > prefix.count, line.prefix(prefix.count).map({ $0 | 0x20 }) == prefix.map({ $0 | 0x20 })
        else { return nil }
        return String(decoding: line.dropFirst(prefix.count), as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    /// The `dur` (milliseconds) of the first metric of a `Server-Timing` value (`app;dur=12.5`).
    static func serverDuration(_ value: String) -> Duration? {
        let metric = value.split(separator: ",").first ?? ""
        for parameter in metric.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "dur", let millis = Double(pair[1]), millis >= 0,
                millis.isFinite
            {
                return .microseconds(Int64(millis * 1_000))
            }
        }
        return nil
    }

    /// libcurl's header callback: one header line per call (of every response, redirects included).
    static let header: kh_curl_write_callback = { data, size, count, context in
        guard let data, let context else { return 0 }
        let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
        if let version = value(of: line, minClientVersionPrefix) { sink.minClientVersion = version }
        if let type = value(of: line, contentTypePrefix) { sink.contentType = type }
        if let timing = value(of: line, serverTimingPrefix) { sink.serverTiming = serverDuration(timing) }
        if let listed = value(of: line, featuresPrefix) {
            sink.features = Set(listed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        return length
    }

    static let collect: kh_curl_write_callback = { data, size, count, context in
        guard let data, let context else { return 0 }
        let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        if let feed = sink.feed, sink.contentType?.lowercased().hasPrefix(PageStream.mediaType) == true {
            let taken = data.withMemoryRebound(to: UInt8.self, capacity: length) {
                feed.take(UnsafeBufferPointer(start: $0, count: length), sink: sink)
            }
            return taken ? length : 0
        }
        data.withMemoryRebound(to: UInt8.self, capacity: length) { sink.body.append($0, count: length) }
        return length
    }
}

/// A page stream's frames as libcurl hands them over (`CurlTransport.pullPages`): each page is
/// read as soon as its frame is whole and handed to `receive`, which may block the transfer's
/// thread while the laptop applies the pages before it (so the stream waits in the server and
/// the socket, not in memory). Used on the transfer's thread; read by the waiting task after
/// the transfer ended.
final class StreamFeed: @unchecked Sendable {
    let receive: @Sendable (Transferred<PullResponse>) -> Bool
    private var reader = PageStream.Reader()
    /// Whether the answer was a page stream (its `Content-Type`).
    private(set) var streamed = false
    /// Pages handed to `receive`.
    var pages = 0
    /// How the stream ended, once its end or error frame was read.
    private(set) var ending: PageStream.Frame?
    /// Bytes that are not a page stream, or a page that is not a page.
    private(set) var failure: TransportFailure?
    private let abandonment = CancellationFlag()
    /// Bytes downloaded (as libcurl counts them, before decompression) already counted for pages.
    private var counted: curl_off_t = 0

    init(receive: @escaping @Sendable (Transferred<PullResponse>) -> Bool) {
        self.receive = receive
    }

    /// Whether `receive` refused a page or the waiting task was cancelled.
    var abandoned: Bool { abandonment.isRaised }

    func abandon() {
        abandonment.raise()
    }

    /// Takes bytes of the body; false ends the transfer (damage, or the stream was abandoned).
    func take(_ bytes: UnsafeBufferPointer<UInt8>, sink: ResponseSink) -> Bool {
        streamed = true
        guard !abandoned else { return false }
        reader.append(bytes)
        do throws(KakehashiError) {
            while let frame = try reader.next() {
                guard case .page(let bytes, let micros) = frame else {
                    ending = frame
                    continue
                }
                let page = try BinaryPage.pullResponse(from: bytes)
                var downloaded: curl_off_t = 0
                var headerBytes = 0
                if let handle = sink.handle {
                    _ = kh_curl_getinfo_off_t(handle, CURLINFO_SIZE_DOWNLOAD_T, &downloaded)
                    if pages == 0 { _ = kh_curl_getinfo_long(handle, CURLINFO_HEADER_SIZE, &headerBytes) }
                }
                let wire = Int(max(0, downloaded - counted)) + headerBytes
                counted = max(counted, downloaded)
                pages += 1
                let reply = Transferred(
                    page, bytes: wire, features: sink.features,
                    serverTiming: .microseconds(Int64(clamping: micros)), received: .now)
                guard receive(reply) else {
                    abandon()
                    return false
                }
            }
            return true
        } catch {
            failure = .undecodable(error.message)
            return false
        }
    }
}
