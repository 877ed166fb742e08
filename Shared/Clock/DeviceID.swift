/// The id of one enrolled device (one laptop's store): 1–40 characters of `a-z`, `0-9` and `-`.
///
/// Device ids end every HLC timestamp and begin every change id, so their byte order decides
/// ties; the restricted alphabet keeps that order the same in Swift, SQLite and PostgreSQL.
public struct DeviceID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init?(_ rawValue: String) {
        let bytes = Array(rawValue.utf8)
        guard (1...40).contains(bytes.count),
            bytes.allSatisfy({ RecordID.isLowerLetter($0) || RecordID.isDigit($0) || $0 == UInt8(ascii: "-") })
        else { return nil }
        self.rawValue = rawValue
    }

    public static func < (lhs: DeviceID, rhs: DeviceID) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = DeviceID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a device id")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
