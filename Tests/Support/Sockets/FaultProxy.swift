import Foundation
import KakehashiShared

#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on loopback between laptops and the server that injects network faults.
///
/// Each accepted connection draws, from a generator seeded by the proxy's seed and the
/// connection's number, whether it misbehaves, how, and at which of its requests (libcurl keeps connections alive, so a sync's later requests are hit
/// too). The server behind it can be replaced (`upstreamPort`) when it is restarted after a
/// `kill -9`, while the laptops keep the proxy's address.
package final class FaultProxy: @unchecked Sendable {
    package enum Fault: String, CaseIterable, Sendable {
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

    private var server: LoopbackServer!
    private let lock = NSLock()
    private let seed: UInt64
    private var upstreams: [UInt16]
    private var rate = 0.0
    private var injected: [Fault: Int] = [:]
    private var clientBytes = 0
    private var gzipBodies = 0
    private var binaryPushBodies = 0

    package var port: UInt16 { server.port }
    package var url: String { server.url }

    /// - Parameters:
    ///   - upstreamPort: the server's loopback port.
    ///   - seed: drives which connections fail, how and when.
    package init(upstreamPort: UInt16, seed: UInt64) throws {
        upstreams = [upstreamPort]
        self.seed = seed
        server = try LoopbackServer(backlog: 64) { [weak self] client, number in
            guard let self else { return }
            serve(client, plan: plan(connection: number))
        }
    }

    /// The server's port; set it again after restarting the server on a new port.
    package var upstreamPort: UInt16 {
        get { lock.withLock { upstreams[0] } }
        set { lock.withLock { upstreams = [newValue] } }
    }

    /// The ports of several servers sharing one store: each connection goes to one of them.
    package var upstreamPorts: [UInt16] {
        get { lock.withLock { upstreams } }
        set { lock.withLock { upstreams = newValue } }
    }

    /// The share of connections that misbehave, from 0 (a perfect network) to 1.
    package var faultRate: Double {
        get { lock.withLock { rate } }
        set { lock.withLock { rate = newValue } }
    }

    /// How many connections laptops opened through the proxy so far.
    package var connectionsAccepted: Int { server.connectionsAccepted }
    /// Bytes laptops sent through the proxy (request heads and bodies).
    package var bytesFromClients: Int { lock.withLock { clientBytes } }
    /// Requests whose head said `Content-Encoding: gzip`.
    package var gzipRequests: Int { lock.withLock { gzipBodies } }
    private static let gzipHeader = Array("\r\nContent-Encoding: gzip\r\n".utf8)
    /// Requests whose head said `Content-Type: application/vnd.kakehashi.push` (binary pushes).
    package var binaryPushRequests: Int { lock.withLock { binaryPushBodies } }
    private static let binaryPushHeader = Array("\r\nContent-Type: application/vnd.kakehashi.push\r\n".utf8)

    /// How many connections got each fault so far.
    package var faultsInjected: [Fault: Int] { lock.withLock { injected } }

    /// What one connection will do: its fault, the request it hits (0-based) and the delay.
    private func plan(connection: Int) -> (fault: Fault, request: Int, delay: UInt32, port: UInt16) {
        var random = SplitMix64(seed: seed ^ (UInt64(connection) &* 0x9E37_79B9_7F4A_7C15))
        return lock.withLock {
            let faulty = Double.random(in: 0..<1, using: &random) < rate
            let fault = faulty ? Fault.allCases.dropFirst().randomElement(using: &random) ?? .none : .none
            let request = Int.random(in: 0...2, using: &random)
            let delay = UInt32.random(in: 50_000...1_000_000, using: &random)
            if fault != .none { injected[fault, default: 0] += 1 }
            let upstream = upstreams.count == 1 ? upstreams[0] : upstreams.randomElement(using: &random) ?? upstreams[0]
            return (fault, request, delay, upstream)
        }
    }

    private func serve(_ client: LoopbackConnection, plan: (fault: Fault, request: Int, delay: UInt32, port: UInt16)) {
        guard let server = LoopbackConnection.connect(to: plan.port) else {
            client.resetOnClose()  // like a server that is down
            return
        }
        defer { server.close() }

        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var requests = -1
        var lastFromClient = false
        var armed = false
        var fds = [
            pollfd(fd: client.descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: server.descriptor, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            guard poll(&fds, 2, 30_000) > 0 else { return }
            if fds[0].revents != 0 {
                let count = client.read(into: &buffer)
                guard count > 0 else { return }
                if !lastFromClient {
                    requests += 1  // a burst from the laptop after an answer: a new request
                    armed = requests == plan.request
                }
                lastFromClient = true
                let gzip = buffer[0..<count].firstRange(of: Self.gzipHeader) != nil
                let binaryPush = buffer[0..<count].firstRange(of: Self.binaryPushHeader) != nil
                lock.withLock {
                    clientBytes += count
                    if gzip { gzipBodies += 1 }
                    if binaryPush { binaryPushBodies += 1 }
                }
                if armed {
                    switch plan.fault {
                    case .drop: return
                    case .reset:
                        client.resetOnClose()
                        return
                    case .delay: usleep(plan.delay)
                    case .none, .cutResponse, .loseResponse: break
                    }
                }
                guard server.write(buffer[0..<count]) else { return }
            }
            if fds[1].revents != 0 {
                let count = server.read(into: &buffer)
                guard count > 0 else { return }
                lastFromClient = false
                if armed {
                    switch plan.fault {
                    case .cutResponse:
                        client.write(buffer[0..<count / 2])
                        return
                    case .loseResponse:
                        client.resetOnClose()
                        return
                    case .none, .delay, .drop, .reset: break
                    }
                }
                guard client.write(buffer[0..<count]) else { return }
            }
        }
    }
}
