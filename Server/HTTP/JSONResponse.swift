import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import KakehashiShared

/// Builds the server's responses: JSON bodies, gzip when the request accepts it, and the
/// `Kakehashi-Server-Time` header on every one.
enum JSONResponse {
    static let serverTimeField = HTTPField.Name(WireProtocol.serverTimeHeader)!
    static let minClientVersionField = HTTPField.Name(WireProtocol.minClientVersionHeader)!
    static let featuresField = HTTPField.Name(WireProtocol.featuresHeader)!
    /// The server's time for a request (`ServerMiddleware.serverTiming`).
    static let serverTimingField = HTTPField.Name("Server-Timing")!

    static func make(
        _ value: some Encodable, status: HTTPResponse.Status = .ok, request: Request, serverTime: Int64
    ) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return body(
            Data(try encoder.encode(value)), contentType: "application/json; charset=utf-8", status: status,
            request: request, serverTime: serverTime)
    }

    static func body(
        _ data: Data, contentType: String, status: HTTPResponse.Status, request: Request, serverTime: Int64
    ) -> Response {
        var buffer = ByteBuffer(bytes: data)
        var headers: HTTPFields = [.contentType: contentType, serverTimeField: String(serverTime)]
        if acceptsGzip(request), buffer.readableBytes > 0, let compressed = try? buffer.compress(with: .gzip()) {
            buffer = compressed
            headers[.contentEncoding] = "gzip"
            headers[.vary] = "Accept-Encoding"
        }
        headers[.contentLength] = String(buffer.readableBytes)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }

    /// Whether `Accept-Encoding` lists gzip (and does not refuse it with `q=0`).
    static func acceptsGzip(_ request: Request) -> Bool {
        lists("gzip", request.headers[values: .acceptEncoding])
    }

    /// Whether `Accept` lists the media type `type` (and does not refuse it with `q=0`): a binary
    /// page, a binary push's answer.
    static func accepts(_ type: String, _ request: Request) -> Bool {
        lists(type, request.headers[values: .accept])
    }

    /// Whether the comma-separated `values` of a header list `item` without `q=0`.
    private static func lists(_ item: String, _ values: [String]) -> Bool {
        values.flatMap { $0.split(separator: ",") }.contains { listed in
            let parts = listed.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            return parts.first == item && !parts.dropFirst().contains { $0 == "q=0" || $0 == "q=0.0" }
        }
    }
}
