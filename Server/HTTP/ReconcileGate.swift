import Foundation
import KakehashiShared

/// Rations full reconciliations that a device asks for again. A pull whose page holds the
/// device's own advisor's program or status change compares every case the device may see,
/// under the store's writer. A laptop goes through such a page once (or once more after a crash);
/// a device that crafts cursors to be shown that change again and again would hold the single
/// SQLite writer, or scan every case on PostgreSQL, at every request. So a full reconciliation
/// for a cursor at or before the end of the device's last one is allowed once per `interval`;
/// the others are answered 429 and retried later. Moving forward (the next pages of a sync) is
/// never held back. Per process: with several PostgreSQL-backed processes each keeps its own.
final class ReconcileGate: @unchecked Sendable {
    let interval: Int64
    private let lock = NSLock()
    /// Per device: the log position the last full reconciliation's page ended at, and when.
    private var last: [DeviceID: (seq: Int64, at: Int64)] = [:]

    /// - Parameter interval: milliseconds between two repeated full reconciliations of one device.
    init(interval: Int64 = 10_000) {
        self.interval = interval
    }

    /// Whether a page after `cursor` may do a full reconciliation for `device` at `now` (Unix ms).
    func allows(_ device: DeviceID, after cursor: PullCursor, at now: Int64) -> Bool {
        lock.withLock {
            guard let previous = last[device] else { return true }
            return cursor.seq >= previous.seq || now - previous.at >= interval
        }
    }

    /// Notes a full reconciliation of `device` whose page ended at `seq`.
    func record(_ device: DeviceID, endingAt seq: Int64, at now: Int64) {
        lock.withLock {
            last[device] = (seq, now)
            // Forget devices whose interval has passed, so the table stays as small as the burst.
            if last.count > 10_000 { last = last.filter { now - $0.value.at < interval } }
        }
    }
}
