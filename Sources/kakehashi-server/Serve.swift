import ArgumentParser
import Foundation
import KakehashiServer
import KakehashiShared
import NIOCore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the sync API; prints the base URL alone on stdout once listening.",
        discussion: """
            Slow or idle clients are cut off so they cannot exhaust the server: a new connection must \
            send complete request headers within --header-timeout, a later request on a kept-alive \
            connection within --idle-timeout of the previous answer; a body that stalls for \
            --idle-timeout is cut off, and a request body must arrive at --min-body-rate bytes/s on \
            average after a grace of --body-timeout. At --max-connections, a new connection closes \
            the one lagging furthest behind (waiting longest for headers, or the slowest body), \
            never one that just connected; requests being answered are never closed. Enrollment bodies (no token yet) are limited to \
            --max-unauthenticated-body bytes; push bodies (8 MiB) are read only after the token is \
            checked. With --tls-cert, only TLS 1.2 (ECDHE with AES-GCM or ChaCha20-Poly1305) and \
            TLS 1.3 are offered.

            On an SQLite store, serve holds <store>.lock for its lifetime: a second serve on the same \
            store refuses to start (exit 69); admin commands keep working beside it. A port already in \
            use or a store path that cannot be written also exits 69 with one sentence.

            --min-client-version is the oldest kakehashi whose enroll, push and pull are served \
            (default: the oldest release this server still speaks to in full, \
            \(KakehashiVersion.oldestCompatibleClient), so upgrading the server locks no laptop \
            out); every response names it in Kakehashi-Min-Client-Version, and an \
            older kakehashi is answered 426 upgrade-required, which it shows as "upgrade kakehashi to \
            X" and exit 76 with its pending changes kept. Raise it after the laptops were upgraded \
            (Docs/operations.md, "Upgrades").
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free port.") var port = 8080
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain file (with --tls-key).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key file (with --tls-cert).") var tlsKey: String?
    @Option(
        name: .customLong("header-timeout"), help: "Seconds a new connection has to send complete request headers.")
    var headerTimeout = 10
    @Option(
        name: .customLong("idle-timeout"),
        help: "Seconds a kept-alive connection may wait for complete headers, or a body may stall, before closing.")
    var idleTimeout = 30
    @Option(
        name: .customLong("body-timeout"),
        help: "Seconds of grace for a request body before --min-body-rate applies.")
    var bodyTimeout = 20
    @Option(
        name: .customLong("min-body-rate"),
        help: "Bytes per second a request body must average after --body-timeout.")
    var minBodyRate = 500
    @Option(
        name: .customLong("max-connections"),
        help: "Open connections at most (the open-file limit is raised to fit when it can).")
    var maxConnections = 1000
    @Option(
        name: .customLong("max-unauthenticated-body"),
        help: "Bytes at most in the body of a request without a token (enroll).")
    var maxUnauthenticatedBody = 4096
    @Option(
        name: .customLong("min-client-version"),
        help: "Oldest kakehashi version served (MAJOR.MINOR.PATCH); older clients are told to upgrade.")
    var minClientVersion = KakehashiVersion.oldestCompatibleClient

    func validate() throws {
        let positive: [(String, Int)] = [
            ("--header-timeout", headerTimeout), ("--idle-timeout", idleTimeout), ("--body-timeout", bodyTimeout),
            ("--min-body-rate", minBodyRate), ("--max-connections", maxConnections),
            ("--max-unauthenticated-body", maxUnauthenticatedBody),
        ]
        for (name, value) in positive where value <= 0 {
            throw ValidationError("\(name) must be a positive integer")
        }
        guard AppVersion(minClientVersion) != nil else {
            throw ValidationError("--min-client-version must be a version such as \(KakehashiVersion.current)")
        }
    }

    var limits: HTTPLimits {
        HTTPLimits(
            headerTimeout: .seconds(Int64(headerTimeout)), idleTimeout: .seconds(Int64(idleTimeout)),
            bodyTimeout: .seconds(Int64(bodyTimeout)), minBodyBytesPerSecond: minBodyRate,
            maxConnections: maxConnections, maxUnauthenticatedBodyBytes: maxUnauthenticatedBody)
    }

    func run() async throws {
        let logger = Main.logger()
        try await Main.withStore(store, serving: true) { store, _ in
            try await runServer(
                store: store,
                configuration: ServeConfiguration(
                    host: host, port: port, tlsCertificate: tlsCert, tlsKey: tlsKey, limits: limits,
                    minClientVersion: AppVersion(minClientVersion) ?? .oldestCompatibleClient),
                logger: logger,
                onListening: { url in
                    // Unbuffered, so a parent process reading the pipe sees the line at once; a
                    // stdout nobody reads any more does not stop the server.
                    try? StandardStreams.output(Data((url + "\n").utf8))
                })
        }
    }
}
