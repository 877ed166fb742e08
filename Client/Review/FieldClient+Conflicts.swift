import GRDB
import KakehashiShared

/// Reviewing and resolving conflicts (`kakehashi conflicts`).
extension FieldClient {
    /// A conflict as a person reviews it: both sides, who wrote them and when.
    public struct ConflictView: Sendable, Encodable {
        public let id: String
        public let entity: Entity
        public let record: String
        public let field: String
        public let kind: Conflict.Kind
        /// The side that currently stands on every replica.
        public let current: Side
        public let other: Side

        public struct Side: Sendable, Encodable {
            public let value: FieldValue
            public let author: String
            public let device: String
            public let time: String
            public let hlc: String
            /// Written by this laptop's advisor.
            public let mine: Bool
        }
    }

    /// How to settle a conflict.
    public enum Resolution: Sendable {
        /// Keep the side this advisor wrote (when neither or both sides are theirs: the current one).
        case mine
        /// Keep the other side.
        case theirs
        /// Write a new value (for a deleted record: restore it with this value).
        case value(String)
    }

    public func conflicts() throws -> [ConflictView] {
        try store.read { db in
            let me = try DeviceIdentity.load(db).advisor
            return try ConflictStore.all(in: db).map { view($0, me: me) }
        }
    }

    func view(_ conflict: Conflict, me: String) -> ConflictView {
        func side(_ write: Write) -> ConflictView.Side {
            let value: FieldValue
            if write == conflict.tombstone {
                value = .string("(deleted)")
            } else if let element = conflict.register.element {
                value = .string((write.value == .bool(true) ? "+" : "−") + element)
            } else {
                value = write.value
            }
            return ConflictView.Side(
                value: value, author: write.author, device: write.hlc.device.rawValue,
                time: HistoryFormatting.time(write.hlc), hlc: write.hlc.description, mine: write.author == me)
        }
        return ConflictView(
            id: ConflictStore.shortID(conflict.id), entity: conflict.entity, record: conflict.record,
            field: conflict.register.field, kind: conflict.kind, current: side(conflict.winner),
            other: side(conflict.loser))
    }

    /// Settles a conflict by writing one change that has seen every side, so it supersedes them
    /// on every replica once synced.
    public func resolve(_ id: String, _ resolution: Resolution) throws {
        try store.write { db in
            let conflict = try Self.conflict(named: id, in: db)
            let me = try DeviceIdentity.load(db).advisor
            let loserIsMine = conflict.loser.author == me && conflict.winner.author != me
            let ref = RecordRef(entity: conflict.entity, record: conflict.record)
            let field = conflict.register.field
            var session = try WriteSession(db: db, wallClock: wallClock())
            // The same checks as any edit: the record must be live (a delete conflict's record
            // may be deleted) and this advisor must be allowed to change it.
            if conflict.tombstone == nil {
                _ = try existing(conflict.entity, conflict.record, session: &session)
            } else if conflict.entity.schema.adminOnly {
                throw KakehashiError(
                    .notAuthorized, field: "id", "\(conflict.entity.rawValue) records are kept by the administrators")
            }
            switch resolution {
            case .mine, .theirs:
                let keepLoser = (resolution.isMine == loserIsMine)
                let keep = keepLoser ? conflict.loser : conflict.winner
                if let tombstone = conflict.tombstone {
                    // Keeping the delete deletes again, having seen the edit; keeping the edit restores.
                    try session.write(.delete, ref, field: nil, value: .bool(keep == tombstone))
                } else if let element = conflict.register.element {
                    try session.write(
                        keep.value == .bool(true) ? .add : .remove, ref, field: field, value: .string(element))
                } else {
                    try session.write(.set, ref, field: field, value: keep.value)
                }
            case .value(let text):
                if conflict.tombstone != nil {
                    try session.write(.delete, ref, field: nil, value: .bool(false))
                }
                if let element = conflict.register.element {
                    let present = try Self.presence(text, field: field)
                    try session.write(present ? .add : .remove, ref, field: field, value: .string(element))
                } else {
                    let parsed = try InputParser(db: db).parse(RecordInput(values: [field: text]), for: conflict.entity)
                    try session.write(.set, ref, field: field, value: parsed.values[field] ?? .null)
                }
            }
            try session.commit()
        }
    }

    /// The conflict `text` names: its id, short id, or a unique prefix of the short id.
    static func conflict(named text: String, in db: Database) throws -> Conflict {
        let typed = TextNormalization.foldWidth(text).lowercased()
        if let exact = try ConflictStore.find(typed, in: db) { return exact }
        let matches = try ConflictStore.all(in: db).filter {
            !typed.isEmpty && ConflictStore.shortID($0.id).hasPrefix(typed)
        }
        guard let first = matches.first else {
            throw KakehashiError.invalid("id", "no conflict '\(text)'; `kakehashi conflicts` lists them")
        }
        guard matches.count == 1 else {
            let listed = matches.map {
                "\(ConflictStore.shortID($0.id))  \($0.entity.schema.label)  \($0.register.field)"
            }
            throw KakehashiError(
                .invalidData, field: "id",
                "'\(text)' に当てはまる競合が \(matches.count) 件あります。もっと長く指定してください:\n  "
                    + listed.joined(separator: "\n  "),
                validValues: matches.map { ConflictStore.shortID($0.id) })
        }
        return first
    }

    /// Reads whether a set element should stay (`--value true`) or go (`--value false`).
    static func presence(_ text: String, field: String) throws -> Bool {
        switch TextNormalization.normalize(text).lowercased() {
        case "true", "yes", "add", "1": return true
        case "false", "no", "remove", "0": return false
        default:
            throw KakehashiError.invalid(
                field, "for a set element give true (keep it) or false (remove it)", validValues: ["true", "false"])
        }
    }
}

extension FieldClient.Resolution {
    var isMine: Bool {
        if case .mine = self { true } else { false }
    }
}
