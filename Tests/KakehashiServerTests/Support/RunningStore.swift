import Foundation
import KakehashiServer
import KakehashiShared
import Logging
import ServiceLifecycle

/// A store whose services (PostgreSQL's connection pool) run from opening until `close()`, for
/// tests that keep a store across several steps: what `StoreLocation.withStore` does for one
/// scope, spread over a test's lifetime.
final class RunningStore: ChangeLogStore, @unchecked Sendable {
    private let base: any ChangeLogStore
    // Set once in init; `close` cancels it and waits for the services to end.
    private let running: Task<Void, Never>

    /// Opens the store at `location` and starts its services.
    static func open(_ location: StoreLocation, logger: Logger) async throws -> RunningStore {
        RunningStore(try await location.open(logger: logger))
    }

    private init(_ base: any ChangeLogStore) {
        self.base = base
        let services = base.services
        running = Task {
            await withTaskGroup(of: Void.self) { group in
                for service in services { group.addTask { try? await service.run() } }
            }
        }
    }

    var services: [any Service] { [] }

    func close() async {
        await base.close()
        running.cancel()
        await running.value
    }

    func append(
        _ changes: [Change], viewer: AccessPolicy.Viewer?, wallMillis: Int64, onlyIfEmpty: Bool
    ) async throws -> [PushResult] {
        try await base.append(changes, viewer: viewer, wallMillis: wallMillis, onlyIfEmpty: onlyIfEmpty)
    }

    func pull(_ request: PullRequest) async throws -> PullPage { try await base.pull(request) }
    func pull(_ request: SessionPullRequest) async throws -> SessionPullPage {
        try await sessionPulls.before()
        return try await base.pull(request)
    }

    /// Runs actions before chosen pages of `GET /v1/pull` (each page of a page stream is one):
    /// tests put a revocation or a program move between two pages of one response.
    let sessionPulls = SessionPullHook()

    func history(
        device: DeviceID, viewer: AccessPolicy.Viewer, cursor: HistoryCursor, limit: Int
    ) async throws -> HistoryPage {
        try await base.history(device: device, viewer: viewer, cursor: cursor, limit: limit)
    }

    func record(_ entity: Entity, _ id: String) async throws -> RecordState? { try await base.record(entity, id) }
    func records(_ entity: Entity) async throws -> [RecordState] { try await base.records(entity) }
    func highestHLC() async throws -> HLC? { try await base.highestHLC() }
    func changeCount() async throws -> Int { try await base.changeCount() }
    func snapshot(entities: [Entity], since: Int64?) async throws -> LogSnapshot {
        try await base.snapshot(entities: entities, since: since)
    }
    func snapshot(
        entities: [Entity], streaming streamed: Entity, since: Int64?, pageSize: Int, into stream: any SnapshotStream
    ) async throws {
        try await base.snapshot(
            entities: entities, streaming: streamed, since: since, pageSize: pageSize, into: stream)
    }
    func epoch() async throws -> String { try await base.epoch() }
    func renewEpoch() async throws -> String { try await base.renewEpoch() }
    func check() async throws -> StoreCheck.Report { try await base.check() }
    func addEnrollmentCode(hash: String, advisor: String, createdAt: Int64, expiresAt: Int64) async throws {
        try await base.addEnrollmentCode(hash: hash, advisor: advisor, createdAt: createdAt, expiresAt: expiresAt)
    }
    func redeemEnrollmentCode(
        hash: String, device: DeviceRecord, tokenHash: String, now: Int64
    ) async throws
        -> String?
    {
        try await base.redeemEnrollmentCode(hash: hash, device: device, tokenHash: tokenHash, now: now)
    }
    func device(tokenHash: String) async throws -> (device: DeviceRecord, tokenHash: String)? {
        try await base.device(tokenHash: tokenHash)
    }
    func devices() async throws -> [DeviceRecord] { try await base.devices() }
    func revoke(_ device: DeviceID, at: Int64) async throws -> Bool { try await base.revoke(device, at: at) }
    func recordActivity(_ activity: [DeviceActivityRecord]) async throws { try await base.recordActivity(activity) }
    func deviceHealth() async throws -> DeviceHealthReport { try await base.deviceHealth() }
    func backup(to path: String) async throws { try await base.backup(to: path) }
}

/// Actions to run before the Nth page a store makes for `GET /v1/pull` (counted from `reset`).
final class SessionPullHook: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var actions: [Int: @Sendable () async throws -> Void] = [:]

    /// Counts pages from zero again and forgets the actions not yet run.
    func reset() {
        lock.withLock {
            count = 0
            actions = [:]
        }
    }

    /// Runs `action` before the `page`th page (1 is the next one after `reset`), before its
    /// transaction begins.
    func before(page: Int, _ action: @escaping @Sendable () async throws -> Void) {
        lock.withLock { actions[page] = action }
    }

    /// Pages made since `reset`.
    var pages: Int { lock.withLock { count } }

    func before() async throws {
        let action = lock.withLock {
            count += 1
            return actions.removeValue(forKey: count)
        }
        try await action?()
    }
}
