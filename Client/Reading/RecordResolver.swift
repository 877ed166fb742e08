import GRDB
import KakehashiShared

/// Short record ids people read in tables and type back.
///
/// UUIDv7 ids made in the same minute share their first 8 hex digits (the time), so the short
/// form comes from the random part: the first ten hex digits of the last group
/// (`0192f1c4-8a3b-7c2d-9e4f-3fa9c2e1b07d` → `3fa9c2e1b0`). Slug ids (programs) are their own
/// short form. Every replica computes the same short id; nothing is stored.
public enum ShortID {
    /// Hex digits in a short id.
    public static let length = 10

    /// The short form of a record id (a slug, or anything that is not a UUID, as it is).
    public static func of(_ id: String) -> String {
        guard RecordID.canonicalUUID(id) != nil else { return id }
        let tail = id.dropFirst(24)
        return String(tail.prefix(length))
    }
}

/// Turns what a person typed for a record — a full id, its short id, or any unique prefix of
/// either — into the record's full id. Every command that takes an id goes through here
/// (`FieldClient.resolveID`), so new commands accept short ids by calling `show`, `update`,
/// `delete` or `resolveID`.
enum RecordResolver {
    /// How many candidates an ambiguity error lists.
    static let candidateLimit = 10

    /// The full id of the one record of `entities` that `text` names.
    ///
    /// Order: a full UUID is taken as it is (the caller checks that it exists); an organization's
    /// 法人番号; then `text` as a prefix of short ids; then as a prefix of full ids. Live records are preferred; deleted
    /// ones count only with `includeDeleted` and when no live record matches.
    /// - Throws: `KakehashiError` (`.invalidData`, naming `field`) when nothing matches, or when
    ///   more than one record does (the message lists the candidates with their titles).
    static func resolve(
        _ text: String, among entities: [Entity], field: String, includeDeleted: Bool = false, in db: Database
    ) throws -> RecordRef {
        let typed = TextNormalization.foldWidth(text).lowercased()
        let label = entities.count == 1 ? entities[0].schema.label : "レコード"
        if let full = RecordID.canonicalUUID(typed) {
            for entity in entities where try exists(entity, full, in: db) {
                return RecordRef(entity: entity, record: full)
            }
            return RecordRef(entity: entities[0], record: full)
        }
        for entity in entities where entity.schema.idFormat == .slug && RecordID.isSlug(typed) {
            if try exists(entity, typed, in: db) { return RecordRef(entity: entity, record: typed) }
        }
        // An organization may also be named by its 法人番号 (13 digits; no id prefix is 13 digits).
        if entities.contains(.organization), typed.count == 13, typed.allSatisfy(\.isASCII),
            typed.allSatisfy(\.isNumber),
            let id = try String.fetchOne(
                db, sql: "SELECT id FROM organizations WHERE corporate_number = ? AND deleted = 0 ORDER BY id",
                arguments: [typed])
        {
            return RecordRef(entity: .organization, record: id)
        }
        let uuidEntities = entities.filter { $0.schema.idFormat == .uuid }
        guard !typed.isEmpty, !uuidEntities.isEmpty,
            typed.allSatisfy({ $0.isHexDigit || $0 == "-" })
        else {
            throw KakehashiError.invalid(
                field, "'\(text)' は\(label)の ID ではありません（一覧の ID 欄の短い ID か、その先頭の数文字を指定してください）")
        }
        var matches: [Candidate] = []
        for deleted in includeDeleted ? [false, true] : [false] {
            for shortForm in [true, false] {
                matches = try candidates(typed, shortForm: shortForm, deleted: deleted, in: uuidEntities, db: db)
                if !matches.isEmpty { break }
            }
            if !matches.isEmpty { break }
        }
        guard let first = matches.first else {
            throw KakehashiError.invalid(field, "ID が '\(text)' で始まる\(label)はこの端末にありません")
        }
        guard matches.count == 1 else {
            let listed = matches.prefix(candidateLimit).map { candidate in
                "\(ShortID.of(candidate.ref.record))  \(candidate.ref.entity.schema.label)  \(candidate.title)"
            }
            let more = matches.count > candidateLimit ? "\n  …ほか \(matches.count - candidateLimit) 件" : ""
            throw KakehashiError(
                .invalidData, field: field,
                "'\(text)' に当てはまる\(label)が \(matches.count) 件あります。もっと長く指定してください:\n  "
                    + listed.joined(separator: "\n  ") + more,
                validValues: matches.map { ShortID.of($0.ref.record) })
        }
        return first.ref
    }

