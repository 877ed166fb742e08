import KakehashiShared
import Testing

@Suite struct HybridClockTests {
    let deviceA = DeviceID("laptop-a")!
    let deviceB = DeviceID("laptop-b")!

    @Test func orderIsMillisThenCounterThenDevice() {
        let a = HLC(millis: 100, counter: 0, device: deviceA)
        let b = HLC(millis: 100, counter: 0, device: deviceB)
        #expect(a < b)
        #expect(HLC(millis: 100, counter: 1, device: deviceA) > b)
        #expect(HLC(millis: 101, counter: 0, device: deviceA) > HLC(millis: 100, counter: 9, device: deviceB))
    }

    @Test func textFormRoundTripsAndSortsLikeTheValue() {
        let stamps = [
            HLC(millis: 9, counter: 0, device: deviceB), HLC(millis: 1_763_700_000_000, counter: 12, device: deviceA),
            HLC(millis: 1_763_700_000_000, counter: 2, device: deviceB),
            HLC(millis: 1_763_700_000_000, counter: 2, device: deviceA),
        ]
        for stamp in stamps { #expect(HLC(stamp.description) == stamp) }
        #expect(stamps.sorted().map(\.description) == stamps.map(\.description).sorted())
        #expect(HLC("12-0-a") == nil)
    }

    @Test func monotonicWhenTheWallClockJumpsBackwards() {
        var clock = HybridClock(device: deviceA)
        let first = clock.tick(wallMillis: 1_000_000)
        let second = clock.tick(wallMillis: 400_000)  // clock set back by ten minutes
        let third = clock.tick(wallMillis: 400_001)
        #expect(first < second && second < third)
        #expect(third.millis == 1_000_000)
    }

    @Test func sameMillisecondWritesGetIncreasingCounters() {
        var clock = HybridClock(device: deviceA)
        let stamps = (0..<5).map { _ in clock.tick(wallMillis: 42) }
        #expect(stamps.map(\.counter) == [0, 1, 2, 3, 4])
    }

    @Test func counterOverflowMovesToTheNextMillisecond() {
        var clock = HybridClock(device: deviceA, last: HLC(millis: 42, counter: HLC.maxCounter, device: deviceA))
        let next = clock.tick(wallMillis: 42)
        #expect(next.millis == 43 && next.counter == 0)
    }

    @Test func receiveOrdersLaterLocalEventsAfterTheRemoteOne() throws {
        var clock = HybridClock(device: deviceA)
        _ = clock.tick(wallMillis: 1_000)
        let remote = HLC(millis: 5_000, counter: 7, device: deviceB)
        try clock.receive(remote, wallMillis: 1_000)
        let next = clock.tick(wallMillis: 1_001)
        #expect(next > remote)
    }

    @Test func receiveRefusesTimestampsTooFarAheadAndKeepsItsState() throws {
        var clock = HybridClock(device: deviceA, maxDriftMillis: 60_000)
        _ = clock.tick(wallMillis: 1_000)
        let before = clock
        let farAhead = HLC(millis: 1_000 + 3 * 3_600_000, counter: 0, device: deviceB)
        let error = #expect(throws: KakehashiError.self) { try clock.receive(farAhead, wallMillis: 1_000) }
        #expect(error?.field == "hlc")
        #expect(clock == before)
        try clock.receive(HLC(millis: 61_000, counter: 0, device: deviceB), wallMillis: 1_000)
        #expect(clock.last.millis == 61_000)
    }
}
