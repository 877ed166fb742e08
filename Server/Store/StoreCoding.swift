import Foundation
import KakehashiShared

/// The JSON forms the stores keep changes and record states in: sorted keys, so equal values are
/// equal bytes in both databases.
enum StoreCoding {
    static func encode(_ change: Change) throws -> String {
        String(decoding: try encoder.encode(change), as: UTF8.self)
    }

    static func encode(_ state: RecordState) throws -> String {
        String(decoding: try encoder.encode(state), as: UTF8.self)
    }

    static func change(_ text: String) throws -> Change {
        try JSONDecoder().decode(Change.self, from: Data(text.utf8))
    }

    static func state(_ text: String) throws -> RecordState {
        try JSONDecoder().decode(RecordState.self, from: Data(text.utf8))
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Splits `items` into chunks small enough for one `IN (…)` list.
    static func chunks<T>(_ items: [T], size: Int = 500) -> [ArraySlice<T>] {
        stride(from: 0, to: items.count, by: size).map { items[$0..<min($0 + size, items.count)] }
    }

    /// The error both stores throw when a page needs a full reconciliation that `ReconcileGate`
    /// does not allow now.
    static let reconcileThrottled = KakehashiError(
        .unavailable, field: "reconcile",
        "this device had every case compared again a moment ago; pull again in a few seconds")

    /// The error both stores throw for a cursor they never issued.
    static func unknownCursor(_ cursor: PullCursor) -> KakehashiError {
        .invalid(
            "after", "cursor \(cursor) was not issued to this device; pull again from \"0\" or the last nextCursor")
    }

    /// The stub-field filter for a stub back-fill (`field` nil: a delete, which stubs receive).
    static func isStubField(_ field: String?) -> Bool {
        AccessPolicy.mayReceive(caseField: field, with: .stub)
    }
}
