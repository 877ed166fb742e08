import KakehashiShared

/// How the client reaches the server: libcurl in the product (`CurlTransport`), an in-process
/// server in unit tests. The only seam in the client with two implementations.
public protocol SyncTransport: Sendable {
    func enroll(_ request: EnrollRequest) async throws(TransportFailure) -> Transferred<EnrollResponse>
    func push(_ request: PushRequest, token: String) async throws(TransportFailure) -> Transferred<PushResponse>
    /// A push whose body is gzip-compressed when `gzip` is true (the server listed
    /// `WireProtocol.gzipRequestsFeature`).
    func push(
        _ request: PushRequest, token: String, gzip: Bool
    ) async throws(TransportFailure) -> Transferred<PushResponse>
    /// A push whose body is in `BinaryPush`'s form, and whose answer is asked for in it, when
    /// `binary` is true (the server listed `WireProtocol.binaryPushFeature`); JSON otherwise.
    func push(
        _ request: PushRequest, token: String, gzip: Bool, binary: Bool
    ) async throws(TransportFailure) -> Transferred<PushResponse>
    /// A push made ready to send (its body encoded, for a transport that sends bytes), so the
    /// next batch is prepared while the one before is in flight.
    func prepare(_ request: PushRequest, gzip: Bool, binary: Bool) -> PreparedPush
    /// Sends a push `prepare` made.
    func push(_ prepared: PreparedPush, token: String) async throws(TransportFailure) -> Transferred<PushResponse>
    func pull(
        after cursor: String, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<PullResponse>
    /// A pull asked ahead: `acknowledged` is the cursor of the last page stored (the `ack`
    /// parameter), so the server keeps what a retry from it needs.
    func pull(
        after cursor: String, acknowledged: String?, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<PullResponse>
    /// A pull of the change stream that takes the records the device gains access to as merged
    /// states (`states=1`, feature `gained-states`): `PullResponse.gained` names them.
    func pull(
        after cursor: String, acknowledged: String?, states: Bool, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<PullResponse>
    /// The first page of a bootstrap from states (`GET /v1/pull?after=0&states=1`); the later
    /// pages are pulls with the cursors it hands out.
    func pullStates(limit: Int, token: String) async throws(TransportFailure) -> Transferred<PullResponse>
    /// A page stream (feature `page-streams`, `PageStream`): up to `pages` consecutive pages
    /// from `cursor` in one response, each handed to `receive` as soon as its frame is in (on the
    /// transfer's thread; `receive` may block it while the pages before are applied, and returns
    /// false to abandon the stream). `states` asks states as `pullStates` (from `0`) or `pull`
    /// (from a stream cursor) would.
    ///
    /// Returns when the stream ended, or was cut after at least one page (the caller goes on
    /// from the last page received, as after any page). An error frame the caller cannot retry
    /// (a revoked device, an unknown cursor, …) is thrown as the status a request for that page
    /// alone would have failed with; a retryable one (5xx, 429) ends the stream as a cut does,
    /// so the next request meets it with the usual retries.
    func pullPages(
        after cursor: String, acknowledged: String?, states: Bool, limit: Int, pages: Int, token: String,
        receive: @escaping @Sendable (Transferred<PullResponse>) -> Bool
    ) async throws(TransportFailure)

    /// The next page of the history a bootstrap left out (`GET /v1/history`).
    func history(
        after cursor: String, limit: Int, token: String
    ) async throws(TransportFailure)
        -> Transferred<HistoryResponse>
}

extension SyncTransport {
    /// Transports that do not compress (test and benchmark doubles) send every body plain.
    public func push(
        _ request: PushRequest, token: String, gzip: Bool
    ) async throws(TransportFailure) -> Transferred<PushResponse> {
        try await push(request, token: token)
    }

    /// Transports without binary bodies (test and benchmark doubles) send JSON, as to a server
    /// without the feature.
    public func push(
        _ request: PushRequest, token: String, gzip: Bool, binary: Bool
    ) async throws(TransportFailure) -> Transferred<PushResponse> {
        try await push(request, token: token, gzip: gzip)
    }

    /// Transports that take the request itself (test and benchmark doubles) prepare nothing.
    public func prepare(_ request: PushRequest, gzip: Bool, binary: Bool) -> PreparedPush {
        PreparedPush(request, gzip: gzip, binary: binary)
    }

    public func push(
        _ prepared: PreparedPush, token: String
    ) async throws(TransportFailure) -> Transferred<PushResponse> {
        try await push(prepared.request, token: token, gzip: prepared.gzip, binary: prepared.binary)
    }

    /// Transports without access bookkeeping (test and benchmark doubles) ignore the acknowledgement.
    public func pull(
        after cursor: String, acknowledged: String?, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<PullResponse> {
        try await pull(after: cursor, limit: limit, token: token)
    }

    /// Transports without states (test and benchmark doubles) answer with changes, as a server
    /// without the feature would.
    public func pull(
        after cursor: String, acknowledged: String?, states: Bool, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<PullResponse> {
        try await pull(after: cursor, acknowledged: acknowledged, limit: limit, token: token)
    }

    public func pullStates(limit: Int, token: String) async throws(TransportFailure) -> Transferred<PullResponse> {
        try await pull(after: WireProtocol.initialCursor, limit: limit, token: token)
    }

    /// Transports without page streams (test and benchmark doubles) answer one page per request.
    public func pullPages(
        after cursor: String, acknowledged: String?, states: Bool, limit: Int, pages: Int, token: String,
        receive: @escaping @Sendable (Transferred<PullResponse>) -> Bool
    ) async throws(TransportFailure) {
        let reply =
            cursor == WireProtocol.initialCursor && states
            ? try await pullStates(limit: limit, token: token)
            : try await pull(after: cursor, acknowledged: acknowledged, states: states, limit: limit, token: token)
        _ = receive(reply)
    }

    /// Transports without states never hand out a history cursor, so nothing asks for history.
    public func history(
        after cursor: String, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<HistoryResponse> {
        throw .status(404, nil)
    }
}

/// What a transport tells its user while a request is under way (`kakehashi sync` shows it).
public enum TransportEvent: Sendable, Hashable {
    /// Nothing has moved on the current request for this many seconds (reported every few seconds).
    case waiting(seconds: Int)
    /// The request failed in a retryable way; attempt `attempt` of `of` follows after `delay` seconds.
    case retrying(attempt: Int, of: Int, delay: Double, reason: String)
}

/// A decoded response and how many bytes crossed the wire for it (both directions).
public struct Transferred<Value: Sendable>: Sendable {
    public let value: Value
    public let bytes: Int
    /// The optional protocol features the server listed (`WireProtocol.featuresHeader`).
    public let features: Set<String>
    /// The server's time to make the response, when it said (`Server-Timing: app;dur=…`): what
    /// of the request's time was the server's rather than the network's.
    public let serverTiming: Duration?
    /// When the response's last byte arrived, before its body was decoded: the laptop's own
    /// decoding is not time it waited for the network (`PullPacing`).
    public let received: ContinuousClock.Instant

    public init(
        _ value: Value, bytes: Int, features: Set<String> = [], serverTiming: Duration? = nil,
        received: ContinuousClock.Instant = .now
    ) {
        self.value = value
        self.bytes = bytes
        self.features = features
        self.serverTiming = serverTiming
        self.received = received
    }
}

/// Why a request did not produce a usable response, after any retries.
public enum TransportFailure: Error, Sendable, CustomStringConvertible {
    /// No answer: connection refused or cut, DNS, TLS, timeout, or a stalled transfer.
    case unreachable(String)
    /// The server answered with an error status (4xx/5xx) and, usually, an `ErrorResponse`.
    case status(Int, ErrorResponse?)
    /// The server answered 2xx with a body that is not the expected JSON.
    case undecodable(String)
    /// The server refuses this client's version (426 `upgrade-required`); `minimum` is the
    /// oldest version it accepts (`Kakehashi-Min-Client-Version`), when it said.
    case upgradeRequired(minimum: String?)
    /// The server's TLS certificate could not be verified (or the TLS handshake failed): retrying
    /// does not help; a private certificate authority is given with `--cacert`.
    case tls(String)
    /// The task waiting for the request was cancelled: the transfer was abandoned, or not
    /// started, and no retry follows. `SyncEngine` turns it into a `CancellationError`.
    case cancelled

    public var description: String {
        switch self {
        case .unreachable(let detail): detail
        case .status(let code, let body): "HTTP \(code)" + (body.map { ": \($0.error.message)" } ?? "")
        case .undecodable(let detail): "unexpected response from the server: \(detail)"
        case .upgradeRequired(let minimum): "HTTP 426: upgrade kakehashi to \(minimum ?? "a newer version")"
        case .tls(let detail): detail
        case .cancelled: "the request was cancelled"
        }
    }

    /// The error the CLI shows, with the exit code Docs/design.md §8 assigns.
    public var kakehashiError: KakehashiError {
        switch self {
        case .unreachable(let detail):
            return KakehashiError(
                .unavailable, "cannot reach the server: \(detail). Your work is kept; sync again later.")
        case .status(let code, let body):
            let message = body?.error.message ?? "HTTP \(code)"
            switch code {
            case 401, 403: return KakehashiError(.notAuthorized, field: body?.error.field, message)
            case 429:
                return KakehashiError(
                    .unavailable,
                    "the server is busy (HTTP 429): \(message). Your work is kept; sync again in a minute.")
            case 500...:
                return KakehashiError(
                    .unavailable, "the server failed (HTTP \(code)): \(message). Your work is kept; sync again later.")
            default:
                return KakehashiError(
                    .invalidData, field: body?.error.field, "the server refused the request (HTTP \(code)): \(message)")
            }
        case .undecodable:
            return KakehashiError(.unavailable, description)
        case .cancelled:
            return KakehashiError(.unavailable, "the sync was cancelled. Your work is kept; sync again later.")
        case .tls(let detail):
            return KakehashiError(
                .unavailable, field: "cacert",
                "サーバーの TLS 証明書を確認できませんでした (\(detail))。サーバーが組織の認証局 (CA) の証明書を使っている場合は、その CA 証明書の PEM ファイルを `kakehashi sync --cacert FILE` で指定してください（以後の sync でも使われます）。再試行では直りません。"
            )
        case .upgradeRequired(let minimum):
            let target = minimum.map { "\($0) 以上" } ?? "新しいバージョン"
            return KakehashiError(
                .upgradeRequired,
                "サーバーはこの kakehashi \(KakehashiVersion.current) を受け付けません。kakehashi を \(target)に更新してください (upgrade kakehashi to \(minimum ?? "a newer version"))。このパソコンのデータは何も変わっていません。未送信の変更は更新後の sync で送られます。"
            )
        }
    }

    /// Whether trying again later may succeed: network trouble, 5xx and 429 — never other 4xx.
    public var isRetryable: Bool {
        switch self {
        case .unreachable: true
        case .status(let code, _): code >= 500 || code == 429
        case .undecodable, .upgradeRequired, .tls, .cancelled: false
        }
    }
}
