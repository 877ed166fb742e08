import Foundation

/// A wall clock in Unix milliseconds that moves only when the test moves it: writes that must
/// be ordered are ordered by `advance(by:)`, not by sleeping and hoping the machine is not busy.
package final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var millis: Int64

    /// Starts at `start` (by default 2026-11-18 20:06 in Japan, a working day in the field).
    package init(startingAt start: Int64 = 1_795_000_000_000) { millis = start }

    package var now: Int64 { lock.withLock { millis } }

    package func advance(by milliseconds: Int64) { lock.withLock { millis += milliseconds } }

    /// The clock as the `@Sendable () -> Int64` that `FieldClient` and the test servers take.
    package var reading: @Sendable () -> Int64 { { [self] in now } }
}
