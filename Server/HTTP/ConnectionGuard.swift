import HTTPTypes
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How long a client may take over each part of a request, and how many connections the server
/// holds open, so that clients that send slowly (slow-loris, slow body) cannot exhaust it.
///
/// - The first request on a connection must have complete headers within `headerTimeout` of the
///   connection opening (TLS handshake included).
/// - A kept-alive connection must complete the next request's headers within `idleTimeout` of the
///   previous answer, and a request body may not stall for `idleTimeout` (Hummingbird's
///   `HTTP1Channel` idle timeout, which counts from the last request part read or answer written).
/// - A request body must arrive at `minBodyBytesPerSecond` on average after a grace of
///   `bodyTimeout`: after `bodyTimeout + n / minBodyBytesPerSecond` seconds at least `n` bytes must
///   have arrived. Time during which the server itself is not reading does not count.
/// - At most `maxConnections` connections are open. At the limit a new connection closes the one
///   that lags furthest behind: waiting longest for a request's headers, or with a body furthest
///   behind the minimum rate (counted without its grace). Requests being answered are never
///   closed; when every connection is answering one, the new connection is closed at once.
/// - Unauthenticated requests (enrollment) carry at most `maxUnauthenticatedBodyBytes`; a larger
///   `Content-Length` is refused before any of the body is read.
/// - A request answered before its body was read (401, 413, 404, ...) gets `Connection: close`;
///   the rest of its body is discarded, not buffered, for at most `lingerTimeout`, and the
///   connection is closed.
public struct HTTPLimits: Sendable, Equatable {
    public var headerTimeout: TimeAmount
    public var idleTimeout: TimeAmount
    public var bodyTimeout: TimeAmount
    public var minBodyBytesPerSecond: Int
    public var maxConnections: Int
    public var maxUnauthenticatedBodyBytes: Int
    public var lingerTimeout: TimeAmount

    public init(
        headerTimeout: TimeAmount = .seconds(10), idleTimeout: TimeAmount = .seconds(30),
        bodyTimeout: TimeAmount = .seconds(20), minBodyBytesPerSecond: Int = 500, maxConnections: Int = 1000,
        maxUnauthenticatedBodyBytes: Int = 4096, lingerTimeout: TimeAmount = .seconds(2)
    ) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.bodyTimeout = bodyTimeout
        self.minBodyBytesPerSecond = minBodyBytesPerSecond
        self.maxConnections = maxConnections
        self.maxUnauthenticatedBodyBytes = maxUnauthenticatedBodyBytes
        self.lingerTimeout = lingerTimeout
    }

    /// The deadline of a request body that started at `since` and has delivered `bytes`.
    func bodyDeadline(since: NIODeadline, bytes: Int, paused: TimeAmount = .zero) -> NIODeadline {
        let earned = TimeAmount.nanoseconds(Int64(Double(bytes) / Double(max(minBodyBytesPerSecond, 1)) * 1e9))
        return since + bodyTimeout + paused + earned
    }
}

/// The open connections of one server and what each is doing, so that at the connection limit the
/// slowest client makes room rather than the newest.
final class ConnectionRegistry: Sendable {
    enum Phase: Sendable {
        /// No request is being read: a new connection, an idle kept-alive one, or headers arriving.
        case waiting(since: NIODeadline)
        /// A request body is arriving; `deadline` is when it falls behind the minimum rate.
        case receiving(deadline: NIODeadline)
        /// The request is read and the server is answering it: never closed to make room.
        case busy
    }

    private struct Entry {
        let channel: any Channel
        var phase: Phase
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var lastID: UInt64 = 0
    }

    let limit: Int
    /// The grace a body has before it must keep the minimum rate (`HTTPLimits.bodyTimeout`).
    let bodyGrace: TimeAmount
    private let state = NIOLockedValueBox(State())

    init(limit: Int, bodyGrace: TimeAmount = .zero) {
        self.limit = limit
        self.bodyGrace = bodyGrace
    }

