import CCurl
import Foundation
import KakehashiTestSupport

/// The limit for end-to-end sync: the same bytes in the same number of requests over loopback,
/// between libcurl (a fresh handle per request, as the client's transport does) and a server that
/// does nothing but read the request and answer `n` prepared bytes.
final class PlainHTTP: Sendable {
    private static let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 16 * 1024 * 1024)
    private let server: LoopbackServer

    var port: UInt16 { server.port }

    init() throws {
        server = try LoopbackServer(backlog: 64) { connection, _ in Self.answer(connection) }
    }

    /// Reads one request (headers and `Content-Length` body) and answers the size its path asks for.
    private static func answer(_ connection: LoopbackConnection) {
        guard let (received, headLength) = connection.readHead() else { return }
        let head = String(decoding: received[0..<headLength], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let size = lines.first?.split(separator: " ").dropFirst().first?.split(separator: "/").last.flatMap { Int($0) }
        let bodyLength =
            lines.first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        var remaining = bodyLength - (received.count - headLength)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while remaining > 0 {
            let count = connection.read(into: &buffer, upTo: remaining)
            guard count > 0 else { return }
            remaining -= count
        }
        let length = min(size ?? 0, payload.count)
        guard
            connection.write(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(length)\r\nConnection: close\r\n\r\n"
            )
        else { return }
        connection.write(payload[0..<length])
    }

    /// Moves `upload` bytes in `uploads` POSTs and `download` bytes in `downloads` GETs; returns seconds.
    func move(upload: Int, uploads: Int, download: Int, downloads: Int) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        let body = Data(repeating: UInt8(ascii: "y"), count: upload / max(1, uploads))
        for _ in 0..<uploads { exchange(post: body, answer: 200) }
        for _ in 0..<downloads { exchange(post: nil, answer: download / max(1, downloads)) }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    private static let discard: kh_curl_write_callback = { _, size, count, _ in size * count }

    private func exchange(post body: Data?, answer size: Int) {
        guard let handle = curl_easy_init() else { return }
        defer { curl_easy_cleanup(handle) }
        _ = kh_curl_setopt_string(handle, CURLOPT_URL, "http://127.0.0.1:\(port)/bytes/\(size)")
        _ = kh_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = kh_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, Self.discard)
        if let body {
            _ = kh_curl_setopt_long(handle, CURLOPT_POST, 1)
            _ = kh_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            body.withUnsafeBytes { raw in
                _ = kh_curl_setopt_pointer(
                    handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
            }
        }
        _ = curl_easy_perform(handle)
    }
}
