import Foundation
import GRDB
import Testing

@testable import KakehashiServer

/// A push the server confirmed survives a power cut: the SQLite store's writer syncs the WAL at
/// every commit (`synchronous = FULL`), not only at checkpoints as GRDB's WAL default (NORMAL)
/// does — laptops never send a confirmed change again.
@Suite struct SQLiteDurabilityTests {
    @Test func theWriterSyncsEveryCommitOnANewAndOnAReopenedStore() async throws {
        guard case .sqlite(let path) = try await StoreKind.sqlite.freshLocation() else { return }
        for _ in 0..<2 {
            let store = try SQLiteStore(path: path)
            let mode = try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
            #expect(mode == 2, "synchronous is \(mode.map(String.init) ?? "unknown"), not FULL (2)")
            await store.close()
        }
    }
}
