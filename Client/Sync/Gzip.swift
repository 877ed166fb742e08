import CZlib
import Foundation

/// gzip (RFC 1952) for request bodies: a push of 1,000 changes is about 330 KB of JSON and a
/// tenth of that compressed, which is what a slow rural link feels.
enum Gzip {
    /// `data` as one gzip stream, or nil if zlib fails (the caller then sends it plain).
    static func compress(_ data: Data) -> Data? {
        var capacity = kh_gzip_bound(UInt(data.count))
        var output = Data(count: Int(capacity))
        let status = data.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                kh_gzip(
                    input.bindMemory(to: UInt8.self).baseAddress, UInt(data.count),
                    out.bindMemory(to: UInt8.self).baseAddress, &capacity)
            }
        }
        guard status == Z_OK else { return nil }
        output.count = Int(capacity)
        return output
    }
}
