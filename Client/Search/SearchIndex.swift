import Foundation
import GRDB
import KakehashiSQLite
import KakehashiShared

/// The offline full-text index (SQLite FTS5, `trigram` tokenizer) over every searchable field of
/// cases, events, organizations, seeds and needs, in the folded form of `SearchFolding` (width,
/// case, long-vowel mark), queries folded alike. It holds only what this laptop holds, which is
/// only what its advisor may see: stubs carry no searchable text.
public enum SearchIndex {
    /// One hit: which record, its title, and a short excerpt around the first matched term.
    public struct Hit: Sendable, Hashable, Codable {
        public let entity: Entity
        public let id: String
        public let title: String
        public let excerpt: String
        /// Higher is more relevant.
        public let score: Double
        /// The query terms found in the record (for `match`, the need's keywords).
        public let matched: [String]
        /// For a seed in `match`: whether it is open to licensing (ライセンス可).
        public var licensable: Bool?

        init(
            entity: Entity, id: String, title: String, excerpt: String, score: Double, matched: [String],
            licensable: Bool? = nil
        ) {
            self.entity = entity
            self.id = id
            self.title = title
            self.excerpt = excerpt
            self.score = score
            self.matched = matched
            self.licensable = licensable
        }
    }

    static let indexedEntities: Set<Entity> = [.case, .event, .organization, .seed, .need]

