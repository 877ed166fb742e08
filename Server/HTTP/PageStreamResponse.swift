import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import KakehashiShared
import NIOCore

/// A page stream (`PageStream`, feature `page-streams`): up to `pages` consecutive pull pages in
/// one response body, for a client whose `Accept` lists `PageStream.mediaType`.
///
/// Each page is asked of the store exactly as a request of its own would ask it
/// (`SyncController.makePage`): its own transaction, which reads the device's token first
/// (`SessionPullOperation`), so a revocation, a deactivation or a program change committed while
/// the stream runs decides the very next page, as it would decide the next request. Page k + 1 is
/// asked with page k's cursor and the stream's stored cursor as its `ack` (the request's `ack`,
/// or its `after`): the laptop may crash before storing any page of the stream, and a retry from
/// what it had stored must get every purge and back-fill again, as with pages asked ahead.
///
/// The first page is made before the answer's head: a refusal of it (401, 409, 429, …) is the
/// usual error response. A later page that fails ends the stream with an error frame carrying
/// what that page would have been answered with alone; nothing after it is made. Pages are made
/// one at a time, each after the one before was handed to the connection (whose writes wait
/// while the client does not read: a laptop that applies slowly holds the server back instead of
/// the server buffering pages), up to `pages`, or the page that brings the stream past
/// `WireProtocol.streamByteBudget`, or the page that has nothing more.
///
/// The body is gzip-compressed when the request accepts gzip, as one stream flushed after each
/// frame, so every page reaches the laptop as soon as it is written.
struct PageStreamResponse<Context: RequestContext>: Sendable {
    let controller: SyncController<Context>
    let tokenHash: String
    let query: SyncController<Context>.PullQuery
    let pages: Int

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        let first = try await controller.makePage(
            tokenHash: tokenHash, query: query, cursor: query.cursor, acknowledged: query.acknowledged, json: false)
        let time = controller.now()
        let firstFrame = try frame(
            first, asked: query.cursor, made: ContinuousClock.now - started, serverTime: time, request: request)
        var headers: HTTPFields = [
            .contentType: PageStream.mediaType, JSONResponse.serverTimeField: String(time),
            .vary: "Accept, Accept-Encoding", .cacheControl: "no-store",
        ]
        let gzip = JSONResponse.acceptsGzip(request)
        if gzip { headers[.contentEncoding] = "gzip" }
        let stored = query.acknowledged ?? query.cursor
        let body = ResponseBody { [self] writer in
            var output = try FrameOutput(gzip: gzip)
            try await writer.write(try output.encode(PageStream.header + firstFrame))
            var last = first.page
            var count = 1
            var written = firstFrame.count
            while last.hasMore, count < pages, written < WireProtocol.streamByteBudget {
                let started = ContinuousClock.now
                let bytes: [UInt8]
                do {
                    let answer = try await controller.makePage(
                        tokenHash: tokenHash, query: query, cursor: last.nextCursor, acknowledged: stored,
                        json: false)
                    bytes = try frame(
                        answer, asked: last.nextCursor, made: ContinuousClock.now - started,
                        serverTime: controller.now(), request: request)
                    last = answer.page
                } catch {
                    guard let refusal = Self.refusal(error, context: context) else { throw error }
                    try await writer.write(try output.encode(refusal, finishing: true))
                    try await writer.finish(nil)
                    return
                }
                try await writer.write(try output.encode(bytes))
                count += 1
                written += bytes.count
            }
            try await writer.write(try output.encode(PageStream.endFrame, finishing: true))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// A page's frame, the page counted as handed out; `asked` is the cursor it was asked with.
    private func frame(
        _ answer: SessionPullPage, asked: PullCursor, made: Duration, serverTime: Int64, request: Request
    ) throws -> [UInt8] {
        controller.noteServed(answer.page, session: answer.session, request: request, at: serverTime)
        controller.metrics.recordPage(PageResponse.Form.binary.rawValue)
        let bytes = try PageResponse.binaryPull(
            answer.page, epoch: answer.epoch, states: asked.bootstraps(askingStates: query.states),
            serverTime: serverTime)
        let micros = made.components.seconds * 1_000_000 + made.components.attoseconds / 1_000_000_000_000
        return PageStream.pageFrame(bytes, serverMicroseconds: UInt64(max(0, micros)))
    }

    /// The error frame for a page that failed as a request of its own would have: its status and
    /// `ErrorResponse`. Nil when nobody is left to answer (the client went away).
    static func refusal(_ error: any Error, context: Context) -> [UInt8]? {
        let apiError: APIError
        switch error {
        case let error as APIError: apiError = error
        case _ where ServerMiddleware<Context>.isClosedConnection(error) || error is CancellationError: return nil
        default:
            context.logger.error(
                "page stream failed", metadata: ["error": "\(String(reflecting: error))"])
            apiError = APIError(.internalServerError, code: .internal, message: "internal server error")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(apiError.body)).map { [UInt8]($0) } ?? []
        return PageStream.errorFrame(status: apiError.status.code, body: body)
    }
}

/// The stream's bytes as they go out: plain, or one gzip stream flushed after every frame.
private struct FrameOutput {
    let compressor: (any NIOCompressor)?

    init(gzip: Bool) throws {
        guard gzip else {
            compressor = nil
            return
        }
        let compressor = CompressionAlgorithm.gzip().compressor
        try compressor.startStream()
        self.compressor = compressor
    }

    /// `bytes` ready to write; `finishing` ends the gzip stream.
    mutating func encode(_ bytes: [UInt8], finishing: Bool = false) throws -> ByteBuffer {
        var buffer = ByteBuffer(bytes: bytes)
        guard let compressor else { return buffer }
        let out = try buffer.compressStream(with: compressor, flush: finishing ? .finish : .sync)
        if finishing { try compressor.finishStream() }
        return out
    }
}
