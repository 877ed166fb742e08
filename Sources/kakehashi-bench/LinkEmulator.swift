import Foundation
import KakehashiShared
import KakehashiTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A slow, lossy link between a laptop and the server, emulated in user space: a TCP proxy on
/// loopback (`tc netem` needs the `sch_netem` kernel module, which this machine lacks).
///
/// Each direction of each connection is a link of its own (full duplex) that does to the byte
/// stream what the link would do to the stream's TCP segments:
/// - **Segments.** The bytes each read of the sender returns are cut into segments of at most
///   `segmentBytes` (1,448: an Ethernet MTU less the IP and TCP headers with timestamps).
/// - **Bandwidth.** Segments leave one after another through a serialization queue, each taking
///   its size at `bitsPerSecond`: a burst larger than the link queues behind itself.
/// - **Delay.** A segment arrives `oneWayDelay` after it has left (50 ms: a 100 ms round trip).
/// - **Loss.** A segment is lost with probability `loss`, drawn by a generator seeded by the
///   proxy's seed and the connection's number; it arrives one retransmission timeout later —
///   Linux's minimum (200 ms) plus the round trip — and, as TCP delivers in order, the bytes
///   behind it wait for it.
/// - **Connection set-up.** The first byte from the laptop leaves one round trip after the
///   connection was accepted: the SYN and SYN-ACK a real connection exchanges first.
///
/// Not emulated, so a real TCP over such a link is slower than this, not faster: congestion
/// control (slow start at the beginning of a connection, the congestion window halved after a
/// loss or reset to one segment after a timeout; by Mathis et al.'s formula, Reno at 1 % loss and
/// 100 ms sustains about 1.4 Mbit/s, not 10), fast retransmit (which would recover a loss in
/// about one round trip rather than a timeout), the retransmission's own time on the link, the
/// IP and TCP headers and acknowledgements (only payload bytes are paced and counted), jitter,
/// and flow control: the proxy takes all the sender writes at once, so the server never waits on
/// a full socket buffer while its answer crawls over the link.
final class LinkEmulator: @unchecked Sendable {
    struct Link: Sendable {
        var oneWayDelay = 0.050
        var bitsPerSecond = 10_000_000.0
        var loss = 0.01
        var segmentBytes = 1_448
        /// Linux's minimum retransmission timeout (`TCP_RTO_MIN`, 200 ms) plus the round trip.
        var retransmissionTimeout: Double { 0.200 + 2 * oneWayDelay }
        /// The seconds `bytes` take at the link's bandwidth.
        func seconds(_ bytes: Int) -> Double { Double(bytes) * 8 / bitsPerSecond }
    }

    /// Bytes, segments and lost segments moved so far, in one direction or both.
    struct Traffic: Sendable {
        var toServer = 0
        var toLaptop = 0
        var segments = 0
        var lost = 0
        var bytes: Int { toServer + toLaptop }
    }

    let link: Link
    private let seed: UInt64
    private let upstreamPort: UInt16
    private var server: LoopbackServer!
    private let lock = NSLock()
    private var traffic = Traffic()
    private var open: Set<Int32> = []

    var port: UInt16 { server.port }
    /// How many connections laptops opened through the link so far.
    var connections: Int { server.connectionsAccepted }

    /// - Parameters:
    ///   - upstreamPort: the server's loopback port.
    ///   - seed: drives which segments are lost.
    init(upstreamPort: UInt16, link: Link = Link(), seed: UInt64) throws {
        self.link = link
        self.seed = seed
        self.upstreamPort = upstreamPort
        server = try LoopbackServer(backlog: 64) { [weak self] laptop, number in
            self?.serve(laptop, connection: number)
        }
    }

    /// What the proxy has carried so far.
    var carried: Traffic { lock.withLock { traffic } }

