import Foundation
import GRDB

/// Makes what the laptop lost unreadable from its files: after a purge no title, summary or
/// event body of a case it may no longer see may be rebuilt from the database, its WAL or its
/// search index by someone who reads the raw bytes.
///
/// Deleting rows is not enough on its own:
/// - FTS5 records a deletion as a tombstone in a new index segment and keeps the deleted
///   record's trigrams in the older segment until the two are merged. `optimize` merges every
///   segment into one, which drops deleted entries and terms nobody holds any more.
/// - Pages written before the purge stay in the WAL file until it is reset;
///   `wal_checkpoint(TRUNCATE)` copies the current pages into the database and empties it.
/// - Deleted cells and freed pages keep their bytes unless `secure_delete` is on, which
///   `LocalStore` sets on every connection.
///
/// A purge marks the store in its own transaction (`Scrub.markNeeded`). The scrub runs once per
/// sync, after the last page, because `optimize` rewrites the whole index; the mark is cleared
/// only after the WAL is empty, so a crash anywhere in between leaves the mark, and the next
/// `LocalStore.open` scrubs before anything else runs.
enum Scrub {
    static func createTable(_ db: Database) throws {
        try db.execute(
            sql: "CREATE TABLE IF NOT EXISTS scrub (singleton INTEGER PRIMARY KEY CHECK (singleton = 1))")
    }

    /// Remembers, in the caller's transaction, that lost content must be scrubbed.
    static func markNeeded(in db: Database) throws {
        try db.run("INSERT OR IGNORE INTO scrub (singleton) VALUES (1)")
    }

    static func isNeeded(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM scrub)") ?? false
    }

    /// Scrubs the store if a purge asked for it.
    /// - Returns: false when another process kept the WAL from being emptied; the mark stays and
    ///   the next open tries again.
    @discardableResult
    static func runIfNeeded(_ pool: DatabasePool) throws -> Bool {
        guard try pool.read(isNeeded) else { return true }
        try pool.write { db in
            try db.execute(sql: "INSERT INTO search (search) VALUES ('optimize')")
        }
        guard try truncateWAL(pool) else { return false }
        try pool.write { db in try db.execute(sql: "DELETE FROM scrub") }
        return try truncateWAL(pool)
    }

    /// Copies every page into the database and empties the WAL file.
    /// - Returns: false when a reader in another process is still using the WAL.
    static func truncateWAL(_ pool: DatabasePool) throws -> Bool {
        do {
            let result = try pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
            return result.walFrameCount == result.checkpointedFrameCount
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            return false
        }
    }

    /// Overwrites a file with zeros and flushes it to disk, so that unlinking it afterwards
    /// leaves none of its content in the blocks it gave back.
    static func overwriteWithZeros(_ path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        let chunk = Data(count: 1 << 20)
        var written: UInt64 = 0
        while written < size {
            let count = Int(min(UInt64(chunk.count), size - written))
            try handle.write(contentsOf: count == chunk.count ? chunk : chunk.prefix(count))
            written += UInt64(count)
        }
        try handle.synchronize()
    }

    /// Flushes a directory's entries (the unlinking of the store files) to disk.
    static func synchronizeDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        _ = close(descriptor)
    }
}
