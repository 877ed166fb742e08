import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import KakehashiShared
import Logging
import NIOCore
import NIOSSL

/// How `kakehashi-server serve` listens.
public struct ServeConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// PEM certificate chain and private key files; both or neither.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// Timeouts and connection limits against slow clients.
    public var limits: HTTPLimits
    /// The oldest `kakehashi` version whose enroll, push and pull are served (426 below it).
    public var minClientVersion: AppVersion

    public init(
        host: String = "127.0.0.1", port: Int = 8080, tlsCertificate: String? = nil, tlsKey: String? = nil,
        limits: HTTPLimits = HTTPLimits(), minClientVersion: AppVersion = .oldestCompatibleClient
    ) {
        self.host = host
        self.port = port
        self.tlsCertificate = tlsCertificate
        self.tlsKey = tlsKey
        self.limits = limits
        self.minClientVersion = minClientVersion
    }
}

/// The TLS versions and cipher suites the server offers: TLS 1.2 and 1.3 only, and for TLS 1.2
/// only ephemeral ECDH key exchange (forward secrecy) with AEAD ciphers. TLS 1.3 suites are all
/// forward-secret AEAD and are not configurable.
public func serverTLSConfiguration(
    certificateChain: [NIOSSLCertificateSource], privateKey: NIOSSLPrivateKeySource
) -> TLSConfiguration {
    var configuration = TLSConfiguration.makeServerConfiguration(
        certificateChain: certificateChain, privateKey: privateKey)
    configuration.minimumTLSVersion = .tlsv12
    configuration.cipherSuiteValues = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
    return configuration
}

/// The server's wall clock in Unix milliseconds.
@Sendable public func serverWallMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

/// Builds the router with every endpoint and the error/time/metrics middleware.
/// - Parameter minClientVersion: the oldest `kakehashi` served (`serve --min-client-version`).
public func buildRouter(
    store: any ChangeLogStore, metrics: ServerMetrics, now: @escaping @Sendable () -> Int64 = serverWallMillis,
    limits: HTTPLimits = HTTPLimits(), minClientVersion: AppVersion = .oldestCompatibleClient
) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: ServerMiddleware(metrics: metrics, now: now, minClientVersion: minClientVersion))
    SyncController(
        store: store, metrics: metrics, now: now, maxUnauthenticatedBodyBytes: limits.maxUnauthenticatedBodyBytes,
        minClientVersion: minClientVersion
    ).addRoutes(to: router)
    return router
}

/// Builds the Hummingbird application (Hummingbird template shape).
///
/// - Parameters:
///   - onListening: called with the base URL once the socket listens (port 0 picks a free port).
/// - Throws: `KakehashiError` (`.usage`) for an incomplete TLS pair, (`.invalidData`) for
///   unreadable certificate or key files.
public func buildApplication(
    store: any ChangeLogStore, configuration: ServeConfiguration, metrics: ServerMetrics, logger: Logger,
    onListening: @escaping @Sendable (String) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let limits = configuration.limits
    let router = buildRouter(
        store: store, metrics: metrics, limits: limits, minClientVersion: configuration.minClientVersion)
    // One guard per connection, right after the HTTP/1 decoder; Hummingbird's idle timeout closes
    // connections on which nothing arrives (ConnectionGuard.swift).
    let registry = ConnectionRegistry(limit: limits.maxConnections, bodyGrace: limits.bodyTimeout)
    let http1 = HTTPServerBuilder.http1(
        configuration: HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                ConnectionGuardHandler(limits: limits, registry: registry, metrics: metrics, logger: logger)
            ],
            idleTimeout: limits.idleTimeout))
    let server: HTTPServerBuilder
    let scheme: String
    switch (configuration.tlsCertificate, configuration.tlsKey) {
    case (nil, nil):
        server = http1
        scheme = "http"
    case (let certificate?, let key?):
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            server = try .tls(
                http1,
                tlsConfiguration: serverTLSConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey)))
        } catch {
            throw KakehashiError(
                .invalidData, field: "tls-cert", "cannot load the TLS certificate or key", cause: error)
        }
        scheme = "https"
    default:
        throw KakehashiError(.usage, field: "tls-key", "--tls-cert and --tls-key go together")
    }
    let host = configuration.host
    // The store's services (PostgreSQL's connection pool) run in the application's service
    // group, which ends them after the server has finished its requests.
    return Application(
        router: router, server: server,
        configuration: ApplicationConfiguration(
            address: .hostname(host, port: configuration.port), serverName: "kakehashi-server"),
        services: store.services,
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            let shownHost = host.contains(":") ? "[\(host)]" : host
            await onListening("\(scheme)://\(shownHost):\(port)")
        },
        logger: logger)
}

/// Builds the application and runs it until SIGTERM or SIGINT, then shuts down gracefully
/// (in-flight requests finish; ServiceLifecycle).
/// - Throws: `KakehashiError` (`.unavailable`) in one sentence when the address cannot be bound
///   (port in use, privileged port, not an address of this machine).
public func runServer(
    store: any ChangeLogStore, configuration: ServeConfiguration, logger: Logger,
    onListening: @escaping @Sendable (String) async -> Void
) async throws {
    var configuration = configuration
    configuration.limits.maxConnections = fitOpenFileLimit(
        connections: configuration.limits.maxConnections, logger: logger)
    let app = try buildApplication(
        store: store, configuration: configuration, metrics: ServerMetrics(), logger: logger, onListening: onListening)
    do {
        try await app.runService()
    } catch let error as IOError {
        if let failure = bindFailure(error, host: configuration.host, port: configuration.port) { throw failure }
        throw error
    }
}

/// The one sentence for an address `serve` cannot listen on, instead of NIO's
/// `bind(descriptor:ptr:bytes:)` text; nil for other I/O errors.
func bindFailure(_ error: IOError, host: String, port: Int) -> KakehashiError? {
    let message: String? =
        switch error.errnoCode {
        case EADDRINUSE: "port \(port) on \(host) is already in use; stop the other server or choose --port"
        case EACCES: "port \(port) on \(host) needs privileges this user lacks; choose --port 1024 or above"
        case EADDRNOTAVAIL: "\(host) is not an address of this machine; choose --host"
        default: nil
        }
    return message.map { KakehashiError(.unavailable, $0) }
}
