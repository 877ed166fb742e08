import CCurl
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The limit for end-to-end sync: the same bytes in the same number of requests over loopback,
/// between libcurl (a fresh handle per request, as the client's transport does) and a server that
/// does nothing but read the request and answer `n` prepared bytes.
final class PlainHTTP: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 16 * 1024 * 1024)

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                Thread.detachNewThread { [self] in answer(client) }
            }
        }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Reads one request (headers and `Content-Length` body) and answers the size its path asks for.
    private func answer(_ client: Int32) {
        defer { close(client) }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var headerEnd: Int?
        while headerEnd == nil {
            let count = read(client, &buffer, buffer.count)
            guard count > 0 else { return }
            received += buffer[0..<count]
            headerEnd = received.indices.dropLast(3).first {
                received[$0] == 13 && received[$0 + 1] == 10 && received[$0 + 2] == 13 && received[$0 + 3] == 10
            }
        }
        let head = String(decoding: received[0..<headerEnd!], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let size = lines.first?.split(separator: " ").dropFirst().first?.split(separator: "/").last.flatMap { Int($0) }
        let bodyLength =
            lines.first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        var remaining = bodyLength - (received.count - headerEnd! - 4)
        while remaining > 0 {
            let count = read(client, &buffer, min(buffer.count, remaining))
            guard count > 0 else { return }
            remaining -= count
        }
        let length = min(size ?? 0, payload.count)
        let header = Array(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(length)\r\nConnection: close\r\n\r\n"
                .utf8)
        _ = header.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var sent = 0
        while sent < length {
            let count = payload.withUnsafeBytes {
                send(client, $0.baseAddress! + sent, length - sent, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { return }
            sent += count
        }
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
