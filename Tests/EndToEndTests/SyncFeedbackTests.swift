import Foundation
import KakehashiTestSupport
import Testing

/// Issue 12, point 7: `kakehashi sync` says what it is doing — a server that stops answering is
/// reported within seconds, a TLS failure explains `--cacert`, and the last line says what
/// arrived. Real `kakehashi` and `kakehashi-server` processes.
@Suite struct SyncFeedbackTests {
    @Test func aServerThatStopsAnsweringIsReportedWithinSecondsAndNothingIsLost() async throws {
        let server = ServerProcess()
        try await server.start()
        defer { server.stop() }
        let proxy = try FaultProxy(upstreamPort: server.port, seed: 1)
        let laptop = try Laptop.enroll(server, "山田太郎", via: proxy.url)
        try laptop.check(["case", "add", "--title", "応答のないサーバーへの同期", "--kind", "consultation"])

        // The server hangs: connections are accepted and never answered.
        let silent = try FaultyHTTPServer(.silent)
        proxy.upstreamPort = silent.port
        let process = Process()
        process.executableURL = try TestBinaries.url("kakehashi")
        process.arguments = ["sync", "--home", laptop.home.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var seen = ""
        while process.isRunning, !seen.contains("応答がありません") {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        let stillRunning = process.isRunning
        process.terminate()
        process.waitUntilExit()

        #expect(stillRunning, "sync ended before saying anything: \(seen)")
        let notice = try #require(seen.split(separator: "\n").first { $0.contains("応答がありません") })
        // Said after a few seconds of silence, long before the 30 s stall limit ends the request.
        let seconds = Int(notice.split(separator: " ").first { Int($0) != nil } ?? "") ?? .max
        #expect(seconds < 30, "\(notice)")
        // The interrupted sync lost nothing: the change is still pending and goes out later.
        proxy.upstreamPort = server.port
        #expect((try laptop.json(["status"]) as? [String: Any])?["pending"] as? Int ?? 0 > 0)
        try laptop.check(["sync"])
        #expect((try laptop.json(["status"]) as? [String: Any])?["pending"] as? Int == 0)
    }

    @Test func aTLSFailureExplainsCacertAndTheAuthorityGivenIsRemembered() async throws {
        let keys = TemporaryDirectory("tls")
        let cert = keys.path + "/cert.pem"
        let key = keys.path + "/key.pem"
        let made = try Executables.runTool([
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ])
        try #require(made.status == 0, "\(made)")
        let server = ServerProcess()
        server.serveArguments = ["--tls-cert", cert, "--tls-key", key]
        server.cacert = cert
        try await server.start()
        defer { server.stop() }
        let (advisor, code) = try server.advisor("山田太郎")
        let laptop = Laptop(advisor: advisor)
        try laptop.check(["init", "--server", server.url, "--code", code, "--cacert", cert])

        // A laptop that does not trust the server's authority (enrolled before the server moved
        // to a private CA, say) is told what to do instead of "sync again later".
        _ = try Executables.runTool([
            "sqlite3", laptop.home.path + "/kakehashi.sqlite", "UPDATE device SET cacert = NULL",
        ])
        try laptop.check(["case", "add", "--title", "証明書の確認", "--kind", "consultation"])
        let refused = try laptop.run(["sync"])
        #expect(refused.status == 69)
        #expect(refused.stderr.contains("--cacert"), "\(refused)")
        #expect(!refused.stderr.contains("sync again later"), "\(refused)")

        try laptop.check(["sync", "--cacert", cert])
        try laptop.check(["case", "add", "--title", "二回目の同期", "--kind", "consultation"])
        try laptop.check(["sync"])  // remembered
        #expect((try laptop.json(["status"]) as? [String: Any])?["pending"] as? Int == 0)
    }

    @Test func theLastLineSaysWhatArrivedNewCasesReferralsAndConflicts() async throws {
        let server = ServerProcess()
        try await server.start()
        defer { server.stop() }
        let yamada = try Laptop.enroll(server, "山田太郎")
        let ito = try Laptop.enroll(server, "伊藤誠", program: "ip-advisor")
        try yamada.check(["sync"])  // learns of Ito, enrolled after it
        let first = try ito.check(["sync"])
        #expect(first.stdout.split(separator: "\n").last == "新着: なし", "\(first)")

        let kawasaki = try yamada.check([
            "case", "add", "--title", "川崎精密：複合部品の表面処理技術の導入", "--kind", "ip-business-matching",
        ]).output
        try yamada.check(["case", "refer", kawasaki, ito.advisor, "--note", "知財戦略の助言をお願いします。"])
        try yamada.check(["sync"])
        let referred = try ito.check(["sync"])
        let line = try #require(referred.stdout.split(separator: "\n").last)
        #expect(line.contains("新しい案件 1 件") && line.contains("あなたへの紹介 1 件"), "\(referred)")

        // Both edit the title at the same time: the second to sync learns of a new conflict.
        try yamada.check(["case", "set", kawasaki, "title=川崎精密：表面処理（山田案）"])
        try ito.check(["case", "set", kawasaki, "title=川崎精密：表面処理（伊藤案）"])
        try yamada.check(["sync"])
        let conflicted = try ito.check(["sync"])
        #expect(conflicted.stdout.split(separator: "\n").last?.contains("新しい競合 1 件") == true, "\(conflicted)")
        #expect(try ito.check(["sync"]).stdout.split(separator: "\n").last == "新着: なし")
    }
}
