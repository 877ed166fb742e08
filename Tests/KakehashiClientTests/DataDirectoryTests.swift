import KakehashiClient
import KakehashiShared
import Testing

@Suite struct DataDirectoryTests {
    @Test func homeOptionWinsOverEnvironment() throws {
        let environment = ["KAKEHASHI_HOME": "/env/home", "XDG_DATA_HOME": "/xdg", "HOME": "/home/yamada"]
        #expect(try DataDirectory.resolve(home: "/opt/field", environment: environment) == "/opt/field")
        #expect(try DataDirectory.resolve(home: nil, environment: environment) == "/env/home")
    }

    @Test func fallsBackToXDGThenTheUsersHome() throws {
        #expect(try DataDirectory.resolve(home: nil, environment: ["XDG_DATA_HOME": "/xdg"]) == "/xdg/kakehashi")
        #expect(
            try DataDirectory.resolve(home: nil, environment: ["HOME": "/home/yamada"])
                == "/home/yamada/.local/share/kakehashi")
    }

    @Test func noLocationAtAllIsAUsageError() throws {
        let error = #expect(throws: KakehashiError.self) { try DataDirectory.resolve(home: nil, environment: [:]) }
        #expect(error?.code.exitCode == 64)
    }
}
