import Foundation
import KakehashiTestSupport
import Testing

/// `make demo`'s script, run against the built executables: it exits 0, tells the story, and
/// leaves every file it names.
@Suite struct DemoEndToEndTests {
    @Test func theDemoRunsToTheEndAndLeavesTheFilesItNames() async throws {
        let root = ExportEndToEndTests.repositoryRoot
        let work = TemporaryDirectory("demo")
        let output = work.path + "/demo-output"
        let result = try Executables.runTool(
            ["bash", root.path + "/scripts/demo.sh"],
            environment: ["KAKEHASHI_BIN_DIR": TestBinaries.productsDirectory.path, "DEMO_DIR": output])
        let stdout = result.stdout
        #expect(result.status == 0, "stdout:\n\(stdout)\nstderr:\n\(result.stderr)")

        // The narrative names what happened: the match, the stub, the conflict, the referral.
        for line in ["樹脂と金属の異種材料接合部の表面改質", "（非開示：他事業の秘案件）", "stage", "他事業からの紹介", "完了"] {
            #expect(stdout.contains(line), "the demo's story lacks \(line)")
        }
        // Every path it names exists; the exports verify.
        let named = stdout.split(separator: "\n").compactMap { line -> String? in
            line.split(separator: " ").first { $0.hasPrefix(output) }.map(String.init)
        }
        #expect(named.count >= 5, "\(stdout)")
        for path in named {
            #expect(FileManager.default.fileExists(atPath: path), "the demo names \(path) but it is missing")
        }
        for profile in ["cabinet-office", "meti", "mext"] {
            let verified = try ExportEndToEndTests.verify(output + "/exports/" + profile)
            #expect(verified.status == 0, "\(verified)")
        }
        let html = try String(contentsOfFile: output + "/indicators.html", encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("事業プロデュース") && !html.contains("<script"))
        // The server was stopped: a laptop of the demo can no longer sync with it. (Not "nothing
        // answers at its URL": tests running beside this one start servers on ports the system
        // hands out, and one of them may get the port the demo's server gave back; that server
        // does not know the demo's laptops.)
        let url = try String(contentsOfFile: output + "/server/url", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(url.hasPrefix("http://127.0.0.1:"))
        let sync = try Executables.run("kakehashi", ["sync", "--home", output + "/laptops/yamada"])
        #expect(sync.status != 0, "a demo laptop still syncs with the demo's server: \(sync)")
    }
}
