import ArgumentParser
import Foundation
import KakehashiServer
import KakehashiShared
import Logging

/// `--db`, shared by every subcommand.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: """
            Store URL: sqlite:PATH or postgres://USER@HOST/DB (default $KAKEHASHI_SERVER_DB, else \
            sqlite:$XDG_DATA_HOME/kakehashi-server/server.sqlite, else \
            sqlite:~/.local/share/kakehashi-server/server.sqlite).
            """)
    var db: String?
}

/// The one place loggers are built: JSON-free key=value lines on stderr (stdout carries results).
enum Main {
    static let bootstrap: Void = {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel =
                ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            return handler
        }
    }()

    static func logger() -> Logger {
        _ = bootstrap
        return Logger(label: "kakehashi-server")
    }

    /// Opens the store (seeding the initial programs), runs `body`, closes the store, and turns a
    /// `KakehashiError` into one sentence on stderr and its exit code. Says on stderr when it
    /// creates a new, empty SQLite store, so a mistyped or forgotten `--db` is noticed at once.
    /// - Parameter serving: hold the SQLite store's `SQLiteServeLock`, or a share of the PostgreSQL
    ///   store's `PostgresServeLock`, while `body` runs (`serve` only: admin commands run beside a
    ///   server; `restore` takes the lock exclusively).
    static func withStore(
        _ options: StoreOptions, serving: Bool = false, _ body: (any ChangeLogStore, AdminService) async throws -> Void
    )
        async throws
    {
        let logger = logger()
        do {
            let environment = ProcessInfo.processInfo.environment
            let location = try StoreLocation.resolve(option: options.db, environment: environment)
            var created = false
            var lock: SQLiteServeLock?
            if case .sqlite(let path) = location {
                created = try SQLiteStoreFiles.prepare(path: path)
                if serving { lock = try SQLiteServeLock.acquire(databasePath: path) }
            }
            defer { withExtendedLifetime(lock) {} }
            var sharedLock: PostgresServeLock?
            if serving, case .postgres(let url) = location {
                sharedLock = try await PostgresServeLock.acquire(url: url, exclusive: false, logger: logger)
            }
            defer { if let sharedLock { Task { await sharedLock.release() } } }
            if created {
                let why =
                    options.db == nil && (environment["KAKEHASHI_SERVER_DB"] ?? "").isEmpty
                    ? " (the default store: neither --db nor $KAKEHASHI_SERVER_DB is set)" : ""
                StandardStreams.error("note: created a new, empty store \(location)\(why)\n")
            }
            guard serving else {
                try await location.withStore(logger: logger) { store in
                    let admin = AdminService(store: store)
                    try await admin.seedProgramsIfEmpty()
                    try await body(store, admin)
                }
                return
            }
            // `serve` hands the store's services to the application's service group, which runs
            // them only once it starts: the programs are seeded before, through a store of its own.
            try await location.withStore(logger: logger) { store in
                try await AdminService(store: store).seedProgramsIfEmpty()
            }
            try await location.withStore(logger: logger, runsServices: false) { store in
                try await body(store, AdminService(store: store))
            }
        } catch {
            throw exit(for: error)
        }
    }

    /// Runs `body` (argument checks that need no store), turning a `KakehashiError` into one
    /// sentence on stderr and its exit code, as `withStore` does.
    static func reportingErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw exit(for: error)
        }
    }

    /// What a command throws for `error`: argument-parser's own exits and usage errors as they
    /// are; anything else reported in one sentence, with its sysexits code (`StoreFailure`: a
    /// failing store is 69, a damaged one or an unexpected failure 70, never 1).
    static func exit(for error: any Error) -> any Error {
        if error is ExitCode || error is ValidationError || error is CleanExit { return error }
        let failure = StoreFailure.describing(error)
        report(failure)
        return ExitCode(failure.code.exitCode)
    }

    static func report(_ error: KakehashiError) {
        var message = "error: \(error.description)"
        if !error.validValues.isEmpty, !error.message.contains("valid values") {
            message += " (valid values: \(error.validValues.joined(separator: ", ")))"
        }
        StandardStreams.error(message + "\n")
    }

    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
