import ArgumentParser
import Foundation
import KakehashiServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the sync API; prints the base URL alone on stdout once listening.")

    @OptionGroup var store: StoreOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free port.") var port = 8080
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain file (with --tls-key).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key file (with --tls-cert).") var tlsKey: String?

    func run() async throws {
        let logger = Main.logger()
        try await Main.withStore(store) { store, _ in
            try await runServer(
                store: store,
                configuration: ServeConfiguration(host: host, port: port, tlsCertificate: tlsCert, tlsKey: tlsKey),
                logger: logger,
                onListening: { url in
                    // Unbuffered, so a parent process reading the pipe sees the line at once.
                    FileHandle.standardOutput.write(Data((url + "\n").utf8))
                })
        }
    }
}
