import KakehashiShared
import Testing

/// Release numbers as the server's minimum client version compares them.
@Suite struct AppVersionTests {
    @Test func versionsCompareAsNumbersComponentByComponent() throws {
        let ordered = ["0.1", "0.1.1", "0.2.0-dev", "0.9.9", "0.10.0", "1", "1.0.1", "10.0.0"]
        let versions = try ordered.map { try #require(AppVersion($0), "\($0)") }
        #expect(versions == versions.sorted())
        #expect(Set(versions).count == versions.count)
        #expect(AppVersion("0.1") == AppVersion("0.1.0"))
        #expect(AppVersion("0.2.0-dev") == AppVersion("0.2.0"))
        #expect(AppVersion("1.2.3+build.7")?.description == "1.2.3")
    }

    @Test func anythingButAReleaseNumberIsNotAVersion() {
        for text in ["", "dev", "1..2", "1.2.3.4", "v1.2", "1.2.x", "-1.0", "1.0 ", "１.０", "1234567.0"] {
            #expect(AppVersion(text) == nil, "\(text)")
        }
    }

    @Test func theClientVersionComesFromAKakehashiUserAgent() {
        #expect(AppVersion(userAgent: "kakehashi/0.3.1") == AppVersion("0.3.1"))
        #expect(AppVersion(userAgent: "kakehashi/0.3.1 libcurl/8.5") == AppVersion("0.3.1"))
        #expect(AppVersion(userAgent: KakehashiVersion.userAgent) == AppVersion.current)
        for other in [nil, "curl/8.5.0", "schemathesis/4.3", "kakehashi/", "kakehashi/dev", "Kakehashi/0.1.0"] {
            #expect(AppVersion(userAgent: other) == nil, "\(String(describing: other))")
        }
    }
}
