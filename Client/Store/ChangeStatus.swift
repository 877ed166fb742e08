/// Where one of the laptop's changes stands, as the `changes.status` column stores it.
public enum ChangeStatus: String, Sendable, CaseIterable {
    /// Written here and not yet accepted by the server: the push queue.
    case pending
    /// Held by the server (pushed and answered, or pulled from it).
    case synced
    /// Refused by the server; the record went back to what the server holds (its text is in the
    /// refused store).
    case rejected
    /// Refused for a clock far ahead and written again with the corrected clock: the new change
    /// replaces it.
    case restamped

    /// `status = 'VALUE'`, the condition a statement selects these changes with. The status is
    /// written into the statement, not bound: only then does SQLite see that the partial index of
    /// pending or rejected changes (`changes_pending`, `changes_rejected`) holds every row asked
    /// for; with a bound value it reads every change of the store instead.
    var condition: String { "status = '\(rawValue)'" }

    /// How `kakehashi log` names it.
    public var label: String {
        switch self {
        case .pending: "未送信"
        case .synced: "送信済"
        case .rejected: "拒否"
        case .restamped: "再記録"
        }
    }
}