    /// A record's entry sits under its `record_states` rowid (found by the state table's key, so
    /// it is replaced without a scan). Records get rowids in the order they arrive, and FTS5
    /// stores each trigram's list of records as steps from one rowid to the next: small steps
    /// of a byte or two, where the hash of the id used before migration v8 made every step 7
    /// bytes and the index twice the size.
    static func rowid(_ ref: RecordRef, in db: Database) throws -> Int64? {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT rowid FROM record_states WHERE entity = ? AND id = ?"),
            arguments: [ref.entity.rawValue, ref.record])
    }

    /// Indexes a record's stored state (`ChangeApplier.save` stores it first).
    /// - Parameter stored: its `record_states` rowid, when the caller has it.
    static func update(
        _ state: RecordState, rowid stored: Int64? = nil, replacing: Bool = true, in db: Database
    )
        throws
    {
        guard let rowid = try stored ?? Self.rowid(RecordRef(entity: state.entity, record: state.id), in: db) else {
            return
        }
        var indexer = try Indexer(db)
        try indexer.update(state, rowid: rowid, replacing: replacing)
    }

    /// The statements that keep records' entries, bound value by value (`BoundStatement`), for the
    /// records of a pulled page.
    struct Indexer {
        private var delete: BoundStatement
        private var insert: BoundStatement

        init(_ db: Database) throws {
            delete = try BoundStatement(db, sql: "DELETE FROM search WHERE rowid = ?")
            // Only the folded text: a hit's title and excerpt are read from the record's state
            // (`displayTexts`), which holds the text as written already.
            insert = try BoundStatement(
                db,
                sql: """
                    INSERT INTO search (rowid, entity, record, title, content, folded_title, folded_content)
                    VALUES (?, ?, ?, NULL, NULL, ?, ?)
                    """)
        }

        /// Indexes a record's stored state under its `record_states` rowid.
        /// - Parameter replacing: the record may have an entry already, which goes first.
        mutating func update(_ state: RecordState, rowid: Int64, replacing: Bool) throws {
            if replacing {
                delete.begin()
                delete.bind(rowid)
                try delete.execute()
            }
            guard indexedEntities.contains(state.entity), !state.isDeleted else { return }
            let (title, content) = texts(of: state)
            guard !title.isEmpty || !content.isEmpty else { return }
            insert.begin()
            insert.bind(rowid)
            insert.bind(state.entity.rawValue)
            insert.bind(state.id)
            insert.bind(SearchFolding.fold(title))
            insert.bind(SearchFolding.fold(content))
            try insert.execute()
        }
    }

    /// Indexes every record of the store again, in one pass: after a bootstrap (its pages leave
    /// the index to this pass, `DeviceIdentity.indexPending`) and when the index's form changes.
    static func rebuild(in db: Database) throws {
        try db.execute(sql: "DELETE FROM search")
        // One set of statements for the pass, and columns read by position: a bootstrap's pass
        // indexes every record of the store with the server idle.
        var indexer = try Indexer(db)
        let rows = try Row.fetchCursor(db, sql: "SELECT rowid, entity, id, state FROM record_states ORDER BY rowid")
        while let row = try rows.next() {
            guard let entity = Entity(rawValue: row[1]), indexedEntities.contains(entity) else { continue }
            let data: Data = row[3]
            try indexer.update(
                RecordState(entity: entity, id: row[2], binary: [UInt8](data)), rowid: row[0], replacing: false)
        }
    }

    /// The title and content as written of a hit's record (`row`: its `entity`, `record`, `title`
    /// and `content` in the index), from the record's merged state: the store's index keeps only
    /// the folded text, its `title` and `content` are empty. An index of its own without states
    /// (`MatchingEvaluation`) keeps the text as written there.
    static func displayTexts(_ row: Row, in db: Database) throws -> (title: String, content: String) {
        let title: String? = row["title"]
        let content: String? = row["content"]
        if title != nil || content != nil { return (title ?? "", content ?? "") }
        guard let entity = Entity(rawValue: row["entity"]),
            let state = try ChangeApplier.loadState(RecordRef(entity: entity, record: row["record"]), in: db)
        else { return ("", "") }
        return texts(of: state)
    }

    /// Removes a record's entry; call it before its state is deleted.
    static func remove(_ ref: RecordRef, in db: Database) throws {
        guard let rowid = try Self.rowid(ref, in: db) else { return }
        try db.run("DELETE FROM search WHERE rowid = ?", [rowid])
    }

    /// The title (the first searchable text field) and the rest of the searchable text.
    static func texts(of state: RecordState) -> (title: String, content: String) {
        let searchable = searchableFields[state.entity] ?? []
        var title = ""
        var content: [String] = []
        for field in searchable {
            let text =
                field.isSet ? state.elements(field.name).joined(separator: " ") : state.value(field.name).displayText
            guard !text.isEmpty else { continue }
            if title.isEmpty, !field.isSet, field.name == "title" || field.name == "name" {
                title = text
            } else {
                content.append(text)
            }
        }
        return (title, content.joined(separator: "\n"))
    }

    /// Each entity's searchable fields, in schema order.
    private static let searchableFields: [Entity: [FieldSpec]] = Dictionary(
        uniqueKeysWithValues: Entity.allCases.map { ($0, $0.schema.fields.filter(\.searchable)) })

    /// Records containing every whitespace-separated term of `query`, best first.
    ///
    /// Terms are folded (`SearchFolding`) like the indexed text. Terms of three or more
    /// characters use the trigram index (ranked by bm25); shorter terms (「知財」, 「銅」) cannot be
    /// trigram-matched and are found with LIKE over the folded text.
    public static func search(
        _ query: String, entities: Set<Entity>? = nil, limit: Int, in db: Database
    ) throws
        -> [Hit]
    {
        let terms = SearchFolding.fold(TextNormalization.normalize(query)).split(whereSeparator: \.isWhitespace)
            .map(String.init)
        guard !terms.isEmpty else {
            throw KakehashiError.invalid("query", "is empty; give one or more words to search for")
        }
        let long = terms.filter { $0.count >= 3 }
        let short = terms.filter { $0.count < 3 }
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if !long.isEmpty {
            conditions.append("search MATCH ?")
            arguments.append(long.map(phrase).joined(separator: " AND "))
        }
        for term in short {
            conditions.append("(folded_title LIKE ? ESCAPE '\\' OR folded_content LIKE ? ESCAPE '\\')")
            arguments += [likePattern(term), likePattern(term)]
        }
        if let entities {
            conditions.append("entity IN (\(entities.map { _ in "?" }.joined(separator: ", ")))")
            arguments += entities.map(\.rawValue).sorted()
        }
        let rank = long.isEmpty ? "0.0" : "rank"
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT entity, record, title, content, \(rank) AS score FROM search
                WHERE \(conditions.joined(separator: " AND "))
                ORDER BY \(long.isEmpty ? "record DESC" : "rank") LIMIT ?
                """,
            arguments: StatementArguments(arguments + [limit]))
        return try rows.compactMap { row in try hit(row, terms: terms, score: -(row["score"] as Double? ?? 0), in: db) }
    }

    static func hit(_ row: Row, terms: [String], score: Double, in db: Database) throws -> Hit? {
        let entityText: String = row["entity"]
        guard let entity = Entity(rawValue: entityText) else { return nil }
        let (title, content) = try displayTexts(row, in: db)
        let haystack = SearchFolding.fold(title + "\n" + content)
        let matched = terms.filter { haystack.contains(SearchFolding.fold($0)) }
        return Hit(
            entity: entity, id: row["record"], title: title, excerpt: excerpt(content, around: matched.first),
            score: score, matched: matched)
    }

    /// About 40 characters of `content` around the first occurrence of `term` (however it is
    /// spelled there: `SearchFolding`), on one line.
    static func excerpt(_ content: String, around term: String?) -> String {
        let flat = Array(content.replacingOccurrences(of: "\n", with: " "))
        guard let term, let range = SearchFolding.find(term, in: String(flat)) else {
            return String(flat.prefix(40))
        }
        // Little before the match, so it stays in view when a table shortens the excerpt.
        let start = max(0, range.lowerBound - 6)
        let end = min(flat.count, range.upperBound + 34)
        return (start > 0 ? "…" : "") + String(flat[start..<end]) + (end < flat.count ? "…" : "")
    }

    static func phrase(_ term: String) -> String { "\"" + term.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    static func likePattern(_ term: String) -> String {
        let escaped = term.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        return "%" + escaped + "%"
    }
}
