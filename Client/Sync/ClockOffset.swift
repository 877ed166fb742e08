/// How far the server's clock is from the laptop's (server time minus laptop time, in
/// milliseconds), estimated from one request: the server read its clock about halfway between
/// sending and receiving.
enum ClockOffset {
    /// Offsets smaller than this are network noise, not a wrong clock.
    static let tolerance: Int64 = 2_000

    /// The offset that `serverTime` implies for a request sent at `sent` and answered at
    /// `received` (laptop time); 0 when it is within `tolerance`.
    static func estimate(serverTime: Int64, sent: Int64, received: Int64) -> Int64 {
        let offset = serverTime - (sent + received) / 2
        return abs(offset) < tolerance ? 0 : offset
    }

    /// Whether a request was quick enough to say anything about the clocks: the midpoint of a
    /// slow transfer can be seconds off.
    static func isTelling(sent: Int64, received: Int64) -> Bool {
        received - sent <= 2 * tolerance
    }
}
