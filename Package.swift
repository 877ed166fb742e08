// swift-tools-version:6.0
import PackageDescription

/// One settings array for every target, in the manner of Hummingbird's manifest:
/// Swift 6 language mode everywhere, existential types spelled out, and warnings as errors (the
/// build has none; dependencies are not affected).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .unsafeFlags(["-warnings-as-errors"]),
]

let package = Package(
    name: "Kakehashi",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "KakehashiShared", targets: ["KakehashiShared"]),
        .library(name: "KakehashiClient", targets: ["KakehashiClient"]),
        .library(name: "KakehashiServer", targets: ["KakehashiServer"]),
        .executable(name: "kakehashi", targets: ["kakehashi"]),
        .executable(name: "kakehashi-server", targets: ["kakehashi-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
    ],
    targets: [
        // Libraries live in the top-level folders of Docs/design.md §2 (GRDB's `path:` trick).
        .target(
            name: "KakehashiShared",
            path: "Shared",
            swiftSettings: swiftSettings
        ),
        // What both sides' SQLite stores share: a statement bound value by value through SQLite's
        // C interface (`BoundStatement`), for the rows a pulled page or a push writes.
        .target(
            name: "KakehashiSQLite",
            dependencies: [
                "KakehashiShared",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "SQLite",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KakehashiClient",
            dependencies: [
                "KakehashiShared",
                "KakehashiSQLite",
                "CCurl",
                "CMeCab",
                "CZlib",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Client",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KakehashiServer",
            dependencies: [
                "KakehashiShared",
                "KakehashiSQLite",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "CSV", package: "CSV.swift"),
                "CXlsxWriter",
            ],
            path: "Server",
            swiftSettings: swiftSettings
        ),

        // libcurl, reached through typed shims for its variadic calls (Docs/design.md §3).
        .systemLibrary(
            name: "CCurl",
            path: "Sources/CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // zlib, for gzip-compressed push bodies (deflateInit2 is a macro, hence a shim).
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // libxlsxwriter, for the typed `.xlsx` workbooks of `export --format xlsx`.
        .systemLibrary(
            name: "CXlsxWriter",
            path: "Sources/CXlsxWriter",
            pkgConfig: "xlsxwriter",
            providers: [.apt(["libxlsxwriter-dev"])]
        ),

        // MeCab, the Japanese morphological analyzer, for `match` keywords that are words.
        .systemLibrary(
            name: "CMeCab",
            path: "Sources/CMeCab",
            providers: [.apt(["libmecab-dev", "mecab-ipadic-utf8"])]
        ),

        // Thin executables: argument parsing and wiring only.
        .executableTarget(
            name: "kakehashi",
            dependencies: [
                "KakehashiClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/kakehashi",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "kakehashi-server",
            dependencies: [
                "KakehashiServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/kakehashi-server",
            swiftSettings: swiftSettings
        ),

        // Benchmarks (`make bench`): figures next to limits measured in the same run.
        .executableTarget(
            name: "kakehashi-bench",
            dependencies: [
                "KakehashiClient",
                "KakehashiServer",
                "KakehashiTestSupport",
                "CCurl",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Sources/kakehashi-bench",
            swiftSettings: swiftSettings
        ),

        // What the test targets and the benchmarks share: the loopback socket server and the
        // servers built on it, the replica-level laptop, temporary directories, a manual clock.
        .target(
            name: "KakehashiTestSupport",
            dependencies: ["KakehashiShared"],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KakehashiSharedTests",
            dependencies: ["KakehashiShared", "KakehashiTestSupport"],
            path: "Tests/KakehashiSharedTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KakehashiClientTests",
            dependencies: [
                "KakehashiClient", "KakehashiTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/KakehashiClientTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KakehashiServerTests",
            dependencies: [
                "KakehashiServer",
                "KakehashiShared",
                "KakehashiTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/KakehashiServerTests",
            swiftSettings: swiftSettings
        ),
        // Real `kakehashi` and `kakehashi-server` processes talking over loopback.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "KakehashiShared", "KakehashiClient", "KakehashiTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/EndToEndTests",
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
