/// A hybrid logical clock timestamp: wall-clock milliseconds, a counter for events within the
/// same millisecond, and the device that made it.
///
/// Timestamps are totally ordered by `(millis, counter, device)`. The device id breaks ties, so
/// two devices that write in the same millisecond with the same counter still order the same
/// way on every replica — without it, merge would depend on arrival order.
public struct HLC: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Unix time in milliseconds (possibly ahead of the local wall clock, never behind the last
    /// timestamp this clock issued or received).
    public let millis: Int64
    public let counter: UInt32
    public let device: DeviceID

    /// Counters above this roll over into the next millisecond, keeping the text form fixed-width.
    public static let maxCounter: UInt32 = 999_999

    public init(millis: Int64, counter: UInt32, device: DeviceID) {
        self.millis = millis
        self.counter = counter
        self.device = device
    }

    public static func < (lhs: HLC, rhs: HLC) -> Bool {
        if lhs.millis != rhs.millis { return lhs.millis < rhs.millis }
        if lhs.counter != rhs.counter { return lhs.counter < rhs.counter }
        return lhs.device < rhs.device
    }

    /// `0001763700000000-000000-device`: fixed-width fields, so the text sorts like the value.
    public var description: String {
        // Written digit by digit: timestamps are formatted for every stored change.
        var bytes = [UInt8](repeating: UInt8(ascii: "0"), count: 24)
        var rest = UInt64(max(0, millis))
        for index in stride(from: 15, through: 0, by: -1) {
            bytes[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        bytes[16] = UInt8(ascii: "-")
        var count = counter
        for index in stride(from: 22, through: 17, by: -1) {
            bytes[index] = UInt8(ascii: "0") + UInt8(count % 10)
            count /= 10
        }
        bytes[23] = UInt8(ascii: "-")
        bytes.append(contentsOf: device.rawValue.utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads the text form; nil when it is malformed.
    public init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    private static func parse(_ bytes: some RandomAccessCollection<UInt8>) -> HLC? {
        guard bytes.count > 24 else { return nil }
        let start = bytes.startIndex
        func digits(_ from: Int, _ to: Int) -> UInt64? {
            var value: UInt64 = 0
            for offset in from..<to {
                let byte = bytes[bytes.index(start, offsetBy: offset)]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes[bytes.index(start, offsetBy: 16)] == UInt8(ascii: "-"),
            bytes[bytes.index(start, offsetBy: 23)] == UInt8(ascii: "-"),
            let millis = digits(0, 16), millis <= UInt64(Int64.max),
            let counter = digits(17, 23), counter <= UInt64(maxCounter),
            let device = DeviceID(String(decoding: bytes[bytes.index(start, offsetBy: 24)...], as: UTF8.self))
        else { return nil }
        return HLC(millis: Int64(millis), counter: UInt32(counter), device: device)
    }
}

extension HLC: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = HLC(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not an HLC timestamp (MILLIS-COUNTER-DEVICE)")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
