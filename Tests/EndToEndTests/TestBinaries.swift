import Foundation

/// Finds the `kakehashi` and `kakehashi-server` executables built next to the test bundle.
enum TestBinaries {
    struct Missing: Error, CustomStringConvertible {
        let name: String
        var description: String {
            "built executable '\(name)' not found next to the test bundle; run swift build first"
        }
    }

    /// The directory SwiftPM put the products in (`.build/debug`).
    static let productsDirectory: URL = {
        if let override = ProcessInfo.processInfo.environment["KAKEHASHI_BIN_DIR"] {
            return URL(fileURLWithPath: override)
        }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("kakehashi").path) { return url }
            url.deleteLastPathComponent()
        }
        return Bundle.main.bundleURL
    }()

    static func url(_ name: String) throws -> URL {
        let url = productsDirectory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else { throw Missing(name: name) }
        return url
    }
}
