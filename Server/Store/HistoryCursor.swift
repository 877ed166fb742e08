import KakehashiShared

/// The opaque history cursor (`GET /v1/history`): `h.AFTER.UPTO`, the history a bootstrap left
/// out. The device has the history of what it may see up to sequence number `after`; the rest,
/// up to `upTo` (the head the bootstrap began at), is still to come. Beyond `upTo` the device
/// received changes, not states.
public struct HistoryCursor: Sendable, Hashable, CustomStringConvertible {
    public let after: Int64
    public let upTo: Int64

    public init(after: Int64, upTo: Int64) {
        self.after = after
        self.upTo = upTo
    }

    /// Parses the text form.
    /// - Throws: `KakehashiError` (`.invalidData`, field `after`) when it is not a history cursor.
    public init(parsing text: String) throws(KakehashiError) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "h", parts[1...].allSatisfy({ !$0.isEmpty && $0.utf8.count <= 18 }),
            let after = Int64(parts[1]), let upTo = Int64(parts[2]), after >= 0, upTo >= after
        else {
            throw .invalid(
                "after", "'\(text.prefix(40))' is not a history cursor; use the history or nextCursor the server sent")
        }
        self.init(after: after, upTo: upTo)
    }

    /// Whether no history is left to send.
    public var isComplete: Bool { after >= upTo }

    public var description: String { "h.\(after).\(upTo)" }
}
