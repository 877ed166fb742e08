import Foundation
import KakehashiShared

/// The field client's library entry point: everything `kakehashi` does, on one local store.
///
/// Every write validates first, then stores the new state and its changes in one transaction;
/// nothing here needs the network except `sync` and `enroll`.
public struct FieldClient: Sendable {
    public let store: LocalStore
    /// The laptop's wall clock in Unix milliseconds (injected so tests can skew it).
    let wallClock: @Sendable () -> Int64

    /// The system clock, shifted by `KAKEHASHI_TEST_CLOCK_SKEW_SECONDS` when that is set: a test hook that
    /// lets end-to-end tests play a laptop whose clock is wrong by hours with the real executable.
    public static let systemClock: @Sendable () -> Int64 = {
        let skew = ProcessInfo.processInfo.environment["KAKEHASHI_TEST_CLOCK_SKEW_SECONDS"].flatMap(Int64.init) ?? 0
        return { Int64(Date().timeIntervalSince1970 * 1000) + skew * 1000 }
    }()

    public init(store: LocalStore, wallClock: @escaping @Sendable () -> Int64 = FieldClient.systemClock) {
        self.store = store
        self.wallClock = wallClock
    }

    /// Opens the enrolled store in `directory`.
    public static func open(
        directory: String, wallClock: @escaping @Sendable () -> Int64 = FieldClient.systemClock
    ) throws -> FieldClient {
        let client = FieldClient(store: try LocalStore.open(directory: directory), wallClock: wallClock)
        _ = try client.identity()
        return client
    }

    public func identity() throws -> DeviceIdentity {
        try store.read { try DeviceIdentity.load($0) }
    }

    /// Today's date in Japan, the default date of an activity record.
    func today() throws -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Tokyo") ?? .gmt
        let millis = wallClock() + (try identity().clockOffset)
        let parts = calendar.dateComponents(
            [.year, .month, .day], from: Date(timeIntervalSince1970: Double(millis) / 1000))
        return CalendarDate(year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1)?.description
            ?? "1970-01-01"
    }
}
