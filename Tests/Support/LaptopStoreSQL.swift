/// Expressions over a laptop store's `changes` rows (local store migration `v8-compact`) that give
/// a change's id and timestamp in their text forms, for tests that compare stores with SQL: the
/// numbers in a row mean different names in different stores.
package enum LaptopStoreSQL {
    /// `DEVICE:COUNTER`: the row key holds the device's number above 43 bits of counter.
    package static let changeID =
        "((SELECT name FROM change_names WHERE code = changes.id >> 43) || ':' || (changes.id & 8796093022207))"

    /// The record id as text: a UUID is stored as its 16 bytes, any other id as text.
    package static let record = """
        (CASE typeof(record) WHEN 'blob' THEN lower(
            substr(hex(record), 1, 8) || '-' || substr(hex(record), 9, 4) || '-' || substr(hex(record), 13, 4) || '-'
            || substr(hex(record), 17, 4) || '-' || substr(hex(record), 21)) ELSE record END)
        """

    /// `0001763700000000-000000-device`, as `HLC.description` writes it.
    package static let hlc =
        "(printf('%016d-%06d-', hlc_millis, hlc_counter) || (SELECT name FROM change_names WHERE code = hlc_device))"
}
