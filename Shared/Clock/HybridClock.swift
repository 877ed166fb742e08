/// The hybrid logical clock of one device.
///
/// The clock never issues a timestamp lower than one it issued or received before, even when the
/// wall clock jumps backwards, and it refuses received timestamps that are implausibly far ahead
/// of the local wall clock, so one device with a clock set to next year cannot drag every other
/// replica's clock along with it. Reading the wall clock is the caller's job: Shared does no I/O.
public struct HybridClock: Sendable, Hashable {
    public let device: DeviceID
    /// The highest timestamp issued or received so far.
    public private(set) var last: HLC
    /// How far ahead of the local wall clock a received timestamp may be, in milliseconds.
    public let maxDriftMillis: Int64

    /// Five minutes: generous for laptops whose clocks are merely sloppy; a clock hours ahead is
    /// corrected by the client using the server's time before it writes (Docs/data-model.md).
    public static let defaultMaxDriftMillis: Int64 = 5 * 60 * 1000

    public init(device: DeviceID, last: HLC? = nil, maxDriftMillis: Int64 = defaultMaxDriftMillis) {
        self.device = device
        self.last = last ?? HLC(millis: 0, counter: 0, device: device)
        self.maxDriftMillis = maxDriftMillis
    }

    /// A new timestamp for a local event, strictly greater than every earlier one.
    /// - Parameter wallMillis: the local wall clock (already corrected for known skew).
    public mutating func tick(wallMillis: Int64) -> HLC {
        let next: HLC
        if wallMillis > last.millis {
            next = HLC(millis: wallMillis, counter: 0, device: device)
        } else if last.counter < HLC.maxCounter {
            next = HLC(millis: last.millis, counter: last.counter + 1, device: device)
        } else {
            next = HLC(millis: last.millis + 1, counter: 0, device: device)
        }
        last = next
        return next
    }

    /// Folds a timestamp received from another replica into this clock, so the next local event
    /// orders after it.
    /// - Throws: `KakehashiError` (`.invalidData`, field `hlc`) when `remote` is more than
    ///   `maxDriftMillis` ahead of `wallMillis`; the clock is left unchanged.
    public mutating func receive(_ remote: HLC, wallMillis: Int64) throws(KakehashiError) {
        try checkDrift(remote, wallMillis: wallMillis)
        if remote.millis > last.millis || (remote.millis == last.millis && remote.counter > last.counter) {
            last = HLC(millis: remote.millis, counter: remote.counter, device: device)
        }
    }

    /// Moves the clock past `seen` without a drift check, so a local write always orders after
    /// every value its author saw (its `prev`), even if the clock refused that value earlier.
    public mutating func advance(past seen: HLC) {
        if seen.millis > last.millis || (seen.millis == last.millis && seen.counter > last.counter) {
            last = HLC(millis: seen.millis, counter: seen.counter, device: device)
        }
    }

    /// Throws when `remote` is further ahead of the wall clock than this clock accepts.
    public func checkDrift(_ remote: HLC, wallMillis: Int64) throws(KakehashiError) {
        let ahead = remote.millis - wallMillis
        guard ahead <= maxDriftMillis else {
            throw KakehashiError(
                .invalidData, field: "hlc",
                "timestamp \(remote) is \(ahead / 1000) s ahead of this clock; at most \(maxDriftMillis / 1000) s is accepted — check the device's clock"
            )
        }
    }
}
