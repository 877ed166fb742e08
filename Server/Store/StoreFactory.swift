import KakehashiShared
import Logging
import ServiceLifecycle

extension StoreLocation {
    /// Opens (and migrates) the store at this location, runs `body` with it while the store's
    /// services run beside it in a child task, then closes the store and ends its services.
    /// - Parameter runsServices: false when `body` runs `ChangeLogStore.services` itself
    ///   (`serve` hands them to the application's service group).
    /// - Throws: `KakehashiError` (`.unavailable`) when the store cannot be reached; what `body` throws.
    public func withStore<Result: Sendable>(
        logger: Logger, runsServices: Bool = true, _ body: (any ChangeLogStore) async throws -> Result
    ) async throws -> Result {
        let store = try await open(logger: logger)
        let services = runsServices ? store.services : []
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services { group.addTask { try await service.run() } }
            defer { group.cancelAll() }
            do {
                let result = try await body(store)
                await store.close()
                return result
            } catch {
                await store.close()
                throw error
            }
        }
    }

    /// Opens (and migrates) the store at this location. Its `services` must run while it is used
    /// (`withStore` does both).
    /// - Throws: `KakehashiError` (`.unavailable`) when it cannot be reached.
    public func open(logger: Logger) async throws -> any ChangeLogStore {
        switch self {
        case .sqlite(let path): try SQLiteStore(path: path)
        case .postgres(let url): try await PostgresStore(url: url, logger: logger)
        }
    }
}
