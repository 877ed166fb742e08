import Foundation
import KakehashiShared

/// Rations full reconciliations that a device asks for again. A pull whose page holds the
/// device's own advisor's program or status change compares every case the device may see,
/// under the store's writer. A laptop goes through such a page once (or once more after a crash);
/// a device that crafts cursors to be shown that change again and again would hold the single
/// SQLite writer, or scan every case on PostgreSQL, at every request. So full reconciliations for
/// a cursor at or before the end of the device's last one draw on a small allowance per device
/// (`burst`, refilled one per `interval`): a laptop that pulls from the start again (a reset
/// cursor, a recovery after a restore) passes; a device that keeps replaying is answered 429 and
/// retried later. Moving forward (the next pages of a sync) is never held back. Per process: with
/// several PostgreSQL-backed processes each keeps its own.
final class ReconcileGate: @unchecked Sendable {
    let interval: Int64
    let burst: Double
    private let lock = NSLock()
    /// Per device: where its last full reconciliation's page ended, the allowance left, and when
    /// the allowance was last counted.
    private var devices: [DeviceID: (seq: Int64, tokens: Double, at: Int64)] = [:]

    /// - Parameters:
    ///   - interval: milliseconds to earn back one repeated full reconciliation.
    ///   - burst: repeated full reconciliations a device may have at once.
    init(interval: Int64 = 10_000, burst: Int = 3) {
        self.interval = interval
        self.burst = Double(burst)
    }

    /// Whether a page after `cursor` may do a full reconciliation for `device` at `now` (Unix ms).
    func allows(_ device: DeviceID, after cursor: PullCursor, at now: Int64) -> Bool {
        lock.withLock {
            guard let state = devices[device], cursor.seq < state.seq else { return true }
            return tokens(state, at: now) >= 1
        }
    }

    /// Notes a full reconciliation of `device` whose page ended at `seq`, after `cursor`.
    func record(_ device: DeviceID, after cursor: PullCursor, endingAt seq: Int64, at now: Int64) {
        lock.withLock {
            var left = devices[device].map { tokens($0, at: now) } ?? burst
            if let state = devices[device], cursor.seq < state.seq { left -= 1 }
            devices[device] = (max(seq, devices[device]?.seq ?? 0), max(0, left), now)
            // Forget devices whose allowance is whole again, so the table stays as small as the burst.
            if devices.count > 10_000 { devices = devices.filter { tokens($0.value, at: now) < burst } }
        }
    }

    private func tokens(_ state: (seq: Int64, tokens: Double, at: Int64), at now: Int64) -> Double {
        min(burst, state.tokens + Double(max(0, now - state.at)) / Double(interval))
    }
}
