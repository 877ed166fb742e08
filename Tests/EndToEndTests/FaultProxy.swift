import Foundation
import KakehashiShared

#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on loopback between laptops and the server that injects network faults.
///
/// Each accepted connection draws, from a seeded generator, whether it misbehaves, how, and at
/// which of its requests (libcurl keeps connections alive, so a sync's later requests are hit
/// too). The server behind it can be replaced (`upstreamPort`) when it is restarted after a
/// `kill -9`, while the laptops keep the proxy's address.
final class FaultProxy: @unchecked Sendable {
    enum Fault: String, CaseIterable, Sendable {
        /// Forward everything.
        case none
        /// Hold the request for up to a second before forwarding it.
        case delay
        /// Close the connection instead of forwarding the request.
        case drop
        /// Reset the connection (TCP RST) instead of forwarding the request.
        case reset
        /// Forward the request, then only half of the first bytes of the answer, then close.
        case cutResponse
        /// Forward the request, let the server answer it, and close without passing the answer on:
        /// the server did the work, the laptop never hears of it.
        case loseResponse
    }

    let port: UInt16
    var url: String { "http://127.0.0.1:\(port)" }

    private let listener: Int32
    private let lock = NSLock()
    private var random: SplitMix64
    private var upstreams: [UInt16]
    private var rate = 0.0
    private var injected: [Fault: Int] = [:]
    private var connections = 0
    private var clientBytes = 0
    private var gzipBodies = 0

    /// - Parameters:
    ///   - upstreamPort: the server's loopback port.
    ///   - seed: drives which connections fail, how and when.
    init(upstreamPort: UInt16, seed: UInt64) throws {
        upstreams = [upstreamPort]
        random = SplitMix64(seed: seed)
        (listener, port) = try Self.listen(backlog: 64)
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// The server's port; set it again after restarting the server on a new port.
    var upstreamPort: UInt16 {
        get { lock.withLock { upstreams[0] } }
        set { lock.withLock { upstreams = [newValue] } }
    }

    /// The ports of several servers sharing one store: each connection goes to one of them.
    var upstreamPorts: [UInt16] {
        get { lock.withLock { upstreams } }
        set { lock.withLock { upstreams = newValue } }
    }

    /// The share of connections that misbehave, from 0 (a perfect network) to 1.
    var faultRate: Double {
        get { lock.withLock { rate } }
        set { lock.withLock { rate = newValue } }
    }

    /// How many connections laptops opened through the proxy so far.
    var connectionsAccepted: Int { lock.withLock { connections } }
    /// Bytes laptops sent through the proxy (request heads and bodies).
    var bytesFromClients: Int { lock.withLock { clientBytes } }
    /// Requests whose head said `Content-Encoding: gzip`.
    var gzipRequests: Int { lock.withLock { gzipBodies } }
    private static let gzipHeader = Array("\r\nContent-Encoding: gzip\r\n".utf8)

    /// How many connections got each fault so far.
    var faultsInjected: [Fault: Int] { lock.withLock { injected } }

    /// A listening TCP socket on a free loopback port, and the port.
    static func listen(backlog: Int32) throws -> (socket: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(fd, backlog) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return address
    }

    /// What one connection will do: its fault, the request it hits (0-based) and the delay.
    private func plan() -> (fault: Fault, request: Int, delay: UInt32, port: UInt16) {
        lock.withLock {
            let faulty = Double.random(in: 0..<1, using: &random) < rate
            let fault = faulty ? Fault.allCases.dropFirst().randomElement(using: &random) ?? .none : .none
            let request = Int.random(in: 0...2, using: &random)
            let delay = UInt32.random(in: 50_000...1_000_000, using: &random)
            if fault != .none { injected[fault, default: 0] += 1 }
            let upstream = upstreams.count == 1 ? upstreams[0] : upstreams.randomElement(using: &random) ?? upstreams[0]
            return (fault, request, delay, upstream)
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            lock.withLock { connections += 1 }
            let plan = plan()
            Thread.detachNewThread { [self] in
                serve(client, plan: plan)
            }
        }
    }

    private func serve(_ client: Int32, plan: (fault: Fault, request: Int, delay: UInt32, port: UInt16)) {
        var resetOnClose = false
        defer {
            if resetOnClose {
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            }
            close(client)
        }
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(server) }
        var address = Self.loopback(port: plan.port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            resetOnClose = true  // like a server that is down
            return
        }

        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var requests = -1
        var lastFromClient = false
        var armed = false
        var fds = [
            pollfd(fd: client, events: Int16(POLLIN), revents: 0),
            pollfd(fd: server, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            guard poll(&fds, 2, 30_000) > 0 else { return }
            if fds[0].revents != 0 {
                let count = read(client, &buffer, buffer.count)
                guard count > 0 else { return }
                if !lastFromClient {
                    requests += 1  // a burst from the laptop after an answer: a new request
                    armed = requests == plan.request
                }
                lastFromClient = true
                let gzip = buffer[0..<count].firstRange(of: Self.gzipHeader) != nil
                lock.withLock {
                    clientBytes += count
                    if gzip { gzipBodies += 1 }
                }
                if armed {
                    switch plan.fault {
                    case .drop: return
                    case .reset:
                        resetOnClose = true
                        return
                    case .delay: usleep(plan.delay)
                    case .none, .cutResponse, .loseResponse: break
                    }
                }
                guard write(all: buffer, count: count, to: server) else { return }
            }
            if fds[1].revents != 0 {
                let count = read(server, &buffer, buffer.count)
                guard count > 0 else { return }
                lastFromClient = false
                if armed {
                    switch plan.fault {
                    case .cutResponse:
                        _ = write(all: buffer, count: count / 2, to: client)
                        return
                    case .loseResponse:
                        resetOnClose = true
                        return
                    case .none, .delay, .drop, .reset: break
                    }
                }
                guard write(all: buffer, count: count, to: client) else { return }
            }
        }
    }

    private func write(all buffer: [UInt8], count: Int, to fd: Int32) -> Bool {
        var written = 0
        while written < count {
            let result = buffer.withUnsafeBytes {
                send(fd, $0.baseAddress! + written, count - written, Int32(MSG_NOSIGNAL))
            }
            guard result > 0 else { return false }
            written += result
        }
        return true
    }
}
