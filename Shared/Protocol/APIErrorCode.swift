/// The machine-readable `code` of an error response (`ErrorResponse`), one per situation a
/// client acts on differently (Docs/protocol.md, "Error codes"). The wire carries the raw
/// string, so a client meeting a code newer than itself still reads the message and status.
public enum APIErrorCode: String, Codable, Sendable, CaseIterable {
    /// 400: the body is not JSON, has wrong types or keys, or a query parameter is bad.
    case malformed
    /// 422: a pushed change fails validation; nothing from the request was stored.
    case invalidData = "invalid-data"
    /// 401: a missing, unknown or malformed token, or an unusable enrollment code.
    case unauthorized
    /// 401: the device was revoked or its advisor deactivated; the laptop wipes its data.
    case revoked
    /// Per change in a push result: the device may not write this.
    case forbidden
    /// 404: no such endpoint.
    case notFound = "not-found"
    /// 405: a known endpoint asked with another method (the `Allow` header names it).
    case methodNotAllowed = "method-not-allowed"
    /// 413: a body or batch over its limit.
    case tooLarge = "too-large"
    /// 415: a body that is not JSON, or a `Content-Encoding` other than gzip.
    case unsupportedMediaType = "unsupported-media-type"
    /// 426: the client is older than the server's minimum (`Kakehashi-Min-Client-Version`).
    case upgradeRequired = "upgrade-required"
    /// 409 on pull: the cursor was not issued by this log (restored or replaced); the laptop
    /// recovers as for a new epoch.
    case unknownCursor = "unknown-cursor"
    /// 429: a full reconciliation asked for again too soon.
    case tooManyRequests = "too-many-requests"
    /// 500: a server fault.
    case `internal`
}
