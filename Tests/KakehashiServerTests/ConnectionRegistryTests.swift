import NIOCore
import Testing

@testable import KakehashiServer

/// At the connection limit the client that lags furthest behind makes room, never one that just
/// connected (a health check or a laptop arriving during a slow-body attack).
@Suite struct ConnectionRegistryTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    let grace = TimeAmount.seconds(20)
    let limits = HTTPLimits()

    @Test func aClientThatJustConnectedIsNotClosedToMakeRoomForSlowBodies() {
        let now = start + .seconds(10)
        // Bodies opened 10 s ago that delivered 24 bytes: within their grace, but far behind the rate.
        let slowBodies = (1...3).map { id in
            (
                id: UInt64(id),
                phase: ConnectionRegistry.Phase.receiving(deadline: limits.bodyDeadline(since: start, bytes: 24))
            )
        }
        let newcomer = (id: UInt64(9), phase: ConnectionRegistry.Phase.waiting(since: now - .milliseconds(5)))
        let victim = ConnectionRegistry.victim(among: slowBodies + [newcomer], now: now, bodyGrace: grace)
        #expect(victim != nil && victim != newcomer.id)
    }

    @Test func theLongestWaitingHeaderOrTheSlowestBodyGoesFirstAndAnsweredRequestsStay() {
        let now = start + .seconds(30)
        let phases: [(id: UInt64, phase: ConnectionRegistry.Phase)] = [
            (1, .busy),
            (2, .waiting(since: start + .seconds(25))),
            (3, .receiving(deadline: limits.bodyDeadline(since: start, bytes: 5_000))),  // 10 s of rate earned
            (4, .waiting(since: start + .seconds(2))),  // a slow-loris connection, 28 s without headers
        ]
        #expect(ConnectionRegistry.victim(among: phases, now: now, bodyGrace: grace) == 4)
        #expect(ConnectionRegistry.victim(among: Array(phases.prefix(3)), now: now, bodyGrace: grace) == 3)
        #expect(ConnectionRegistry.victim(among: [(1, .busy)], now: now, bodyGrace: grace) == nil)
    }
}
