import Foundation
import KakehashiShared

/// A push ready to go: its batch, the form it goes in, and, for a transport that sends bytes, its
/// body already encoded and compressed.
///
/// `SyncEngine` prepares the next batch's push while the one before is in flight, so reading a
/// batch from the queue and encoding it cost the push no time: the server is never left waiting
/// for the laptop between two batches.
public struct PreparedPush: Sendable {
    public let request: PushRequest
    /// Whether the body is gzip-compressed (the server listed `WireProtocol.gzipRequestsFeature`).
    public let gzip: Bool
    /// Whether the body is in `BinaryPush`'s form (the server listed `WireProtocol.binaryPushFeature`).
    public let binary: Bool
    /// The bytes on the wire and their `Content-Encoding` (`CurlTransport.prepare`); nil from a
    /// transport that takes the request itself.
    let body: (data: Data, encoding: String?)?

    public init(_ request: PushRequest, gzip: Bool, binary: Bool) {
        self.init(request, gzip: gzip, binary: binary, body: nil)
    }

    init(_ request: PushRequest, gzip: Bool, binary: Bool, body: (data: Data, encoding: String?)?) {
        self.request = request
        self.gzip = gzip
        self.binary = binary
        self.body = body
    }

    /// Whether it was prepared in the form `gzip` and `binary` name.
    public func isIn(gzip: Bool, binary: Bool) -> Bool { self.gzip == gzip && self.binary == binary }
}
