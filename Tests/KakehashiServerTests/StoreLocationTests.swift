import KakehashiServer
import KakehashiShared
import Testing

@Suite struct StoreLocationTests {
    @Test func readsSQLiteAndPostgresURLs() throws {
        #expect(
            try StoreLocation.parse("sqlite:/var/lib/kakehashi/log.sqlite")
                == .sqlite(path: "/var/lib/kakehashi/log.sqlite"))
        #expect(
            try StoreLocation.parse("postgres://kakehashi@db/kakehashi")
                == .postgres(url: "postgres://kakehashi@db/kakehashi"))
    }

    @Test func optionBeatsEnvironmentAndDefaultIsUnderXDGDataHome() throws {
        let environment = ["KAKEHASHI_SERVER_DB": "sqlite:/env.sqlite"]
        #expect(
            try StoreLocation.resolve(option: "sqlite:/opt.sqlite", environment: environment)
                == .sqlite(path: "/opt.sqlite"))
        #expect(try StoreLocation.resolve(option: nil, environment: environment) == .sqlite(path: "/env.sqlite"))
        #expect(
            try StoreLocation.resolve(option: nil, environment: ["HOME": "/home/ops"])
                == .sqlite(path: "/home/ops/.local/share/kakehashi-server/server.sqlite"))
        #expect(
            try StoreLocation.resolve(option: nil, environment: ["HOME": "/home/ops", "XDG_DATA_HOME": "/data"])
                == .sqlite(path: "/data/kakehashi-server/server.sqlite"))
        // A relative XDG_DATA_HOME is ignored (XDG base directory specification); never the working directory.
        #expect(
            try StoreLocation.resolve(option: nil, environment: ["HOME": "/home/ops", "XDG_DATA_HOME": "data"])
                == .sqlite(path: "/home/ops/.local/share/kakehashi-server/server.sqlite"))
        let error = #expect(throws: KakehashiError.self) { try StoreLocation.resolve(option: nil, environment: [:]) }
        #expect(error?.field == "db" && error?.code.exitCode == 64)
    }

    @Test func unknownSchemeIsAUsageErrorNamingTheOption() throws {
        let error = #expect(throws: KakehashiError.self) { try StoreLocation.parse("mysql://db") }
        #expect(error?.field == "db" && error?.code.exitCode == 64)
    }

    @Test func passwordsAreHiddenInDescriptions() {
        #expect(
            StoreLocation.postgres(url: "postgres://app:s3cret@db:5432/k").description == "postgres://app:***@db:5432/k"
        )
    }
}