    var count: Int { state.withLockedValue { $0.entries.count } }

    enum Admission {
        case admitted(UInt64, evicted: (any Channel)?)
        case refused
    }

    /// Registers a new connection, making room at the limit (see `HTTPLimits`).
    func open(_ channel: any Channel, now: NIODeadline) -> Admission {
        state.withLockedValue { state in
            var evicted: (any Channel)?
            if state.entries.count >= limit {
                guard let victim = Self.victim(in: state.entries, now: now, bodyGrace: bodyGrace) else {
                    return .refused
                }
                evicted = state.entries.removeValue(forKey: victim)?.channel
            }
            state.lastID += 1
            state.entries[state.lastID] = Entry(channel: channel, phase: .waiting(since: now))
            return .admitted(state.lastID, evicted: evicted)
        }
    }

    func update(_ id: UInt64, _ phase: Phase) {
        state.withLockedValue { state in state.entries[id]?.phase = phase }
    }

    func close(_ id: UInt64) {
        _ = state.withLockedValue { state in state.entries.removeValue(forKey: id) }
    }

    /// The connection that lags furthest behind: a connection waiting for headers lags by how long
    /// it has waited, a body by how far it is behind the minimum rate counted without its grace.
    /// A client that just connected (a health check, a laptop) lags by almost nothing, so the
    /// attackers that hold connections open are closed first.
    private static func victim(in entries: [UInt64: Entry], now: NIODeadline, bodyGrace: TimeAmount) -> UInt64? {
        victim(among: entries.map { ($0.key, $0.value.phase) }, now: now, bodyGrace: bodyGrace)
    }

    static func victim(
        among phases: [(id: UInt64, phase: Phase)], now: NIODeadline, bodyGrace: TimeAmount
    )
        -> UInt64?
    {
        var slowest: (id: UInt64, lag: TimeAmount)?
        for (id, phase) in phases {
            let lag: TimeAmount
            switch phase {
            case .waiting(let since): lag = now - since
            case .receiving(let deadline): lag = now - deadline + bodyGrace
            case .busy: continue
            }
            if slowest.map({ lag > $0.lag }) ?? true { slowest = (id, lag) }
        }
        return slowest?.id
    }
}

