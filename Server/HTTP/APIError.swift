import Hummingbird
import KakehashiShared

/// An error answered to a client: an HTTP status and the `ErrorResponse` body's code, message and
/// field. Every failure on the HTTP edge becomes one of these (see `ServerMiddleware`).
public struct APIError: Error, Sendable {
    public let status: HTTPResponse.Status
    public let code: APIErrorCode
    public let message: String
    public let field: String?
    /// The change at fault (`ErrorResponse.Body.change`).
    public let change: ChangeID?

    public init(
        _ status: HTTPResponse.Status, code: APIErrorCode, message: String, field: String? = nil,
        change: ChangeID? = nil
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.change = change
    }

    public static func malformed(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, code: .malformed, message: message, field: field)
    }

    public static func invalid(_ error: KakehashiError) -> APIError {
        APIError(.unprocessableContent, code: .invalidData, message: error.message, field: error.field)
    }

    public static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, code: .unauthorized, message: message)
    }

    public static func revoked(_ message: String) -> APIError {
        APIError(.unauthorized, code: .revoked, message: message)
    }

    public static let tooLarge = bodyTooLarge(limit: WireProtocol.maxRequestBytes)

    /// 413 for a body over `limit` bytes.
    public static func bodyTooLarge(limit: Int) -> APIError {
        APIError(
            .contentTooLarge, code: .tooLarge,
            message: limit >= WireProtocol.maxRequestBytes
                ? "the request body is larger than \(limit) bytes; send smaller batches"
                : "the request body is larger than \(limit) bytes")
    }

    public var body: ErrorResponse { ErrorResponse(code: code, message: message, field: field, change: change) }

    /// Maps Hummingbird's own errors (unknown route, wrong method) to the protocol's codes.
    static func from(_ error: HTTPError) -> APIError {
        switch error.status {
        case .notFound: APIError(.notFound, code: .notFound, message: error.body ?? "no such endpoint")
        case .contentTooLarge: .tooLarge
        case .methodNotAllowed:
            APIError(.methodNotAllowed, code: .methodNotAllowed, message: error.body ?? "method not allowed")
        case .unsupportedMediaType:
            APIError(.unsupportedMediaType, code: .unsupportedMediaType, message: error.body ?? "send JSON")
        default:
            APIError(
                error.status, code: error.status.code < 500 ? .malformed : .internal,
                message: error.body ?? error.status.reasonPhrase)
        }
    }
}
