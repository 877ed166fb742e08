import Foundation
import KakehashiShared
import Synchronization

/// The embedded store's files on disk: private to the server's user, and held by one `serve`.
///
/// The store holds every confidential case and the devices' token hashes, so its files are 0600
/// and a directory the server creates for it is 0700. SQLite creates the `-wal` and `-shm` files
/// with the mode of the database file, so creating that file 0600 covers all three.
public enum SQLiteStoreFiles {
    /// Creates the missing directories of `path` (0700) and the database file (0600) if it does
    /// not exist, removes group and other permissions from existing store files, and checks that
    /// this user can write there.
    /// - Returns: whether the database file was created (a new, empty store).
    /// - Throws: `KakehashiError` (`.unavailable`, field `db`) naming what cannot be created or written.
    @discardableResult
    public static func prepare(path: String) throws(KakehashiError) -> Bool {
        let directory = (path as NSString).deletingLastPathComponent
        try makeDirectories(directory.isEmpty ? "." : directory, for: path)
        var created = false
        if access(path, F_OK) != 0 {
            let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
            if descriptor >= 0 {
                close(descriptor)
                created = true
            } else if errno != EEXIST {
                throw unwritable("cannot create the store \(path): \(reason(errno))")
            }
        }
        for file in [path, path + "-wal", path + "-shm"] {
            var status = stat()
            // Stores written by earlier versions were 0644; a failure (not the owner) is left to
            // the access check below.
            if stat(file, &status) == 0, status.st_mode & 0o077 != 0 {
                _ = chmod(file, status.st_mode & 0o700)
            }
        }
        if access(path, R_OK | W_OK) != 0 {
            throw unwritable("the store \(path) is not readable and writable by this user: \(reason(errno))")
        }
        if access(directory.isEmpty ? "." : directory, W_OK | X_OK) != 0 {
            throw unwritable(
                "the store's directory \(directory) is not writable by this user (SQLite keeps \(path)-wal there): "
                    + reason(errno))
        }
        return created
    }

    /// Creates `directory` and its missing parents, each 0700.
    private static func makeDirectories(_ directory: String, for path: String) throws(KakehashiError) {
        var missing: [String] = []
        var current = directory
        while !current.isEmpty, current != "/", access(current, F_OK) != 0 {
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        for created in missing.reversed() {
            guard mkdir(created, 0o700) == 0 || errno == EEXIST else {
                throw unwritable("cannot create the store's directory \(created): \(reason(errno))")
            }
            // mkdir applies the umask; 0700 is what the store needs, whatever the umask.
            _ = chmod(created, 0o700)
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw unwritable("cannot use \(directory) as the store's directory: it is not a directory")
        }
    }

    private static func unwritable(_ message: String) -> KakehashiError {
        KakehashiError(.unavailable, field: "db", message + "; choose another --db")
    }

    static func reason(_ code: Int32) -> String { String(cString: strerror(code)).lowercased() }
}

/// An exclusive `flock` on `<database>.lock`, held by `serve` for its whole life, so that a second
/// `serve` on the same SQLite store refuses to start instead of running beside the first.
///
/// Admin commands do not take it: they are safe beside a running server (SQLite serializes the
/// writers) — except to migrate a store, which they do only while no server holds it
/// (`SQLiteStore.migrate`). The kernel drops the lock when the process ends, even on `kill -9`.
public final class SQLiteServeLock: Sendable {
    private let descriptor: Int32
    /// The lock file, `<database>.lock`.
    public let path: String
    private let databasePath: String

    /// The stores whose lock this process holds: a second `flock` of the same file by the same
    /// process would fail as if another one held it.
    private static let held = Mutex<Set<String>>([])

    private init(descriptor: Int32, path: String, databasePath: String) {
        self.descriptor = descriptor
        self.path = path
        self.databasePath = databasePath
    }

    /// Whether this process holds the lock of the store at `databasePath`.
    static func isHeld(databasePath: String) -> Bool {
        held.withLock { $0.contains(databasePath) }
    }

    /// Takes the lock for the store at `databasePath` (whose directory must exist) and writes this
    /// process's id into the lock file.
    /// - Parameter busy: the sentence when another process holds it, given ` (process N)` or "".
    /// - Throws: `KakehashiError` (`.unavailable`, field `db`) when another process holds it.
    public static func acquire(
        databasePath: String, busy: ((String) -> String)? = nil
    ) throws(KakehashiError) -> SQLiteServeLock {
        let path = databasePath + ".lock"
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw KakehashiError(
                .unavailable, field: "db",
                "cannot create the lock file \(path): \(SQLiteStoreFiles.reason(errno)); choose another --db")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = String(decoding: FileHandle(fileDescriptor: descriptor).readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            let process = Int(holder).map { " (process \($0))" } ?? ""
            throw KakehashiError(
                .unavailable,
                busy?(process)
                    ?? "the store sqlite:\(databasePath) is already being served by another kakehashi-server\(process); "
                    + "stop that server first, or give this one another --db")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        held.withLock { _ = $0.insert(databasePath) }
        return SQLiteServeLock(descriptor: descriptor, path: path, databasePath: databasePath)
    }

    deinit {
        Self.held.withLock { _ = $0.remove(databasePath) }
        close(descriptor)
    }
}
