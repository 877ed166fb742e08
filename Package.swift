// swift-tools-version:6.0
import PackageDescription

/// One settings array for every target, in the manner of Hummingbird's manifest:
/// Swift 6 language mode everywhere, and existential types spelled out.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
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
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // Libraries live in the top-level folders the design card fixes (GRDB's `path:` trick).
        .target(
            name: "KakehashiShared",
            path: "Shared",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KakehashiClient",
            dependencies: ["KakehashiShared"],
            path: "Client",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KakehashiServer",
            dependencies: ["KakehashiShared"],
            path: "Server",
            swiftSettings: swiftSettings
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
            ],
            path: "Sources/kakehashi-server",
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "KakehashiSharedTests",
            dependencies: ["KakehashiShared"],
            path: "Tests/KakehashiSharedTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KakehashiClientTests",
            dependencies: ["KakehashiClient"],
            path: "Tests/KakehashiClientTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KakehashiServerTests",
            dependencies: ["KakehashiServer"],
            path: "Tests/KakehashiServerTests",
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
