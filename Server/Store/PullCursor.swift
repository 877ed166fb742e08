import KakehashiShared

/// The opaque pull cursor: `SEQ.GENERATION`, or `0` for a device that has pulled nothing.
///
/// `seq` is the last log sequence number the device has scanned. `generation` numbers the pull
/// response that issued the cursor; the server tags the access levels it hands out with it, so a
/// retried pull (the client never stored the response) forgets that response's bookkeeping and
/// sends its purges and back-fill again. Clients must treat the text as opaque.
public struct PullCursor: Sendable, Hashable, CustomStringConvertible {
    public let seq: Int64
    public let generation: Int64

    public init(seq: Int64, generation: Int64) {
        self.seq = seq
        self.generation = generation
    }

    public static let initial = PullCursor(seq: 0, generation: 0)

    /// Parses the text form.
    /// - Throws: `KakehashiError` (`.invalidData`, field `after`) when it is not a cursor.
    public init(parsing text: String) throws(KakehashiError) {
        if text == WireProtocol.initialCursor {
            self = .initial
            return
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 18 }),
            let seq = Int64(parts[0]), let generation = Int64(parts[1]), seq >= 0, generation >= 0
        else {
            throw .invalid(
                "after", "'\(text.prefix(40))' is not a pull cursor; use \"0\" or a nextCursor the server sent")
        }
        self.init(seq: seq, generation: generation)
    }

    public var description: String { seq == 0 && generation == 0 ? WireProtocol.initialCursor : "\(seq).\(generation)" }
}
