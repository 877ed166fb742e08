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
        let millisText = String(millis)
        let counterText = String(counter)
        return String(repeating: "0", count: max(0, 16 - millisText.count)) + millisText + "-"
            + String(repeating: "0", count: max(0, 6 - counterText.count)) + counterText + "-" + device.rawValue
    }

    /// Reads the text form; nil when it is malformed.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 16, parts[1].count == 6,
            let millis = Int64(parts[0]), millis >= 0,
            let counter = UInt32(parts[1]), counter <= Self.maxCounter,
            let device = DeviceID(String(parts[2]))
        else { return nil }
        self.init(millis: millis, counter: counter, device: device)
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
