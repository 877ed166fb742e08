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
