import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A deliberately bad (or old) HTTP server on a loopback socket, for testing how the libcurl
/// transport behaves when the network or the server misbehaves.
package final class FaultyHTTPServer: Sendable {
    package enum Behavior: Sendable {
        /// Promise a body, send part of it, close the connection.
        case cutMidResponse
        /// Send headers and a little of the body, then go silent for this many seconds.
        case stall(seconds: UInt32)
        /// Answer with this status and a JSON error body.
        case status(Int)
        /// Accept the connection, read what comes, never answer (a hung server).
        case silent
        /// Answer 200 with this body as this content type: an older server's JSON page, or a
        /// damaged binary one.
        case answer(contentType: String, body: [UInt8])
    }

    private let server: LoopbackServer

    package var port: UInt16 { server.port }
    package var url: String { server.url }
    /// Requests (or, for `.silent`, connections) received so far.
    package var requests: Int { server.connectionsAccepted }

    package init(_ behavior: Behavior) throws {
        server = try LoopbackServer(backlog: 16) { connection, _ in
            if case .silent = behavior {
                var buffer = [UInt8](repeating: 0, count: 4096)
                while connection.read(into: &buffer) > 0 {}  // held open until the client gives up
                return
            }
            guard connection.readHead() != nil else { return }
            Self.misbehave(behavior, on: connection)
        }
    }

    package func stop() { server.stop() }

    private static func misbehave(_ behavior: Behavior, on connection: LoopbackConnection) {
        switch behavior {
        case .cutMidResponse:
            connection.write(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"changes\":[")
        case .stall(let seconds):
            connection.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{")
            sleep(seconds)
        case .status(let code):
            let body = "{\"error\":{\"code\":\"internal\",\"message\":\"データベースに接続できません\"}}"
            connection.write(
                "HTTP/1.1 \(code) Error\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            )
        case .answer(let contentType, let body):
            connection.write(
                "HTTP/1.1 200 OK\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
                    .utf8 + body)
        case .silent:
            break
        }
    }
}
