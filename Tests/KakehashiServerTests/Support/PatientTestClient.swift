import HummingbirdTesting
import NIOSSL

extension TestClient {
    /// A client for a real `kakehashi-server` process, with the same patience as the server's
    /// `ServerBinary.patientTimeouts`: `TestClient` waits for its response in a task of the test
    /// runner's cooperative pool, and while other tests block that pool with process waits the
    /// default 15 s read timeout expires although the server answered at once.
    static func patient(
        port: Int, tls: TLSConfiguration? = nil, serverName: String? = nil
    ) -> TestClient {
        TestClient(
            host: "127.0.0.1", port: port,
            configuration: .init(tlsConfiguration: tls, timeout: .seconds(300), serverName: serverName))
    }
}
