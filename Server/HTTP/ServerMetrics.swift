import KakehashiShared
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
    private static let knownPaths: Set<String> = [
        "/v1/enroll", "/v1/push", "/v1/pull", "/v1/history", "/v1/health", "/metrics",
    ]

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

    /// A pull or history page sent, by form (`json` or `binary`): how many devices still read JSON.
    func recordPage(_ form: String) {
        registry.makeCounter(
            descriptor: Self.describe("pages", "total", "pull and history pages sent, by form (json or binary)"),
            labels: [("form", form)]
        ).increment()
    }

    /// A sync request answered with an error: `endpoint` is `enroll`, `push` or `pull`, `code` the
    /// `ErrorResponse` code (`unauthorized`, `revoked`, `malformed`, `too-large`, `invalid-data`,
    /// `internal`).
    func recordError(endpoint: String, code: APIErrorCode) {
        registry.makeCounter(
            descriptor: Self.describe("request_errors", "total", "sync requests answered with an error, by code"),
            labels: [("endpoint", endpoint), ("code", code.rawValue)]
        ).increment()
    }

    /// Pushed changes the server rejected, by `PushResult` code (`forbidden`, `invalid`, `clock-skew`).
    func recordRejections(_ codes: [String]) {
        for (code, count) in Dictionary(grouping: codes, by: { $0 }).mapValues(\.count) {
            registry.makeCounter(
                descriptor: Self.describe("rejected_changes", "total", "pushed changes rejected, by code"),
                labels: [("code", code)]
            ).increment(by: Int64(count))
        }
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

    /// The text exposition format: the registry, then the per-device gauges of `devices` (labelled
    /// by device id only; no names, advisors or tokens).
    func render(devices: DeviceHealthReport? = nil) -> String {
        var text = registry.emitToString()
        guard let devices, !devices.devices.isEmpty else { return text }
        if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
        text +=
            "# HELP kakehashi_device_lag_changes log entries between the head and the last position the device pulled\n"
        text += "# TYPE kakehashi_device_lag_changes gauge\n"
        for device in devices.devices {
            text +=
                "kakehashi_device_lag_changes{device=\"\(Self.escape(device.id.rawValue))\"} \(devices.lag(device))\n"
        }
        let seen = devices.devices.compactMap { device in device.lastSeenAt.map { (device.id, $0) } }
        guard !seen.isEmpty else { return text }
        text += "# HELP kakehashi_device_last_seen_seconds Unix time of the device's last authenticated request\n"
        text += "# TYPE kakehashi_device_last_seen_seconds gauge\n"
        for (id, millis) in seen {
            text +=
                "kakehashi_device_last_seen_seconds{device=\"\(Self.escape(id.rawValue))\"} \(Self.seconds(millis))\n"
        }
        return text
    }

    /// Milliseconds as decimal seconds, `1764670000.123`.
    static func seconds(_ millis: Int64) -> String {
        let fraction = String(abs(millis % 1000))
        return "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// A label value in the text format: backslash, double quote and newline escaped.
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
