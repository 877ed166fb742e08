import ArgumentParser
import Foundation
import KakehashiServer
import KakehashiShared
import Logging

/// `--db`, shared by every subcommand.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Store URL: sqlite:PATH or postgres://USER@HOST/DB (default $KAKEHASHI_SERVER_DB).")
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
    /// `KakehashiError` into one sentence on stderr and its exit code.
    static func withStore(
        _ options: StoreOptions, _ body: (any ChangeLogStore, AdminService) async throws -> Void
    )
        async throws
    {
        let logger = logger()
        do {
            let location = try StoreLocation.resolve(
                option: options.db, environment: ProcessInfo.processInfo.environment)
            let store = try await location.open(logger: logger)
            do {
                let admin = AdminService(store: store)
                try await admin.seedProgramsIfEmpty()
                try await body(store, admin)
                await store.close()
            } catch {
                await store.close()
                throw error
            }
        } catch let error as KakehashiError {
            report(error)
            throw ExitCode(error.code.exitCode)
        }
    }

    /// Runs `body` (argument checks that need no store), turning a `KakehashiError` into one
    /// sentence on stderr and its exit code, as `withStore` does.
    static func reportingErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as KakehashiError {
            report(error)
            throw ExitCode(error.code.exitCode)
        }
    }

    static func report(_ error: KakehashiError) {
        var message = "error: \(error.description)"
        if !error.validValues.isEmpty, !error.message.contains("valid values") {
            message += " (valid values: \(error.validValues.joined(separator: ", ")))"
        }
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
