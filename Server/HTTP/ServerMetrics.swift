import Prometheus

/// The server's Prometheus metrics, kept in one registry that `GET /metrics` renders.
///
/// The registry is passed in rather than bootstrapped globally, so tests can run many
/// applications in one process.
public struct ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// The paths counted by name; anything else is `other`, so random URLs cannot grow the registry.
    private static let knownPaths: Set<String> = ["/v1/enroll", "/v1/push", "/v1/pull", "/v1/health", "/metrics"]

    func recordRequest(path: String, status: Int, duration: Duration) {
        let label = Self.knownPaths.contains(path) ? path : "other"
        registry.makeCounter(
            descriptor: Self.describe("http_requests", "total", "HTTP requests by path and status"),
            labels: [("path", label), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.describe("http_request_duration", "seconds", "HTTP request latency"),
            labels: [("path", label)],
            buckets: [.milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2)]
        ).recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    func recordPush(accepted: Int, duplicate: Int, rejected: Int) {
        for (status, count) in [("accepted", accepted), ("duplicate", duplicate), ("rejected", rejected)]
        where count > 0 {
            registry.makeCounter(
                descriptor: Self.describe("pushed_changes", "total", "pushed changes by outcome"),
                labels: [("status", status)]
            ).increment(by: Int64(count))
        }
    }

    func recordPull(changes: Int, purges: Int) {
        registry.makeCounter(descriptor: Self.describe("pulled_changes", "total", "changes sent to devices"))
            .increment(by: Int64(changes))
        registry.makeCounter(descriptor: Self.describe("purges", "total", "purge instructions sent to devices"))
            .increment(by: Int64(purges))
    }

    /// A connection the server closed to protect itself: `header-timeout`, `body-too-slow`,
    /// `evicted` (to make room at the connection limit) or `limit` (no room).
    func recordConnectionClosed(reason: String) {
        registry.makeCounter(
            descriptor: Self.describe("closed_connections", "total", "connections closed for slowness or at the limit"),
            labels: [("reason", reason)]
        ).increment()
    }

    private static func describe(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "kakehashi", metricName: name, unitName: unit, helpText: help)
    }

    /// The text exposition format.
    func render() -> String { registry.emitToString() }
}
