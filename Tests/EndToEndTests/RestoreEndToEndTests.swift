import Foundation
import KakehashiShared
import KakehashiTestSupport
import Testing

/// Issue 11, point 2: a server restored from a backup loses nothing that a laptop still holds,
/// and the laptops recover at their next sync with no user action — real `kakehashi-server`
/// processes (`backup`, `restore`, `check`), real laptops, on both stores.
@Suite struct RestoreEndToEndTests {
    static var stores: [String] { TestPostgres.url == nil ? ["sqlite"] : ["sqlite", "postgres"] }

    /// A new store location of `kind`: a SQLite file in `directory`, or a new PostgreSQL database.
    static func database(_ kind: String, in directory: String) throws -> String {
        kind == "postgres" ? try TestPostgres.freshDatabase() : "sqlite:" + directory + "/server.sqlite"
    }

    /// Runs a program from `PATH` and requires success.
    static func tool(_ arguments: [String]) throws {
        let result = try Executables.runTool(arguments)
        guard result.status == 0 else {
            throw CommandFailed(command: arguments.joined(separator: " "), result: result)
        }
    }

    /// The store's own verdict and change count (`kakehashi-server check --json`).
    static func check(_ server: ServerProcess) throws -> (healthy: Bool, changes: Int, epoch: String) {
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(try server.admin(["check", "--json"]).utf8)) as? [String: Any])
        return (
            (report["problems"] as? [String])?.isEmpty == true, report["changes"] as? Int ?? -1,
            report["epoch"] as? String ?? ""
        )
    }

    /// What a laptop shows: every case title and every event body, sorted.
    static func contents(_ laptop: Laptop) throws -> [String] {
        let cases = try #require(try laptop.json(["case", "list"]) as? [[String: Any]])
        var lines = cases.compactMap { $0["title"] as? String }
        for id in cases.compactMap({ $0["id"] as? String }) {
            let events = try #require(try laptop.json(["event", "list", id]) as? [[String: Any]])
            lines += events.compactMap { $0["body"] as? String }
        }
        return lines.sorted()
    }

    static func pending(_ laptop: Laptop) throws -> Int {
        try #require((try laptop.json(["status"]) as? [String: Any])?["pending"] as? Int)
    }

    @Test(arguments: stores)
    func aRestoreLosesNothingTheLaptopsHoldAndTheyRecoverAtTheirNextSync(store: String) async throws {
        let scratch = TemporaryDirectory("restore")
        let server = ServerProcess(database: try Self.database(store, in: scratch.path))
        try await server.start()
        defer { server.stop() }
        let yamada = try Laptop.enroll(server, "山田太郎")
        let suzuki = try Laptop.enroll(server, "鈴木花子")

        // Before the backup: a case each, seen by both.
        let kawasaki = try yamada.check([
            "case", "add", "--title", "川崎精密：複合部品の表面処理技術の導入", "--kind", "ip-business-matching",
        ]).output
        try yamada.check([
            "event", "add", kawasaki, "--kind", "visit", "--date", "2026-03-27", "--body", "工場を訪問し、塗装はがれの課題を聴取した。",
        ])
        try yamada.check(["sync"])
        let sendai = try suzuki.check(["case", "add", "--title", "仙台電子：センサー検査の自動化", "--kind", "ip-business-matching"])
            .output
        try suzuki.check(["sync"])
        try yamada.check(["sync"])
        let backup = scratch.path + "/backup-" + store
        try server.admin(["backup", "--out", backup])
        let epochBefore = try Self.check(server).epoch

        // After the backup: more work on both laptops, synced; one change on Yamada's not synced.
        try yamada.check([
            "event", "add", kawasaki, "--kind", "consultation", "--date", "2026-04-08", "--body",
            "技術部長と課題を整理した（バックアップ後）。",
        ])
        _ = try yamada.check(["case", "add", "--title", "横浜化成：樹脂リサイクルの共同研究", "--kind", "ip-business-matching"])
        try yamada.check(["sync"])
        try suzuki.check([
            "event", "add", sendai, "--kind", "visit", "--date", "2026-04-10", "--body", "検査工程を見学した（バックアップ後）。",
        ])
        try suzuki.check(["sync"])
        try yamada.check(["sync"])
        try yamada.check([
            "event", "add", sendai, "--kind", "consultation", "--date", "2026-04-11", "--body", "未送信のまま復元を迎えた記録。",
        ])
        let expected = try Self.contents(yamada)
        let everything = try Self.check(server).changes + Self.pending(yamada)

        // The operator restores the backup: refused while the server serves the store, then done
        // with the server stopped.
        let busy = try Executables.run("kakehashi-server", ["restore", backup, "--db", server.database])
        #expect(busy.status == 69, "\(busy)")
        #expect(busy.stderr.contains("serv"), "\(busy)")
        #expect(
            try Self.check(server).changes == everything - Self.pending(yamada), "a refused restore changed the store")
        let port = server.port
        server.stop()
        let restored = try Executables.check("kakehashi-server", ["restore", backup, "--db", server.database])
        #expect(restored.output.contains("new epoch"), "\(restored)")
        #expect(try Self.check(server).changes < everything)
        #expect(try Self.check(server).epoch != epochBefore)
        try await server.start(port: port)

        // Each laptop's next sync recovers by itself and says so in one line.
        for laptop in [yamada, suzuki] {
            let sync = try laptop.check(["sync"])
            #expect(sync.stdout.contains("バックアップから復元"), "\(sync)")
            #expect(sync.stdout.split(separator: "\n").filter { $0.contains("復元") }.count == 1)
        }
        try yamada.check(["sync"])  // receives what Suzuki's laptop sent again

        let after = try Self.check(server)
        #expect(after.healthy)
        #expect(after.changes == everything, "every change exactly once")
        for laptop in [yamada, suzuki] {
            #expect(try Self.contents(laptop) == expected)
            #expect(try Self.pending(laptop) == 0)
        }
        // Later syncs are ordinary again.
        let quiet = try suzuki.check(["sync"])
        #expect(!quiet.stdout.contains("復元"))
    }

    /// A recovery killed at random moments (while own changes are sent again, while the replica
    /// is reset, while it downloads again) finishes at a later sync with nothing lost or doubled.
    @Test func aRecoveryKilledAtRandomMomentsFinishesLater() async throws {
        let scratch = TemporaryDirectory("restore-kills")
        let server = ServerProcess()
        try await server.start()
        defer { server.stop() }
        let yamada = try Laptop.enroll(server, "山田太郎")
        for number in 1...3 {
            try yamada.check(["case", "add", "--title", "バックアップ前の案件 \(number)", "--kind", "consultation"])
        }
        try yamada.check(["sync"])
        let backup = scratch.path + "/backup.sqlite"
        try server.admin(["backup", "--out", backup])
        for number in 1...30 {
            try yamada.check(["case", "add", "--title", "バックアップ後の案件 \(number)", "--kind", "consultation"])
        }
        try yamada.check(["sync"])
        let expected = try Self.contents(yamada)
        let everything = try Self.check(server).changes

        let port = server.port
        server.stop()
        try Executables.check("kakehashi-server", ["restore", backup, "--db", server.database])
        try await server.start(port: port)

        let seed = UInt64.random(in: 1...UInt64.max)
        var random = SplitMix64(seed: seed)
        for _ in 0..<6 {
            let process = Process()
            process.executableURL = try TestBinaries.url("kakehashi")
            process.arguments = ["sync", "--home", yamada.home.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 20_000...400_000, using: &random))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try yamada.check(["sync"])
        try yamada.check(["sync"])
        #expect(try Self.check(server).changes == everything, "seed \(seed)")
        #expect(try Self.contents(yamada) == expected, "seed \(seed)")
        #expect(try Self.pending(yamada) == 0, "seed \(seed)")
    }

    /// A laptop that lost a case before the backup but has not synced since keeps its own text
    /// on that case in the refused store when a recovery resets its replica, as a purge would.
    @Test func aRecoveryKeepsOwnTextOnCasesTheLaptopMayNoLongerSee() async throws {
        let scratch = TemporaryDirectory("restore-own-text")
        let server = ServerProcess()
        try await server.start()
        defer { server.stop() }
        let yamada = try Laptop.enroll(server, "山田太郎")
        let suzuki = try Laptop.enroll(server, "鈴木花子")
        try yamada.check(["sync"])
        let strict = try yamada.check([
            "case", "add", "--title", "厳秘：新素材の共同開発", "--kind", "industry-academia", "--level", "strict",
        ]).output
        try yamada.check(["case", "share", strict, suzuki.advisor])
        try yamada.check(["sync"])
        try suzuki.check(["sync"])
        try suzuki.check([
            "event", "add", strict, "--kind", "consultation", "--date", "2026-04-20", "--body", "鈴木の独自メモ：試作費の見積もり",
        ])
        try suzuki.check(["sync"])
        try yamada.check(["case", "unshare", strict, suzuki.advisor])
        try yamada.check(["sync"])
        let backup = scratch.path + "/backup.sqlite"
        try server.admin(["backup", "--out", backup])

        let port = server.port
        server.stop()
        try Executables.check("kakehashi-server", ["restore", backup, "--db", server.database])
        try await server.start(port: port)
        let sync = try suzuki.check(["sync"])
        #expect(sync.stdout.contains("復元"), "\(sync)")
        #expect(try suzuki.run(["case", "show", strict]).status != 0)
        let refused = try suzuki.check(["refused", "--json"]).stdout
        #expect(refused.contains("鈴木の独自メモ：試作費の見積もり"), "\(refused)")
    }

    @Test func restoreRefusesWhileTheStoreIsServedAndRefusesABrokenBackup() async throws {
        let scratch = TemporaryDirectory("restore-refusals")
        let server = ServerProcess()
        try await server.start()
        defer { server.stop() }
        _ = try server.advisor("山田太郎")
        let backup = scratch.path + "/backup.sqlite"
        try server.admin(["backup", "--out", backup])

        let busy = try Executables.run("kakehashi-server", ["restore", backup, "--db", server.database])
        #expect(busy.status == 69)
        #expect(busy.stderr.contains("already being served"), "\(busy)")

        server.stop()
        let missing = try Executables.run(
            "kakehashi-server", ["restore", scratch.path + "/nope", "--db", server.database])
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("does not exist"), "\(missing)")

        // A backup whose record state no longer matches its log is refused, and the store is untouched.
        let broken = scratch.path + "/broken.sqlite"
        try FileManager.default.copyItem(atPath: backup, toPath: broken)
        try Self.tool(["sqlite3", broken, "UPDATE records SET state = replace(state, '山田', '田中')"])
        let before = try Self.check(server)
        let refused = try Executables.run("kakehashi-server", ["restore", broken, "--db", server.database])
        #expect(refused.status == 65)
        #expect(refused.stderr.contains("fails the store check"), "\(refused)")
        #expect(try Self.check(server).epoch == before.epoch)

        // A backup named through a link is copied, never linked: the live store stays a file of
        // its own, and the old store is kept beside it.
        let link = scratch.path + "/latest.sqlite"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: backup)
        try Executables.check("kakehashi-server", ["restore", link, "--db", server.database])
        let store = String(server.database.dropFirst("sqlite:".count))
        let kind = try FileManager.default.attributesOfItem(atPath: store)[.type] as? FileAttributeType
        #expect(kind == .typeRegular)
        let kept = try FileManager.default.contentsOfDirectory(atPath: (store as NSString).deletingLastPathComponent)
        #expect(kept.contains { $0.hasPrefix("server.sqlite.replaced-") })
        #expect(try Self.check(server).healthy)
    }
}
