import Foundation
import KakehashiShared
import Logging

/// `kakehashi-server restore FILE`: puts a backup in place of a store that no server is serving,
/// checks it, and gives it a new epoch so every laptop notices the restore at its next sync and
/// sends again its own changes the backup lacks.
public enum StoreRestore {
    public struct Outcome: Sendable {
        /// The check of the restored store (`StoreCheck`).
        public let report: StoreCheck.Report
        /// Where the SQLite store that was replaced was kept (nothing is deleted), if there was one.
        public let replaced: String?
    }

    /// - Parameters:
    ///   - backup: a file written by `kakehashi-server backup` (SQLite: the store file itself;
    ///     PostgreSQL: a `pg_dump --format=custom` file).
    ///   - now: the time that names the kept copy of a replaced SQLite store.
    /// - Throws: `KakehashiError`: (`.invalidData`, field `file`) for a missing backup or one that
    ///   fails the check; (`.unavailable`, field `db`) while a server serves the store.
    public static func restore(
        _ backup: String, into location: StoreLocation, now: Date = Date(), logger: Logger
    ) async throws -> Outcome {
        // A link is followed to the backup itself: copying the link would make the live store a
        // link into the backup directory.
        let backup = URL(fileURLWithPath: backup).resolvingSymlinksInPath().path
        guard FileManager.default.isReadableFile(atPath: backup) else {
            throw KakehashiError.invalid("file", "\(backup) does not exist or cannot be read")
        }
        switch location {
        case .sqlite(let path): return try await sqlite(backup, path: path, now: now)
        case .postgres(let url): return try await postgres(backup, url: url, logger: logger)
        }
    }

    private static func sqlite(_ backup: String, path: String, now: Date) async throws -> Outcome {
        let files = FileManager.default
        _ = try SQLiteStoreFiles.prepare(path: path)
        let lock = try SQLiteServeLock.acquire(databasePath: path)
        defer { withExtendedLifetime(lock) {} }

        // The backup is copied, migrated, checked and renewed beside the store, then renamed over it.
        let staged = path + ".restoring"
        func removeStaged() {
            // `.lock`: taken while the copy of an earlier release's store is migrated.
            for suffix in ["", "-wal", "-shm", ".lock"] { try? files.removeItem(atPath: staged + suffix) }
        }
        removeStaged()
        defer { removeStaged() }
        do {
            try files.copyItem(atPath: backup, toPath: staged)
        } catch {
            throw KakehashiError(
                .unavailable, field: "db", "cannot copy \(backup) beside \(path)", cause: UnderlyingError(error))
        }
        _ = chmod(staged, 0o600)
        let store: SQLiteStore
        do {
            store = try SQLiteStore(path: staged)
        } catch {
            throw KakehashiError.invalid("file", "\(backup) is not a Kakehashi store: \(error)")
        }
        let report = try await store.check()
        guard report.healthy else {
            await store.close()
            throw KakehashiError.invalid(
                "file", "\(backup) fails the store check: \(report.problems.joined(separator: "; "))")
        }
        _ = try await store.renewEpoch()
        await store.close()

        var replaced: String?
        if files.fileExists(atPath: path) {
            // Fold the old store's WAL into its file first, so the kept copy is whole by itself;
            // should that fail, its WAL is kept beside the copy.
            if let old = try? SQLiteStore(path: path) { await old.close() }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withYear, .withMonth, .withDay, .withTime, .withFractionalSeconds]
            let kept = path + ".replaced-" + formatter.string(from: now)
            // A second name for the old store: its own name keeps pointing at it until the one
            // rename below replaces it, so a crash never leaves the path without a store.
            guard link(path, kept) == 0 else {
                throw KakehashiError(
                    .unavailable, field: "db", "cannot keep \(path) as \(kept): \(String(cString: strerror(errno)))")
            }
            if files.fileExists(atPath: path + "-wal") { _ = link(path + "-wal", kept + "-wal") }
            replaced = kept
        }
        // The old store's WAL and index must not meet the restored file.
        for suffix in ["-wal", "-shm"] { try? files.removeItem(atPath: path + suffix) }
        guard rename(staged, path) == 0 else {
            throw KakehashiError(
                .unavailable, field: "db",
                "cannot put the restored store at \(path): \(String(cString: strerror(errno)))")
        }
        let restored = try SQLiteStore(path: path)
        let final = try await restored.check()
        await restored.close()
        return Outcome(report: final, replaced: replaced)
    }

    private static func postgres(_ backup: String, url: String, logger: Logger) async throws -> Outcome {
        let lock = try await PostgresServeLock.acquire(url: url, exclusive: true, logger: logger)
        do {
            try PostgresTools.restore(url: url, from: backup)
            // A new epoch before anything else can fail (a migration, the check): laptops must
            // never take the restored log for the one they synced with.
            try await PostgresTools.renewEpochIfPresent(url: url, logger: logger)
            let report = try await StoreLocation.postgres(url: url).withStore(logger: logger) { store in
                _ = try await store.renewEpoch()
                return try await store.check()
            }
            await lock.release()
            return Outcome(report: report, replaced: nil)
        } catch {
            await lock.release()
            throw error
        }
    }
}
