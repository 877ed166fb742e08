import Foundation
import KakehashiShared
import Logging

/// Device health recorded off the sync path: each authenticated request notes in memory what the
/// device did (when, with which client version, which log position it pulled), and a background
/// task writes the noted devices in one transaction (`ChangeLogStore.recordActivity`).
///
/// A device's row is written when it is first seen by this process, when its client version
/// changes, when the last page of a pull (`hasMore` false) moves its position, and otherwise at
/// most once per `interval`; `/metrics` writes everything noted first, so its gauges are exact.
/// A request never waits for these writes.
final class DeviceActivity: @unchecked Sendable {
    let store: any ChangeLogStore
    /// Milliseconds between two writes of a device's last-seen time alone.
    let interval: Int64
    private let logger = Logger(label: "kakehashi-server.device-activity")

    private let lock = NSLock()
    /// Noted and not yet written.
    private var pending: [DeviceID: DeviceActivityRecord] = [:]
    /// The values last written (or being written), per device.
    private var written: [DeviceID: DeviceActivityRecord] = [:]
    /// Devices whose pending values should be written now.
    private var due: Set<DeviceID> = []
    private var draining = false
    /// The task writing due devices while `draining`.
    private var drainer: Task<Void, Never>?

    init(store: any ChangeLogStore, interval: Int64 = 60_000) {
        self.store = store
        self.interval = interval
    }

    /// Notes an authenticated request of `device` at `millis`.
    /// - Parameters:
    ///   - userAgent: the request's `User-Agent`; `kakehashi/VERSION` gives the client's version.
    ///   - pulledSeq: the log position of the pull page handed out, for pulls.
    ///   - caughtUp: the page was the last one (`hasMore` false).
    func note(_ device: DeviceID, at millis: Int64, userAgent: String?, pulledSeq: Int64? = nil, caughtUp: Bool = false)
    {
        let version = Self.version(userAgent: userAgent)
        lock.withLock {
            let base = pending[device]
            let record = DeviceActivityRecord(
                device: device, lastSeenAt: max(millis, base?.lastSeenAt ?? 0),
                appVersion: version ?? base?.appVersion, pulledSeq: pulledSeq ?? base?.pulledSeq)
            pending[device] = record
            let isDue: Bool
            if let last = written[device] {
                isDue =
                    (version != nil && version != last.appVersion)
                    || (caughtUp && pulledSeq != nil && pulledSeq != last.pulledSeq)
                    || record.lastSeenAt - last.lastSeenAt >= interval
            } else {
                isDue = true
            }
            guard isDue else { return }
            due.insert(device)
            guard !draining else { return }
            draining = true
            drainer = Task { await self.drain() }
        }
    }

    /// Returns when the writes that notes have started so far are done: what a test waits for
    /// before it reads the store, instead of sleeping.
    func settled() async {
        while let task = lock.withLock({ draining ? drainer : nil }) { await task.value }
    }

    /// Writes everything noted so far, due or not (before `/metrics` reads the store).
    func flushAll() async {
        let batch = lock.withLock {
            due.removeAll()
            defer { pending.removeAll() }
            return Array(pending.values)
        }
        await write(batch)
    }

    /// Writes due devices until none are left.
    private func drain() async {
        while true {
            let batch: [DeviceActivityRecord] = lock.withLock {
                let ids = due
                due.removeAll()
                let batch = ids.compactMap { pending.removeValue(forKey: $0) }
                if batch.isEmpty { draining = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            await write(batch)
        }
    }

    private func write(_ batch: [DeviceActivityRecord]) async {
        guard !batch.isEmpty else { return }
        lock.withLock {
            for record in batch {
                let last = written[record.device]
                written[record.device] = DeviceActivityRecord(
                    device: record.device, lastSeenAt: max(record.lastSeenAt, last?.lastSeenAt ?? 0),
                    appVersion: record.appVersion ?? last?.appVersion, pulledSeq: record.pulledSeq ?? last?.pulledSeq)
            }
        }
        do {
            try await store.recordActivity(batch.sorted { $0.device.rawValue < $1.device.rawValue })
        } catch {
            // Health is best effort: the next due request writes it again.
            lock.withLock { for record in batch { written[record.device] = nil } }
            logger.warning(
                "could not record device activity", metadata: ["error": "\(String(describing: error))"])
        }
    }

    /// The version in `User-Agent: kakehashi/VERSION …`; nil for any other client.
    static func version(userAgent: String?) -> String? {
        guard let product = userAgent?.split(separator: " ").first, product.hasPrefix("kakehashi/") else {
            return nil
        }
        let version = product.dropFirst("kakehashi/".count)
        guard (1...32).contains(version.count),
            version.unicodeScalars.allSatisfy({
                ("0"..."9").contains($0) || ("a"..."z").contains($0) || ("A"..."Z").contains($0)
                    || ".+-_".unicodeScalars.contains($0)
            })
        else { return nil }
        return String(version)
    }
}