    /// Stops accepting and ends every connection still open.
    func stop() {
        server.stop()
        lock.withLock {
            for descriptor in open { shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }

    private func serve(_ laptop: LoopbackConnection, connection number: Int) {
        guard let upstream = LoopbackConnection.connect(to: upstreamPort) else {
            laptop.resetOnClose()
            return
        }
        lock.withLock { open.formUnion([laptop.descriptor, upstream.descriptor]) }
        defer {
            lock.withLock { open.subtract([laptop.descriptor, upstream.descriptor]) }
            upstream.close()
        }
        let accepted = DispatchTime.now().uptimeNanoseconds
        let connectionSeed = seed ^ (UInt64(number) &* 0x9E37_79B9_7F4A_7C15)
        let toServer = Direction(
            link: link, from: laptop, to: upstream, opensAt: accepted + nanoseconds(2 * link.oneWayDelay),
            seed: connectionSeed
        ) { [weak self] bytes, segments, lost in
            self?.count(toServer: bytes, toLaptop: 0, segments: segments, lost: lost)
        }
        let toLaptop = Direction(
            link: link, from: upstream, to: laptop, opensAt: accepted, seed: connectionSeed ^ 0xD1B5_4A32_D192_ED03
        ) { [weak self] bytes, segments, lost in
            self?.count(toServer: 0, toLaptop: bytes, segments: segments, lost: lost)
        }
        let done = DispatchGroup()
        let threads: [@Sendable () -> Void] = [
            { toServer.receive() }, { toServer.deliver() }, { toLaptop.receive() }, { toLaptop.deliver() },
        ]
        for work in threads {
            done.enter()
            Thread.detachNewThread {
                work()
                done.leave()
            }
        }
        done.wait()
    }

    private func count(toServer: Int, toLaptop: Int, segments: Int, lost: Int) {
        lock.withLock {
            traffic.toServer += toServer
            traffic.toLaptop += toLaptop
            traffic.segments += segments
            traffic.lost += lost
        }
    }
}

private func nanoseconds(_ seconds: Double) -> UInt64 { UInt64(seconds * 1e9) }

/// One direction of one connection: `receive` reads what the sender writes and schedules each
/// segment's arrival; `deliver` writes the segments to the receiver when they arrive.
private final class Direction: @unchecked Sendable {
    private let link: LinkEmulator.Link
    private let source: LoopbackConnection
    private let destination: LoopbackConnection
    private let counted: @Sendable (_ bytes: Int, _ segments: Int, _ lost: Int) -> Void
    private let condition = NSCondition()
    /// Segments not yet delivered, with their arrival times (uptime nanoseconds), in order.
    private var inFlight: [(arrives: UInt64, bytes: [UInt8])] = []
    private var ended = false
    /// When the link has finished sending everything queued so far.
    private var linkFree: UInt64
    /// The arrival of the last segment queued: no segment arrives before the one sent before it.
    private var lastArrival: UInt64 = 0
    private var random: SplitMix64

    init(
        link: LinkEmulator.Link, from source: LoopbackConnection, to destination: LoopbackConnection,
        opensAt: UInt64, seed: UInt64, counted: @escaping @Sendable (Int, Int, Int) -> Void
    ) {
        self.link = link
        self.source = source
        self.destination = destination
        self.counted = counted
        linkFree = opensAt
        random = SplitMix64(seed: seed)
    }

    /// Reads until the sender ends the stream (or the connection breaks).
    func receive() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = source.read(into: &buffer)
            guard count > 0 else { break }
            let now = DispatchTime.now().uptimeNanoseconds
            var lost = 0
            var segments = 0
            condition.lock()
            for start in stride(from: 0, to: count, by: link.segmentBytes) {
                let segment = buffer[start..<min(count, start + link.segmentBytes)]
                linkFree = max(now, linkFree) + nanoseconds(link.seconds(segment.count))
                var arrives = linkFree + nanoseconds(link.oneWayDelay)
                if Double.random(in: 0..<1, using: &random) < link.loss {
                    arrives += nanoseconds(link.retransmissionTimeout)
                    lost += 1
                }
                lastArrival = max(lastArrival, arrives)
                inFlight.append((lastArrival, Array(segment)))
                segments += 1
            }
            condition.signal()
            condition.unlock()
            counted(count, segments, lost)
        }
        condition.lock()
        ended = true
        condition.signal()
        condition.unlock()
    }

    /// Writes each segment when it arrives; once the sender has ended and everything has
    /// arrived, ends the stream towards the receiver too.
    func deliver() {
        var next = 0
        while true {
            condition.lock()
            while next == inFlight.count && !ended { condition.wait() }
            guard next < inFlight.count else {
                condition.unlock()
                break
            }
            let due = inFlight[next].arrives
            condition.unlock()
            let now = DispatchTime.now().uptimeNanoseconds
            if due > now { usleep(useconds_t((due - now) / 1_000)) }
            // Everything that has arrived by now, in one write.
            condition.lock()
            let arrived = DispatchTime.now().uptimeNanoseconds
            var bytes: [UInt8] = []
            while next < inFlight.count, inFlight[next].arrives <= arrived {
                bytes += inFlight[next].bytes
                next += 1
            }
            if next > 4_096 {
                inFlight.removeFirst(next)
                next = 0
            }
            condition.unlock()
            guard destination.write(bytes) else {
                // The receiver is gone: stop reading from the sender too.
                shutdown(source.descriptor, Int32(SHUT_RDWR))
                return
            }
        }
        shutdown(destination.descriptor, Int32(SHUT_WR))
    }
}
