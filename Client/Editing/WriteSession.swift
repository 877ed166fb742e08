import GRDB
import KakehashiShared

/// One command's writes, inside one transaction: makes the changes (with the device's clock and
/// counter, and `prev` from the record as it stands, including this session's earlier writes),
/// then applies them all and saves the device row together.
struct WriteSession {
    let db: Database
    private(set) var identity: DeviceIdentity
    private var maker: ChangeMaker
    let wallMillis: Int64
    private var states: [RecordRef: RecordState] = [:]
    private(set) var changes: [Change] = []

    init(db: Database, wallClock: Int64) throws {
        self.db = db
        identity = try DeviceIdentity.load(db)
        maker = identity.changeMaker
        wallMillis = wallClock + identity.clockOffset
    }

    var advisor: String { identity.advisor }

    mutating func state(_ ref: RecordRef) throws -> RecordState? {
        if let cached = states[ref] { return cached }
        let loaded = try ChangeApplier.loadState(ref, in: db)
        states[ref] = loaded
        return loaded
    }

    mutating func write(_ op: Change.Operation, _ ref: RecordRef, field: String?, value: FieldValue) throws {
        let current = try state(ref)
        let change = maker.make(
            op, entity: ref.entity, record: ref.record, field: field, value: value, state: current,
            wallMillis: wallMillis)
        var updated = current ?? RecordState(entity: ref.entity, id: ref.record)
        updated.apply(change)
        states[ref] = updated
        changes.append(change)
    }

    /// Writes a set field so that it holds exactly `elements`.
    mutating func replaceSet(_ ref: RecordRef, field: String, with elements: [String]) throws {
        let current = Set(try state(ref)?.elements(field) ?? [])
        let wanted = Set(elements)
        for element in elements where !current.contains(element) {
            try write(.add, ref, field: field, value: .string(element))
        }
        for element in current.subtracting(wanted).sorted() {
            try write(.remove, ref, field: field, value: .string(element))
        }
    }

    /// Stores every change made in this session and the advanced device counter and clock.
    mutating func commit() throws {
        _ = try ChangeApplier.apply(changes, local: true, in: db)
        identity.update(from: maker)
        try identity.save(db)
    }
}
