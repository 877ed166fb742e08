/// Bounds that keep one device from bloating a shared record (and every replica that holds it)
/// or stalling the writers who wait behind a huge record's rewrite.
public enum RecordLimits {
    /// Timestamps a `set`, `add` or `remove` may list in `prev`: the heads of one register, which
    /// are more than one only while concurrent writes stand unresolved.
    public static let maxPrev = 64
    /// Unresolved concurrent values one register may hold. With more, a new write would need a
    /// `prev` over `maxPrev`, so the writes that would exceed it are refused instead.
    public static var maxHeads: Int { maxPrev }
    /// Timestamps a `delete` may list: the heads of every register of the record.
    public static let maxDeletePrev = 2_048
    /// Elements one set field of a record may hold (participants, organizations, tags, …).
    public static let maxSetElements = 500
    /// The largest a record's merged state may grow, as `estimatedBytes` counts it. Each edit
    /// that supersedes a value adds about 48 bytes, so a record can take some 20,000 edits; a
    /// case edited every working day for decades stays far below it.
    public static let maxStateBytes = 1024 * 1024

    /// What one write adds to a state at most: its value, its timestamps, its ids and keys.
    public static func estimatedBytes(of change: Change) -> Int {
        let key = change.register
        return 2 * (64 + key.field.utf8.count + (key.element?.utf8.count ?? 0)) + 192
            + change.value.displayText.utf8.count + 48 * change.prev.count
    }
}

extension RecordState {
    /// An upper estimate of the state's encoded size: heads with their values and `prev` lists,
    /// and the superseded timestamps, which grow with every write.
    public var estimatedBytes: Int {
        func keyBytes(_ key: RegisterKey) -> Int { 64 + key.field.utf8.count + (key.element?.utf8.count ?? 0) }
        var total = 64 + id.utf8.count
        for (key, writes) in heads {
            total += keyBytes(key)
            for write in writes { total += 192 + write.value.displayText.utf8.count + 48 * write.prev.count }
        }
        for (key, hlcs) in superseded { total += keyBytes(key) + 48 * hlcs.count }
        return total
    }
}
