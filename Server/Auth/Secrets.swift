import Crypto
import Foundation

/// Device tokens and enrollment codes: generated from the system's secure random source, stored
/// only as SHA-256 hashes, compared in constant time.
public enum Secrets {
    /// A new bearer token: 256 random bits, base64url without padding (43 characters).
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// A new one-time enrollment code: 20 characters of an unambiguous alphabet (about 100 bits),
    /// grouped by dashes so a person can read it over the phone (`ABCD-EFGH-…`).
    public static func newEnrollmentCode() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return stride(from: 0, to: 20, by: 4).map { String(characters[$0..<$0 + 4]) }.joined(separator: "-")
    }

    /// Codes are typed by people: case and dashes or spaces do not matter.
    public static func normalizeCode(_ code: String) -> String {
        String(code.uppercased().filter { $0 != "-" && $0 != " " })
    }

    /// The hex SHA-256 of a secret (lowercase); the only form the stores keep. Every
    /// authenticated request hashes its token, so the digits are written as bytes, not as a
    /// `String` per byte.
    public static func hash(_ secret: String) -> String {
        var hex: [UInt8] = []
        hex.reserveCapacity(2 * SHA256.byteCount)
        for byte in SHA256.hash(data: Array(secret.utf8)) {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Compares two strings without an early exit, so timing does not reveal a matching prefix.
    public static func constantTimeEquals(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8)
        let b = Array(right.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    /// A new server-assigned device id: `d-` and 16 random hex digits (a valid `DeviceID`).
    public static func newDeviceID() -> String {
        "d-" + randomHex(bytes: 8)
    }

    /// Random lowercase hex.
    public static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
