import Foundation
import GRDB
import KakehashiShared

/// The laptop's SQLite store: one WAL-mode database in the data directory, readable by its
/// owner only (DESIGN.md section 8).
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
        }
        store.restrictPermissions()
        return store
    }

    /// Keeps the database and its WAL files private to the owner.
    func restrictPermissions() {
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path + suffix)
        }
    }

    /// Deletes the store files: what a revoked device does with its data.
    public static func wipe(directory: String) throws {
        for suffix in ["", "-wal", "-shm"] {
            let file = directory + "/" + fileName + suffix
            if FileManager.default.fileExists(atPath: file) { try FileManager.default.removeItem(atPath: file) }
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.write(body)
    }
}
