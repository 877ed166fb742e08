import Foundation
import GRDB
import KakehashiClient
import KakehashiTestSupport
import Testing

/// Docs/security.md promises that tokens and enrollment codes never reach the server's logs:
/// checked on everything a real `kakehashi-server serve` prints while laptops enroll, sync, retry
/// used and wrong codes, and are revoked.
@Suite struct LogSecrecyTests {
    @Test func tokensAndEnrollmentCodesNeverAppearInTheServerLog() async throws {
        let logs = TemporaryDirectory("logs")
        let logPath = logs.path + "/server.log"
        let server = ServerProcess(logPath: logPath)
        try await server.start()

        let (advisor, code) = try server.advisor("山田太郎")
        let laptop = Laptop(advisor: advisor)
        try laptop.check(["init", "--server", server.url, "--code", code])
        let token = try await DatabaseQueue(path: laptop.home.path + "/" + LocalStore.fileName).read { db in
            try String.fetchOne(db, sql: "SELECT token FROM device")
        }
        let secretToken = try #require(token)
        try laptop.check(["case", "add", "--title", "精密加工技術の試作マッチング", "--kind", "venture"])
        try laptop.check(["sync"])

        // A used code, a wrong one, and a code for a second laptop that is then revoked.
        let reuse = Laptop(advisor: advisor)
        #expect(try reuse.run(["init", "--server", server.url, "--code", code]).status == 77)
        let wrongCode = "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"
        #expect(try reuse.run(["init", "--server", server.url, "--code", wrongCode]).status == 77)
        let (second, secondCode) = try server.advisor("佐藤花子")
        let other = Laptop(advisor: second)
        try other.check(["init", "--server", server.url, "--code", secondCode])
        let device = try #require(
            try server.admin(["devices"]).split(separator: "\n").compactMap { line in
                line.split(separator: " ").first { $0.hasPrefix("d-") }
            }.last)
        try server.admin(["revoke", String(device)])
        _ = try other.run(["sync"])
        _ = try laptop.run(["sync"])
        server.stop()

        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(log.contains("request"), "the server logged nothing; the test proved nothing")
        let compact = { (text: String) in text.uppercased().filter { $0.isLetter || $0.isNumber } }
        for secret in [secretToken, code, secondCode, wrongCode] {
            #expect(!log.contains(secret), "the log holds a secret")
            #expect(!compact(log).contains(compact(secret)), "the log holds a secret, reformatted")
        }
        #expect(!log.lowercased().contains("bearer"), "the log holds an Authorization header")
    }
}
