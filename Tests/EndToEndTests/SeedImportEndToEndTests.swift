import Foundation
import KakehashiShared
import KakehashiTestSupport
import Testing

/// `kakehashi-server import seeds`: an open-patent list reaches every laptop, where `match`
/// finds it; a bad list is refused whole, with every bad line named.
@Suite struct SeedImportEndToEndTests {
    static let header = "title,description,holder,holder_kind,patent_numbers,licensable,tags\r\n"
    static let goodRows =
        "高耐熱セラミックス接合技術,\"1200℃でも剥離しない異種材料の接合。\r\n試作品あり\",国立大学法人東北大学,,特許第6543210号;特許第6543211号,はい,セラミックス;接合\r\n"
        + "低温プラズマによる食品殺菌,加熱せずに食品表面を殺菌する。,富士通株式会社,large-company,特許第6012345号,可,殺菌、食品\r\n"

    static func write(_ text: String, to path: String) throws {
        try Data(([0xEF, 0xBB, 0xBF] as [UInt8]) + Array(text.utf8)).write(to: URL(fileURLWithPath: path))
    }

    @Test func aBadListIsRefusedWholeWithEveryBadLineNamed() async throws {
        let server = ServerProcess()
        let work = TemporaryDirectory("seeds")
        let file = work.path + "/seeds.csv"
        try Self.write(
            Self.header + Self.goodRows + ",説明だけ,,,,,\r\n" + "光触媒フィルター,,某研究所,,,たぶん,\r\n"
                + "耐震ダンパー,,,spaceship,,,\r\n", to: file)
        let refused = try Executables.run("kakehashi-server", ["import", "seeds", file, "--db", server.database])
        #expect(refused.status == 65, "\(refused)")
        #expect(refused.stderr.contains("line 5: title"), "\(refused.stderr)")
        #expect(refused.stderr.contains("line 6: licensable"), "\(refused.stderr)")
        #expect(refused.stderr.contains("line 7: holder_kind"), "\(refused.stderr)")
        #expect(refused.stdout.isEmpty)

        // Nothing was imported: a laptop sees no seeds.
        try await server.start()
        let laptop = try Laptop.enroll(server, "佐藤花子", program: "matching-planner")
        try laptop.check(["sync"])
        #expect((try laptop.json(["seed", "list"]) as? [Any])?.isEmpty == true)

        // With --skip-invalid the two good rows go in, and the bad ones are reported.
        let partial = try Executables.run(
            "kakehashi-server", ["import", "seeds", file, "--skip-invalid", "--db", server.database])
        #expect(partial.status == 0, "\(partial)")
        #expect(partial.stdout.split(separator: "\n").count == 2)
        #expect(partial.stderr.contains("3 invalid row(s) skipped"))
    }

    @Test func importedSeedsReachLaptopsAndMatchFindsThem() async throws {
        let server = ServerProcess()
        try await server.start()
        let work = TemporaryDirectory("seeds")
        let file = work.path + "/seeds.csv"
        try Self.write(Self.header + Self.goodRows, to: file)
        let ids = try server.admin(["import", "seeds", file]).split(separator: "\n")
        #expect(ids.count == 2)
        // The same list again adds nothing.
        let again = try Executables.run("kakehashi-server", ["import", "seeds", file, "--db", server.database])
        #expect(again.status == 0 && again.stdout.isEmpty && again.stderr.contains("2 already present"))

        // Shift_JIS, as Excel saves "CSV (comma separated)" on a Japanese Windows.
        let sjis = work.path + "/sjis.csv"
        _ = try Executables.runTool([
            "python3", "-c",
            "import sys; open(sys.argv[1], 'wb').write('名称,保有機関,ライセンス可\\r\\n水素吸蔵合金の製造方法,国立研究開発法人産業技術総合研究所,可\\r\\n'.encode('shift_jis'))",
            sjis,
        ])
        #expect(try server.admin(["import", "seeds", sjis]).split(separator: "\n").count == 1)

        let laptop = try Laptop.enroll(server, "佐藤花子", program: "matching-planner")
        try laptop.check(["sync"])
        let seeds = try #require(try laptop.json(["seed", "list"]) as? [[String: Any]])
        #expect(Set(seeds.compactMap { $0["title"] as? String }) == ["高耐熱セラミックス接合技術", "低温プラズマによる食品殺菌", "水素吸蔵合金の製造方法"])
        let ceramics = try #require(seeds.first { $0["title"] as? String == "高耐熱セラミックス接合技術" })
        #expect(ceramics["description"] as? String == "1200℃でも剥離しない異種材料の接合。\n試作品あり")
        #expect((ceramics["patent_numbers"] as? [String])?.sorted() == ["特許第6543210号", "特許第6543211号"])
        let holders = try #require(try laptop.json(["org", "list"]) as? [[String: Any]])
        #expect(holders.first { $0["name"] as? String == "国立大学法人東北大学" }?["kind"] as? String == "university")
        #expect(holders.first { $0["name"] as? String == "富士通株式会社" }?["kind"] as? String == "large-company")

        let company = try laptop.check(["org", "add", "--name", "株式会社みちのく窯業", "--kind", "sme"]).output
        let need = try laptop.check([
            "need", "add", "--title", "セラミックスと金属の接合", "--org", company, "--description", "高温でも剥がれない接合技術を探している。",
        ]).output
        let hits = try #require(try laptop.json(["match", need]) as? [[String: Any]])
        #expect(hits.first?["id"] as? String == String(ids[0]), "\(hits)")
    }
}
