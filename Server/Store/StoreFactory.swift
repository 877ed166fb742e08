import KakehashiShared
import Logging

extension StoreLocation {
    /// Opens (and migrates) the store at this location.
    /// - Throws: `KakehashiError` (`.unavailable`) when it cannot be reached.
    public func open(logger: Logger) async throws -> any ChangeLogStore {
        switch self {
        case .sqlite(let path): try SQLiteStore(path: path)
        case .postgres(let url): try await PostgresStore(url: url, logger: logger)
        }
    }
}
