import ArgumentParser
import Foundation
import KakehashiServer
import KakehashiShared

/// `backup`, `restore` and `check`: the store's safety, for both stores (Docs/operations.md).
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the store while it serves.",
        discussion: """
            SQLite: the copy is taken from one read snapshot of the live store (SQLite's backup \
            API), so the server goes on accepting pushes meanwhile; FILE is itself a complete store. \
            PostgreSQL: FILE is written by pg_dump --format=custom (PostgreSQL's client programs \
            must be installed). FILE must not exist; it is written with mode 0600. `restore FILE` \
            puts it back.
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "The new backup file.") var out: String

    func run() async throws {
        try await Main.withStore(store) { store, _ in
            try await store.backup(to: out)
            print(out)
        }
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put a backup in place of the store, check it, and give it a new epoch.",
        discussion: """
            Stop every server of the store first: restore refuses while one serves it. SQLite: the \
            backup is copied beside the store, migrated and checked, then renamed over it; the \
            replaced store is kept as <store>.replaced-<time>. PostgreSQL: pg_restore replaces the \
            tables in one transaction. The restored log gets a new epoch: at their next sync \
            laptops send again their own changes the backup lacks, then download everything again \
            (no user action). Devices enrolled or revoked after the backup was taken are as they \
            were then: revoke again what was revoked since (Docs/operations.md).
            """)
    @OptionGroup var store: StoreOptions
    @Argument(help: "A file written by `kakehashi-server backup`.") var file: String

    func run() async throws {
        let logger = Main.logger()
        do {
            let location = try StoreLocation.resolve(option: store.db, environment: ProcessInfo.processInfo.environment)
            let outcome = try await StoreRestore.restore(file, into: location, logger: logger)
            if let replaced = outcome.replaced {
                StandardStreams.error("note: the replaced store is kept as \(replaced)\n")
            }
            print(
                "restored \(file) into \(location): \(outcome.report.changes) changes, \(outcome.report.records) records, new epoch \(outcome.report.epoch)"
            )
            for problem in outcome.report.problems {
                StandardStreams.error("problem: \(problem)\n")
            }
            if !outcome.report.healthy { throw ExitCode(KakehashiError.Code.invalidData.exitCode) }
        } catch {
            throw Main.exit(for: error)
        }
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a store: schema version, sequence numbers, record states against the log.",
        discussion: """
            Reads the store in one transaction, beside a running server. Checks that the schema \
            version is the one this release writes, that the log's sequence numbers run 1, 2, 3, … \
            without gaps, and that every record's merged state is exactly what replaying its \
            changes gives. Prints one line per problem and exits 65 when there is any, else 0.
            """)
    @OptionGroup var store: StoreOptions
    @Flag(help: "Print the report as JSON.") var json = false

    func run() async throws {
        var healthy = true
        try await Main.withStore(store) { store, _ in
            let report = try await store.check()
            healthy = report.healthy
            if json {
                try Main.printJSON(report)
                return
            }
            print(
                "schema version \(report.schemaVersion), epoch \(report.epoch), \(report.changes) changes, \(report.records) records"
            )
            print(healthy ? "ok: the log is dense and every record state matches its changes" : "problems:")
            for problem in report.problems { print("  \(problem)") }
        }
        if !healthy { throw ExitCode(KakehashiError.Code.invalidData.exitCode) }
    }
}
