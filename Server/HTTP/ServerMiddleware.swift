import Foundation
import Hummingbird
import KakehashiShared
import Logging
import NIOCore
import NIOHTTP1

/// The outermost middleware: turns every error into a JSON `ErrorResponse`, stamps the server time
/// and the minimum client version on responses that lack them, counts requests, and logs each one (never its headers or body,
/// which carry tokens and enrollment codes).
struct ServerMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    let now: @Sendable () -> Int64
    /// Advertised on every response (`Kakehashi-Min-Client-Version`).
    let minClientVersion: AppVersion

    /// The method each endpoint answers (`SyncController.addRoutes`). The router answers 404 for a
    /// known path asked with another method; HTTP wants 405 with an `Allow` header there.
    static var methods: [String: String] {
        [
            "/v1/enroll": "POST", "/v1/push": "POST", "/v1/pull": "GET", "/v1/history": "GET", "/v1/health": "GET",
            "/metrics": "GET",
        ]
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        let started = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error where Self.isClosedConnection(error) {
            // Nobody is left to answer: not a server failure, so no 500 in the log or metrics.
            let elapsed = ContinuousClock.now - started
            metrics.recordRequest(path: request.uri.path, status: Self.clientClosedStatus, duration: elapsed)
            context.logger.info(
                "client closed the connection",
                metadata: [
                    "method": "\(request.method)", "path": "\(request.uri.path)", "ms": "\(Self.milliseconds(elapsed))",
                ])
            throw error
        } catch {
            let apiError: APIError
            switch error {
            case let error as APIError: apiError = error
            case let error as HTTPError where error.status == .notFound && Self.methods[request.uri.path] != nil:
                apiError = APIError(
                    .methodNotAllowed, code: .methodNotAllowed,
                    message: "\(request.uri.path) answers \(Self.methods[request.uri.path] ?? "")")
            case let error as HTTPError: apiError = .from(error)
            case is NIOTooManyBytesError: apiError = .tooLarge
            default:
                context.logger.error(
                    "request failed",
                    metadata: ["path": "\(request.uri.path)", "error": "\(String(reflecting: error))"])
                apiError = APIError(.internalServerError, code: .internal, message: "internal server error")
            }
            response = try JSONResponse.make(
                apiError.body, status: apiError.status, request: request, serverTime: now())
        }
        if response.status == .methodNotAllowed, let allowed = Self.methods[request.uri.path] {
            response.headers[.allow] = allowed
        }
        if response.headers[JSONResponse.serverTimeField] == nil {
            response.headers[JSONResponse.serverTimeField] = String(now())
        }
        response.headers[JSONResponse.minClientVersionField] = minClientVersion.description
        response.headers[JSONResponse.featuresField] = WireProtocol.features.joined(separator: ", ")
        if response.status == .upgradeRequired {
            // RFC 9110: a 426 names what to upgrade to.
            response.headers[.upgrade] = "kakehashi/\(minClientVersion)"
        }
        let elapsed = ContinuousClock.now - started
        // The server's share of the request's time, so a laptop can tell it from the network's
        // (SyncEngine sizes its pull pages by the latter).
        response.headers[JSONResponse.serverTimingField] = Self.serverTiming(elapsed)
        metrics.recordRequest(path: request.uri.path, status: response.status.code, duration: elapsed)
        context.logger.info(
            "request",
            metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                "ms": "\(Self.milliseconds(elapsed))",
            ])
        return response
    }

    /// The status counted in `kakehashi_http_requests_total` for a request whose client hung up
    /// before it was read (nginx's convention; never sent).
    static var clientClosedStatus: Int { 499 }

    /// Whether `error` says the connection went away while the request was being read: the client
    /// hung up mid-body (the HTTP decoder meets the end of the stream), reset the connection, or
    /// the connection was closed under the request (ConnectionGuard).
    static func isClosedConnection(_ error: any Error) -> Bool {
        switch error {
        case let error as HTTPParserError: error == .invalidEOFState
        case let error as ChannelError:
            [ChannelError.ioOnClosedChannel, .eof, .inputClosed, .outputClosed, .alreadyClosed].contains(error)
        case let error as IOError: [ECONNRESET, EPIPE].contains(error.errnoCode)
        default: false
        }
    }

    /// A `Server-Timing` value (W3C Server Timing) with the request's time in the server, in
    /// milliseconds to a tenth: `app;dur=12.3`.
    static func serverTiming(_ duration: Duration) -> String {
        let millis = Double(duration.components.seconds) * 1_000 + Double(duration.components.attoseconds) / 1e15
        return "app;dur=" + String(format: "%.1f", millis)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
