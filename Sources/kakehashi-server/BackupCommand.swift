import ArgumentParser
import KakehashiServer
import KakehashiShared

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the embedded store while it serves.",
        discussion: """
            The copy is taken from one read snapshot of the live SQLite store, so the server goes \
            on accepting pushes meanwhile. FILE must not exist; it is written with mode 0600 and is \
            itself a complete store (--db sqlite:FILE). A PostgreSQL store is backed up with \
            pg_dump instead (Docs/operations.md).
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
