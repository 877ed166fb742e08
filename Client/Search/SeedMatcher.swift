import Foundation
import GRDB
import KakehashiShared

/// Ranks seeds (シーズ) for a need (ニーズ).
///
/// The need's words (`KeywordExtractor.words`: nouns and noun compounds through MeCab), its tags
/// and the `Thesaurus` terms its text contains each make a concept; a concept also stands for
/// the other words of its thesaurus groups (バリ取り → 研削, 研磨, 面取り…), at a lower weight. A seed
/// scores, per concept, the best of its terms it contains (in the folded text, `SearchFolding`),
/// weighted by how rare the term is among the seeds (bm25's idf) and more in the title. Every
/// result lists the terms it matched. When fewer seeds than asked share a word with the need, the
/// rest of the seeds follow by shared character pairs, marked as such, so a result always lists
/// what the laptop has.
public enum SeedMatcher {
    /// Weight of a thesaurus term standing for a need's word.
    static let synonymWeight = 0.7
    /// Extra weight of a term found in the seed's title.
    static let titleBoost = 1.5
    /// Marks a term found through the thesaurus in `Hit.matched`: `≈研削`.
    public static let synonymMark = "≈"
    /// What `Hit.matched` holds for a seed listed only by shared character pairs.
    public static let weakMark = "（語の一致なし・文字の類似）"

    /// A need's word and the words that stand for it.
    struct Concept {
        let word: String
        let terms: [(term: String, weight: Double)]
    }

    /// The words `match` looks for: the need's own words and tags, then thesaurus terms in its text.
    public static func keywords(for need: RecordState) -> [String] {
        keywords(
            title: need.value("title").displayText, description: need.value("description").displayText,
            tags: need.elements("tags"))
    }

    static func keywords(title: String, description: String, tags: [String]) -> [String] {
        let text = title + "\n" + description
        var words = KeywordExtractor.words(in: text)
        for tag in tags.map(SearchFolding.fold) where !tag.isEmpty && !words.contains(tag) { words.append(tag) }
        let folded = SearchFolding.fold(text)
        for term in Thesaurus.terms where folded.contains(term) && !words.contains(term) {
            // A thesaurus term inside a longer one already taken (電力 in 消費電力削減) adds nothing.
            if words.contains(where: { $0.count > term.count && $0.contains(term) && Thesaurus.index[$0] != nil }) {
                continue
            }
            words.append(term)
        }
        return words
    }

    static func concepts(_ words: [String]) -> [Concept] {
        words.map { word in
            Concept(word: word, terms: [(word, 1.0)] + Thesaurus.synonyms(of: word).map { ($0, synonymWeight) })
        }
    }

    public static func match(need: RecordState, limit: Int, in db: Database) throws -> [SearchIndex.Hit] {
        try match(
            title: need.value("title").displayText, description: need.value("description").displayText,
            tags: need.elements("tags"), limit: limit, in: db)
    }

    /// The best `limit` seeds for a need with this text, best first.
    public static func match(
        title: String, description: String, tags: [String], limit: Int, in db: Database
    ) throws -> [SearchIndex.Hit] {
        let seedCount =
            try Int.fetchOne(db, sql: "SELECT count(*) FROM search WHERE entity = 'seed'") ?? 0
        guard seedCount > 0, limit > 0 else { return [] }
        let concepts = concepts(keywords(title: title, description: description, tags: tags))
        // Which seeds hold each term, in the title or only in the content.
        var holders: [String: [String: Bool]] = [:]
        for term in Set(concepts.flatMap { $0.terms.map(\.term) }) {
            var found: [String: Bool] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT record, instr(folded_title, ?1) > 0 AS in_title FROM search
                    WHERE entity = 'seed' AND (instr(folded_title, ?1) > 0 OR instr(folded_content, ?1) > 0)
                    """,
                arguments: [term])
            {
                found[row["record"]] = row["in_title"]
            }
            holders[term] = found
        }
        func idf(_ term: String) -> Double {
            let count = Double(holders[term]?.count ?? 0)
            return log(1 + (Double(seedCount) - count + 0.5) / (count + 0.5))
        }
        var scores: [String: (score: Double, matched: [String])] = [:]
        for concept in concepts {
            var best: [String: (score: Double, term: String, synonym: Bool)] = [:]
            for (term, weight) in concept.terms {
                let termIDF = idf(term)
                for (seed, inTitle) in holders[term] ?? [:] {
                    let score = weight * termIDF * (inTitle ? titleBoost : 1)
                    if score > best[seed]?.score ?? 0 { best[seed] = (score, term, weight < 1) }
                }
            }
            for (seed, hit) in best {
                var entry = scores[seed] ?? (0, [])
                entry.score += hit.score
                let shown = hit.synonym ? synonymMark + hit.term : hit.term
                if !entry.matched.contains(shown) { entry.matched.append(shown) }
                scores[seed] = entry
            }
        }
        let ranked = scores.sorted { ($0.value.score, $1.key) > ($1.value.score, $0.key) }.prefix(limit)
        var hits = try ranked.compactMap { seed, entry in
            try hit(seed, score: entry.score, matched: entry.matched, in: db)
        }
        if hits.count < limit {
            hits += try similar(
                to: title + "\n" + description, excluding: Set(hits.map(\.id)), limit: limit - hits.count, in: db)
        }
        return hits
    }

    /// Seeds that share no word with the need, by the share of the need's character pairs they
    /// contain: listed after the real matches so the result shows what the laptop has.
    static func similar(
        to text: String, excluding: Set<String>, limit: Int, in db: Database
    ) throws -> [SearchIndex.Hit] {
        let pairs = bigrams(SearchFolding.fold(text))
        var scored: [(seed: String, score: Double)] = []
        for row in try Row.fetchAll(
            db, sql: "SELECT record, folded_title, folded_content FROM search WHERE entity = 'seed'")
        {
            let seed: String = row["record"]
            guard !excluding.contains(seed) else { continue }
            let seedPairs = bigrams((row["folded_title"] as String? ?? "") + (row["folded_content"] as String? ?? ""))
            let shared = pairs.intersection(seedPairs).count
            scored.append((seed, pairs.isEmpty ? 0 : Double(shared) / Double(pairs.count)))
        }
        return try scored.sorted { ($0.score, $1.seed) > ($1.score, $0.seed) }.prefix(limit).compactMap {
            try hit($0.seed, score: 0, matched: [weakMark], in: db)
        }
    }

    static func bigrams(_ text: String) -> Set<String> {
        let characters = Array(text.filter { !$0.isWhitespace && !$0.isPunctuation })
        guard characters.count >= 2 else { return [] }
        return Set((0..<(characters.count - 1)).map { String(characters[$0...($0 + 1)]) })
    }

    static func hit(_ seed: String, score: Double, matched: [String], in db: Database) throws -> SearchIndex.Hit? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT entity, record, title, content FROM search WHERE entity = 'seed' AND record = ?",
                arguments: [seed])
        else { return nil }
        let (title, content) = try SearchIndex.displayTexts(row, in: db)
        let firstTerm = matched.first { $0 != weakMark }.map { $0.replacingOccurrences(of: synonymMark, with: "") }
        var licensable: Bool?
        if try db.tableExists("seeds") {
            licensable = try Bool.fetchOne(db, sql: "SELECT licensable FROM seeds WHERE id = ?", arguments: [seed])
        }
        return SearchIndex.Hit(
            entity: .seed, id: seed, title: title,
            excerpt: SearchIndex.excerpt(content, around: firstTerm),
            score: score, matched: matched, licensable: licensable)
    }
}
