/// Turns one local edit into a `Change`: stamps it with the device's clock, numbers it, and
/// records which heads the author saw as `prev`.
///
/// Every local write on every replica goes through here, so `prev` always means "the heads of
/// this register as the author saw them" (Docs/data-model.md).
public struct ChangeMaker: Sendable {
    public private(set) var clock: HybridClock
    /// The counter of the last change this device made.
    public private(set) var counter: Int64
    public let author: String

    public init(clock: HybridClock, counter: Int64 = 0, author: String) {
        self.clock = clock
        self.counter = counter
        self.author = author
    }

    public var device: DeviceID { clock.device }

    /// A change writing `value` to `register` of the record whose current state is `state`.
    /// - Parameters:
    ///   - state: the record as this replica holds it now, or nil for a new record.
    ///   - wallMillis: the local wall clock, already corrected for known skew.
    public mutating func make(
        _ op: Change.Operation, entity: Entity, record: String, field: String?, value: FieldValue,
        state: RecordState?, wallMillis: Int64
    ) -> Change {
        counter += 1
        let id = ChangeID(device: device, counter: counter)
        let register = Change(
            id: id, entity: entity, record: record, field: field, op: op, value: value, hlc: clock.last, prev: [],
            author: author
        ).register
        let prev = state?.prev(for: register) ?? []
        if let newest = prev.max() { clock.advance(past: newest) }
        return Change(
            id: id, entity: entity, record: record, field: field, op: op, value: value,
            hlc: clock.tick(wallMillis: wallMillis), prev: prev, author: author)
    }

    /// Folds a received change's timestamp into the clock (see `HybridClock.receive`).
    public mutating func observe(_ hlc: HLC, wallMillis: Int64) throws(KakehashiError) {
        try clock.receive(hlc, wallMillis: wallMillis)
    }
}
