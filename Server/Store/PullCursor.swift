import KakehashiShared

/// The opaque pull cursor: `SEQ.GENERATION`, `0` for a device that has pulled nothing, or
/// `SEQ.GENERATION.ENTITY.AFTER` while a bootstrap sends states.
///
/// `seq` is the last log sequence number the device has scanned (during a bootstrap: the log's
/// head when the bootstrap began; the stream goes on from there). `generation` numbers the pull
/// response that issued the cursor; the server tags the access levels it hands out with it, so a
/// retried pull (the client never stored the response) forgets that response's bookkeeping and
/// sends its purges and back-fill again. Clients must treat the text as opaque.
public struct PullCursor: Sendable, Hashable, CustomStringConvertible {
    public let seq: Int64
    public let generation: Int64
    /// Where a bootstrap stands (`BootstrapOperation`); nil for a cursor in the change stream.
    public let bootstrap: BootstrapPosition?

    /// The next states a bootstrap sends: those of `entity` with an id above `after` (empty: from
    /// the entity's first).
    public struct BootstrapPosition: Sendable, Hashable {
        public let entity: Entity
        public let after: String

        public init(entity: Entity, after: String) {
            self.entity = entity
            self.after = after
        }
    }

    public init(seq: Int64, generation: Int64, bootstrap: BootstrapPosition? = nil) {
        self.seq = seq
        self.generation = generation
        self.bootstrap = bootstrap
    }

    public static let initial = PullCursor(seq: 0, generation: 0)

    /// Whether a pull from this cursor is answered with states (`BootstrapOperation`): a
    /// bootstrap cursor, or `0` when the client asks for states.
    public func bootstraps(askingStates states: Bool) -> Bool { bootstrap != nil || (states && self == .initial) }

    /// Parses the text form.
    /// - Throws: `KakehashiError` (`.invalidData`, field `after`) when it is not a cursor.
    public init(parsing text: String) throws(KakehashiError) {
        if text == WireProtocol.initialCursor {
            self = .initial
            return
        }
        let invalid = KakehashiError.invalid(
            "after", "'\(text.prefix(40))' is not a pull cursor; use \"0\" or a nextCursor the server sent")
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 4, parts[0...1].allSatisfy({ !$0.isEmpty && $0.utf8.count <= 18 }),
            let seq = Int64(parts[0]), let generation = Int64(parts[1]), seq >= 0, generation >= 0
        else { throw invalid }
        var bootstrap: BootstrapPosition?
        if parts.count == 4 {
            // Record ids are UUIDs or slugs: lowercase letters, digits and dashes.
            guard let entity = Entity(rawValue: String(parts[2])), parts[3].utf8.count <= 64,
                parts[3].utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D })
            else { throw invalid }
            bootstrap = BootstrapPosition(entity: entity, after: String(parts[3]))
        }
        self.init(seq: seq, generation: generation, bootstrap: bootstrap)
    }

    public var description: String {
        if let bootstrap { return "\(seq).\(generation).\(bootstrap.entity.rawValue).\(bootstrap.after)" }
        return seq == 0 && generation == 0 ? WireProtocol.initialCursor : "\(seq).\(generation)"
    }
}
