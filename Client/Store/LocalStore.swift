import Foundation
import GRDB
import KakehashiShared

/// The laptop's SQLite store: one WAL-mode database in the data directory, readable by its
/// owner only (Docs/design.md §8).
public final class LocalStore: Sendable {
    public static let fileName = "kakehashi.sqlite"

    public let directory: String
    let pool: DatabasePool

    public var path: String { directory + "/" + Self.fileName }

    private init(directory: String, pool: DatabasePool) {
        self.directory = directory
        self.pool = pool
    }

    public static func exists(in directory: String) -> Bool {
        FileManager.default.fileExists(atPath: directory + "/" + fileName)
    }

    /// Opens the store in `directory`, creating the directory (mode 0700) and the database
    /// (mode 0600) when `create` is true.
    /// - Throws: `KakehashiError` (`.notAuthorized`) when there is no store and `create` is false:
    ///   the laptop has not been enrolled with `kakehashi init`.
    public static func open(directory: String, create: Bool = false) throws -> LocalStore {
        let manager = FileManager.default
        if !exists(in: directory) {
            guard create else {
                throw KakehashiError(
                    .notAuthorized,
                    "no Kakehashi store in \(directory); enroll this laptop first with `kakehashi init --server URL --code CODE`"
                )
            }
            try manager.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Deleted cells and freed pages are overwritten with zeros, whatever SQLite's
            // compile-time default: purged content must not stay readable in free space.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // After a checkpoint the write-ahead log is cut back to 1 MiB instead of keeping the
            // size of the largest sync it ever held.
            try db.execute(sql: "PRAGMA journal_size_limit = 1048576")
            // A bootstrap writes a hundred thousand records in pages of a thousand: a 32 MiB page
            // cache (allocated as used) and a checkpoint every 40 MB of log rather than 4 keep
            // it from reading its own B-tree pages back and copying them over and over.
            try db.execute(sql: "PRAGMA cache_size = -32768")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 10000")
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: directory + "/" + fileName, configuration: configuration)
        } catch {
            throw KakehashiError(.internalFailure, "cannot open the local store in \(directory)", cause: error)
        }
        let store = LocalStore(directory: directory, pool: pool)
        try StoreMigrations.migrator.migrate(pool)
        try pool.write { db in
            for entity in Entity.allCases { try RecordTable(entity).create(db) }
            try Scrub.createTable(db)
        }
        store.restrictPermissions()
        // A purge whose scrub was interrupted (a crash, a killed sync) is finished first.
        try Scrub.runIfNeeded(pool)
        return store
    }

    /// Keeps the database and its WAL files private to the owner.
    func restrictPermissions() {
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path + suffix)
        }
    }

    /// Finishes any scrub a purge asked for (see `Scrub`).
    func scrubIfNeeded() throws {
        try Scrub.runIfNeeded(pool)
    }

    /// Copies the write-ahead log into the database and empties it, as the end of a sync does: a
    /// large pull leaves up to 40 MB of log (`wal_autocheckpoint`) holding pages the database
    /// file is about to hold too. Left as it is when another process reads the store.
    func emptyWAL() {
        _ = try? Scrub.truncateWAL(pool)
    }

    /// Destroys this open store: what a revoked device does with its data. The files are
    /// overwritten with zeros while the connections are still open (so closing them has nothing
    /// left to checkpoint), then the connections are closed and the files unlinked.
    public func wipe() throws {
        try Self.wipe(directory: directory, closing: pool)
    }

    /// Destroys the store files in `directory`: each is overwritten with zeros and flushed to disk
    /// before it is unlinked, so none of its content stays in the blocks it gave back.
    public static func wipe(directory: String) throws {
        try wipe(directory: directory, closing: nil)
    }

    private static func wipe(directory: String, closing pool: DatabasePool?) throws {
        let files = ["", "-wal", "-shm", "-journal"].map { directory + "/" + fileName + $0 }
            .filter { FileManager.default.fileExists(atPath: $0) }
        for file in files { try Scrub.overwriteWithZeros(file) }
        try? pool?.close()
        for file in files where FileManager.default.fileExists(atPath: file) {
            try FileManager.default.removeItem(atPath: file)
        }
        Scrub.synchronizeDirectory(directory)
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.write(body)
    }
}
