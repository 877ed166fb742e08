import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP server on a free loopback port that hands every accepted connection, with its number in
/// the order of acceptance (from 0), to `serve` on a thread of its own, and closes it when
/// `serve` returns.
///
/// The one socket server of the tests and the benchmarks: a misbehaving HTTP server, the fault
/// proxy, a server that never answers and the benchmark's plain byte server are each a `serve`
/// function on it. Threads, not Swift concurrency: a handler may block (that is often the
/// point), and blocking the cooperative pool would stall the code under test.
package final class LoopbackServer: @unchecked Sendable {
    package let port: UInt16
    package var url: String { "http://127.0.0.1:\(port)" }

    private let listener: Int32
    private let lock = NSLock()
    private var accepted = 0
    private var stopped = false

    /// How many connections were accepted so far.
    package var connectionsAccepted: Int { lock.withLock { accepted } }

    /// Listens on 127.0.0.1 at a port the system picks.
    package init(backlog: Int32 = 64, serve: @escaping @Sendable (LoopbackConnection, Int) -> Void) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = LoopbackConnection.address(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, backlog) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                let number = lock.withLock {
                    defer { accepted += 1 }
                    return accepted
                }
                Thread.detachNewThread {
                    let connection = LoopbackConnection(descriptor: client)
                    serve(connection, number)
                    connection.close()
                }
            }
        }
    }

    /// Stops accepting; connections being served run to the end of their `serve`.
    package func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    deinit { stop() }
}

/// One TCP connection on loopback: the few blocking operations the test servers need.
package struct LoopbackConnection: Sendable {
    package let descriptor: Int32

    package init(descriptor: Int32) { self.descriptor = descriptor }

    /// Connects to a loopback port; nil when nothing listens there.
    package static func connect(to port: UInt16) -> LoopbackConnection? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = address(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            return nil
        }
        return LoopbackConnection(descriptor: fd)
    }

    static func address(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return address
    }

    /// Reads what is there, up to `buffer.count` bytes; 0 at the end of the stream or on an error.
    package func read(into buffer: inout [UInt8], upTo count: Int? = nil) -> Int {
        let limit = min(count ?? buffer.count, buffer.count)
        let read = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, limit) }
        return max(0, read)
    }

    /// Reads until the end of an HTTP request or response head (`\r\n\r\n`) and returns every
    /// byte read, which may include the start of a body; nil if the peer closed first.
    package func readHead() -> (bytes: [UInt8], headLength: Int)? {
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var searchFrom = 0
        while true {
            let count = read(into: &buffer)
            guard count > 0 else { return nil }
            received += buffer[0..<count]
            if let end = received[max(0, searchFrom - 3)...].firstRange(of: [13, 10, 13, 10]) {
                return (received, end.upperBound)
            }
            searchFrom = received.count
        }
    }

    /// Writes all of `bytes`; false if the peer went away.
    @discardableResult
    package func write(_ bytes: some Collection<UInt8>) -> Bool {
        if let written = bytes.withContiguousStorageIfAvailable({ write(raw: UnsafeRawBufferPointer($0)) }) {
            return written
        }
        return Array(bytes).withUnsafeBytes { write(raw: $0) }
    }

    private func write(raw: UnsafeRawBufferPointer) -> Bool {
        var written = 0
        while written < raw.count {
            let result = send(descriptor, raw.baseAddress! + written, raw.count - written, Int32(MSG_NOSIGNAL))
            guard result > 0 else { return false }
            written += result
        }
        return true
    }

    @discardableResult
    package func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    /// Makes the coming close a reset (TCP RST) instead of an orderly end of stream.
    package func resetOnClose() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    package func close() { Glibc.close(descriptor) }
}
