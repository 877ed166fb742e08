import GRDB
import KakehashiShared
import PostgresNIO

/// The one sentence for an error a command did not expect (not a `KakehashiError`), so that the
/// executables still exit with a sysexits code (`KakehashiError.Code`) instead of 1.
public enum StoreFailure {
    /// `error` as a `KakehashiError`: a damaged SQLite file is an internal failure (70) with what
    /// to do, any other SQLite or PostgreSQL failure the store being unavailable (69), anything
    /// else an internal failure (70).
    public static func describing(_ error: any Error) -> KakehashiError {
        if let error = error as? KakehashiError { return error }
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_CORRUPT, .SQLITE_NOTADB:
                return KakehashiError(
                    .internalFailure, field: "db",
                    "the SQLite store is damaged; restore it from a backup (kakehashi-server restore)",
                    cause: UnderlyingError(description: error.message ?? "\(error.resultCode)"))
            default:
                return KakehashiError(
                    .unavailable, field: "db", "the SQLite store failed", cause: UnderlyingError(error))
            }
        }
        if let error = error as? PSQLError {
            return KakehashiError(
                .unavailable, field: "db", "the PostgreSQL store failed",
                cause: UnderlyingError(description: PostgresStore.connectionFailure(error)))
        }
        return KakehashiError(.internalFailure, "unexpected failure", cause: UnderlyingError(error))
    }
}