    struct Candidate {
        let ref: RecordRef
        let title: String
    }

    /// Records whose short id (or full id) starts with `prefix`.
    static func candidates(
        _ prefix: String, shortForm: Bool, deleted: Bool, in entities: [Entity], db: Database
    ) throws -> [Candidate] {
        // The short id starts at character 25 of the full id (its last group, 12 hex digits); a
        // prefix with a dash or longer than that group cannot be one.
        if shortForm, prefix.contains("-") || prefix.count > 12 { return [] }
        let start = shortForm ? 25 : 1
        var found: [Candidate] = []
        for entity in entities {
            let table = RecordTable.name(of: entity)
            let titleField = entity.schema.fields.first { ["title", "name", "body"].contains($0.name) }?.name
            let title = titleField.map { "\"\($0)\"" } ?? "''"
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, \(title) AS title FROM \(table)
                    WHERE substr(id, \(start), ?) = ? AND deleted = ? ORDER BY id LIMIT 100
                    """,
                arguments: [prefix.count, prefix, deleted ? 1 : 0])
            for row in rows {
                let text: String = row["title"] ?? ""
                found.append(
                    Candidate(
                        ref: RecordRef(entity: entity, record: row["id"]),
                        title: DisplayWidth.truncate(text.replacingOccurrences(of: "\n", with: " "), to: 40)))
            }
        }
        return found
    }

    static func exists(_ entity: Entity, _ id: String, in db: Database) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM \(RecordTable.name(of: entity)) WHERE id = ?)", arguments: [id])
            ?? false
    }
}

extension FieldClient {
    /// The full id of the record of `entity` that `text` names: its full id, short id (as tables
    /// show it) or any unique prefix of either. Use this for every id a person types.
    /// - Throws: `KakehashiError` (`.invalidData`, naming `field`) for no match or an ambiguous
    ///   prefix (the message lists the candidates).
    public func resolveID(_ text: String, _ entity: Entity, field: String = "id") throws -> String {
        try store.read { db in try RecordResolver.resolve(text, among: [entity], field: field, in: db).record }
    }

    /// The record of any entity that `text` names (for `log`, which takes any record id);
    /// deleted records count when no live one matches.
    public func resolveRecord(_ text: String, field: String = "id") throws -> RecordRef {
        try store.read { db in
            try RecordResolver.resolve(text, among: Entity.allCases, field: field, includeDeleted: true, in: db)
        }
    }
}

extension FieldClient {
    /// How a record is called in text (`conflicts`, `log`): a case's or seed's title, an
    /// organization's or advisor's name, an event's date and kind with its case's title; the
    /// stub label for another program's confidential case; nil when the laptop holds none.
    public func recordTitle(_ ref: RecordRef) throws -> String? {
        try store.read { db in try RecordResolver.title(of: ref, in: db) }
    }
}

extension RecordResolver {
    static func title(of ref: RecordRef, in db: Database) throws -> String? {
        let table = RecordTable.name(of: ref.entity)
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM \(table) WHERE id = ?", arguments: [ref.record])
        else { return nil }
        switch ref.entity {
        case .event:
            let date: String = row["date"] ?? ""
            let kind: String = row["kind"] ?? ""
            let label = Domains.eventKind.label(of: kind) ?? kind
            let caseTitle = try (row["case"] as String?).flatMap {
                try title(of: RecordRef(entity: .case, record: $0), in: db)
            }
            return "\(date) \(label)" + (caseTitle.map { "（\($0)）" } ?? "")
        case .case:
            return (row["title"] as String?) ?? RecordPresenter.stubTitle
        default:
            return (row["title"] as String?) ?? (row["name"] as String?)
        }
    }
}
