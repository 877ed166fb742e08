import GRDB
import KakehashiShared

/// Ranks seeds (シーズ) for a need (ニーズ): the need's keywords and tags are looked up in the
/// seeds' indexed text; keywords of three or more characters are scored by FTS5's bm25, shorter
/// ones (two-kanji words such as 知財) by a fixed weight per hit. Each result lists the keywords
/// it matched, so an advisor can see why a seed was suggested.
public enum SeedMatcher {
    /// Weight of one short keyword hit, comparable to a typical bm25 contribution.
    static let shortTermWeight = 1.0

    public static func keywords(for need: RecordState) -> [String] {
        var terms = KeywordExtractor.keywords(
            in: need.value("title").displayText + "\n" + need.value("description").displayText)
        for tag in need.elements("tags") where !terms.contains(tag) { terms.append(tag) }
        return terms
    }

    public static func match(need: RecordState, limit: Int, in db: Database) throws -> [SearchIndex.Hit] {
        let terms = keywords(for: need)
        guard !terms.isEmpty else { return [] }
        var scores: [String: (row: Row, score: Double)] = [:]
        let long = terms.filter { $0.count >= 3 }
        if !long.isEmpty {
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT entity, record, title, content, rank FROM search
                    WHERE search MATCH ? AND entity = 'seed'
                    """,
                arguments: [long.map(SearchIndex.phrase).joined(separator: " OR ")])
            for row in rows {
                let rank: Double = row["rank"]
                scores[row["record"]] = (row, -rank)
            }
        }
        for term in terms where term.count < 3 {
            let pattern = SearchIndex.likePattern(term)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT entity, record, title, content FROM search
                    WHERE entity = 'seed' AND (title LIKE ? ESCAPE '\\' OR content LIKE ? ESCAPE '\\')
                    """,
                arguments: [pattern, pattern])
            for row in rows {
                let id: String = row["record"]
                scores[id] = (row, (scores[id]?.score ?? 0) + shortTermWeight)
            }
        }
        return scores.values.compactMap { SearchIndex.hit($0.row, terms: terms, score: $0.score) }
            .sorted { ($0.score, $1.id) > ($1.score, $0.id) }
            .prefix(limit)
            .map { $0 }
    }
}
