import KakehashiShared

/// The opaque history cursor (`GET /v1/history`): the history states stood for that has not been
/// sent yet. `h.AFTER.UPTO` is a bootstrap's, over the whole log; `h.AFTER.UPTO.ENTITY.ID` is
/// scoped to one record a stream page handed out as a state when the device gained it
/// (`PullOperation`): a case with every event logged under it, or one event. The device has the
/// history of what it may see up to sequence number `after`; the rest, up to `upTo` (the head
/// the bootstrap began at, or the cursor of the pull that gained the record), is still to come.
/// Beyond `upTo` the device received changes, not states.
///
/// The cursor grants nothing: a history page is filtered by what the device may see at the time
/// of the request (`HistoryOperation`), so a forged or replayed cursor reads no more than the
/// change stream has handed the device already.
public struct HistoryCursor: Sendable, Hashable, CustomStringConvertible {
    public let after: Int64
    public let upTo: Int64
    /// The record the history is scoped to (a case: the case and its events); nil for the whole
    /// log.
    public let scope: RecordRef?

    public init(after: Int64, upTo: Int64, scope: RecordRef? = nil) {
        self.after = after
        self.upTo = upTo
        self.scope = scope
    }

    /// Parses the text form.
    /// - Throws: `KakehashiError` (`.invalidData`, field `after`) when it is not a history cursor.
    public init(parsing text: String) throws(KakehashiError) {
        let invalid = KakehashiError.invalid(
            "after", "'\(text.prefix(40))' is not a history cursor; use the history or nextCursor the server sent")
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 5, parts[0] == "h",
            parts[1...2].allSatisfy({ !$0.isEmpty && $0.utf8.count <= 18 }),
            let after = Int64(parts[1]), let upTo = Int64(parts[2]), after >= 0, upTo >= after
        else { throw invalid }
        var scope: RecordRef?
        if parts.count == 5 {
            // Only cases and events are handed out as gained states; record ids are UUIDs or
            // slugs: lowercase letters, digits and dashes.
            guard let entity = Entity(rawValue: String(parts[3])), entity == .case || entity == .event,
                !parts[4].isEmpty, parts[4].utf8.count <= 64,
                parts[4].utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D })
            else { throw invalid }
            scope = RecordRef(entity: entity, record: String(parts[4]))
        }
        self.init(after: after, upTo: upTo, scope: scope)
    }

    /// Whether no history is left to send.
    public var isComplete: Bool { after >= upTo }

    /// The same history, from a later position.
    public func advanced(to after: Int64) -> HistoryCursor { HistoryCursor(after: after, upTo: upTo, scope: scope) }

    public var description: String {
        guard let scope else { return "h.\(after).\(upTo)" }
        return "h.\(after).\(upTo).\(scope.entity.rawValue).\(scope.record)"
    }
}