/// Enforces `HTTPLimits` on one connection. It sits right after the HTTP/1 decoder (Hummingbird's
/// `additionalChannelHandlers`), sees every request part and response part, and closes the
/// connection when a client is too slow.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The request body being read.
    private struct Body {
        let since: NIODeadline
        var bytes = 0
        /// Since when the server has stopped asking for more bytes (back pressure), if it has.
        var pausedSince: NIODeadline?
        var paused = TimeAmount.zero

        func paused(at now: NIODeadline) -> TimeAmount { paused + (pausedSince.map { now - $0 } ?? .zero) }
    }

    private let limits: HTTPLimits
    private let registry: ConnectionRegistry
    private let metrics: ServerMetrics
    private let logger: Logger

    private var id: UInt64?
    private var activated = false
    private var awaitingFirstHead = true
    private var body: Body?
    /// Requests whose head was read and whose response has not ended.
    private var requestsInProgress = 0
    /// Answered before its body was read: the rest of the input is discarded until the close.
    private var lingering = false
    private var timer: Scheduled<Void>?

    init(limits: HTTPLimits, registry: ConnectionRegistry, metrics: ServerMetrics, logger: Logger) {
        self.limits = limits
        self.registry = registry
        self.metrics = metrics
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { activate(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        activate(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    private func activate(_ context: ChannelHandlerContext) {
        guard !activated else { return }
        activated = true
        let now = NIODeadline.now()
        switch registry.open(context.channel, now: now) {
        case .refused:
            metrics.recordConnectionClosed(reason: "limit")
            logger.debug("connection refused: at the connection limit")
            context.close(promise: nil)
        case .admitted(let id, let evicted):
            self.id = id
            if let evicted {
                metrics.recordConnectionClosed(reason: "evicted")
                evicted.close(promise: nil)
            }
            schedule(context, at: now + limits.headerTimeout)
        }
    }

    private func finish() {
        timer?.cancel()
        timer = nil
        if let id { registry.close(id) }
        id = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if lingering { return }
        let now = NIODeadline.now()
        switch unwrapInboundIn(data) {
        case .head:
            awaitingFirstHead = false
            requestsInProgress += 1
            body = Body(since: now)
            update(.receiving(deadline: limits.bodyDeadline(since: now, bytes: 0)))
            schedule(context, at: limits.bodyDeadline(since: now, bytes: 0))
        case .body(let buffer):
            body?.bytes += buffer.readableBytes
            if let body { update(.receiving(deadline: limits.bodyDeadline(since: body.since, bytes: body.bytes))) }
        case .end:
            body = nil
            cancelTimer()
            update(.busy)
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // With auto-read, `read` follows at once; if it does not, the server is not consuming.
        if body != nil, body?.pausedSince == nil { body?.pausedSince = .now() }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if var current = body, let since = current.pausedSince {
            current.paused = current.paused + (.now() - since)
            current.pausedSince = nil
            body = current
        }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var response) where body != nil && requestsInProgress == 1:
            // The answer comes before the request's body was read: the connection cannot carry
            // another request, and the client should stop sending.
            response.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(response)), promise: promise)
        case .end:
            requestsInProgress -= 1
            if requestsInProgress == 0, body != nil {
                context.writeAndFlush(data, promise: promise)
                linger(context)
            } else {
                if requestsInProgress == 0 { update(.waiting(since: .now())) }
                context.write(data, promise: promise)
            }
        default:
            context.write(data, promise: promise)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if lingering, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Ends the output after an early answer and discards what still arrives, for a short while,
    /// so the client reads the answer instead of a reset.
    private func linger(_ context: ChannelHandlerContext) {
        lingering = true
        body = nil
        update(.waiting(since: .now()))
        let closed = context.eventLoop.makePromise(of: Void.self)
        closed.futureResult.assumeIsolated().whenFailure { _ in context.close(promise: nil) }
        context.close(mode: .output, promise: closed)
        schedule(context, at: .now() + limits.lingerTimeout)
    }

    private func update(_ phase: ConnectionRegistry.Phase) {
        if let id { registry.update(id, phase) }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        cancelTimer()
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            deadlinePassed(context)
        }
    }

    private func deadlinePassed(_ context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        if lingering {
            context.close(promise: nil)
        } else if awaitingFirstHead {
            metrics.recordConnectionClosed(reason: "header-timeout")
            logger.debug("connection closed: no complete request headers in time")
            context.close(promise: nil)
        } else if let body {
            let deadline = limits.bodyDeadline(since: body.since, bytes: body.bytes, paused: body.paused(at: now))
            if deadline <= now {
                metrics.recordConnectionClosed(reason: "body-too-slow")
                logger.debug("connection closed: request body below the minimum rate")
                context.close(promise: nil)
            } else {
                schedule(context, at: deadline)
            }
        }
    }
}

/// Raises the soft limit on open files to the hard limit when `connections` (plus room for the
/// store and logs) do not fit, as Go programs do at start; systemd's default soft limit is 1024.
/// - Returns: how many connections fit under the resulting limit.
func fitOpenFileLimit(connections: Int, logger: Logger) -> Int {
    let reserve = 64
    #if canImport(Glibc)
    var limit = rlimit()
    guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return connections }
    let wanted = rlim_t(connections + reserve)
    if limit.rlim_cur < wanted {
        var raised = limit
        raised.rlim_cur = min(wanted, limit.rlim_max)
        if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
    }
    let fitting = Int(limit.rlim_cur) - reserve
    if fitting < connections {
        logger.warning(
            "open file limit too low for --max-connections; serving fewer",
            metadata: ["max-connections": "\(connections)", "using": "\(max(fitting, 1))"])
        return max(fitting, 1)
    }
    #endif
    return connections
}
