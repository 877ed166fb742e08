import Foundation
import GRDB
import KakehashiShared

/// Measures `match` on a hand-written evaluation set (`Tests/Fixtures/matching`): seeds as
/// universities and companies write them, needs as SMEs write them, and for each need the seeds
/// an advisor would propose. Precision@3 is, per need, the share of the top three that are
/// expected (out of three, or of fewer when fewer are expected), averaged over the needs.
public enum MatchingEvaluation {
    public struct Seed: Sendable {
        public let key: String
        public let title: String
        public let description: String
        public let licensable: Bool
    }

    public struct Need: Sendable {
        public let key: String
        public let title: String
        public let description: String
        public let expected: Set<String>
    }

    /// One need's top three and how many of them were expected.
    public struct NeedResult: Sendable {
        public let need: Need
        public let top: [String]
        public let precision: Double
    }

    public struct Result: Sendable {
        public let precisionAt3: Double
        public let needs: [NeedResult]
    }

    /// How a ranking is made: `match` as it ships, or the earlier trigram ranking for comparison.
    public enum Ranker: Sendable {
        case words
        case trigrams
    }

    /// Reads `seeds.tsv` and `needs.tsv` (tab-separated, `#` comments).
    public static func load(directory: String) throws -> (seeds: [Seed], needs: [Need]) {
        func rows(_ name: String) throws -> [[String]] {
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            return text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map {
                $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            }
        }
        let seeds = try rows("seeds.tsv").map { columns in
            Seed(key: columns[0], title: columns[1], description: columns[2], licensable: columns[3] == "true")
        }
        let needs = try rows("needs.tsv").map { columns in
            Need(
                key: columns[0], title: columns[1], description: columns[2],
                expected: Set(columns[3].split(separator: ",").map(String.init)))
        }
        return (seeds, needs)
    }

    /// Ranks the seeds for every need with `ranker` and scores the top three.
    public static func run(seeds: [Seed], needs: [Need], ranker: Ranker = .words) throws -> Result {
        let queue = try DatabaseQueue()
        return try queue.write { db in
            try SearchFolding.createTable(db)
            for seed in seeds {
                try db.execute(
                    sql: """
                        INSERT INTO search (entity, record, title, content, folded_title, folded_content)
                        VALUES ('seed', ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        seed.key, seed.title, seed.description, SearchFolding.fold(seed.title),
                        SearchFolding.fold(seed.description),
                    ])
            }
            var results: [NeedResult] = []
            for need in needs {
                let top: [String]
                switch ranker {
                case .words:
                    top = try SeedMatcher.match(
                        title: need.title, description: need.description, tags: [], limit: 3, in: db
                    ).map(\.id)
                case .trigrams:
                    top = try trigramRanking(need.title + "\n" + need.description, limit: 3, in: db)
                }
                let found = top.filter { need.expected.contains($0) }.count
                results.append(
                    NeedResult(
                        need: need, top: top,
                        precision: Double(found) / Double(max(1, min(3, need.expected.count)))))
            }
            let mean = results.map(\.precision).reduce(0, +) / Double(max(1, results.count))
            return Result(precisionAt3: mean, needs: results)
        }
    }

    /// The ranking `match` used before words: dictionary-free keywords, bm25 over the trigram
    /// index for keywords of three or more characters, a fixed weight per hit for shorter ones.
    static func trigramRanking(_ text: String, limit: Int, in db: Database) throws -> [String] {
        let terms = KeywordExtractor.keywords(in: text).map(SearchFolding.fold)
        var scores: [String: Double] = [:]
        let long = terms.filter { $0.count >= 3 }
        if !long.isEmpty {
            for row in try Row.fetchAll(
                db, sql: "SELECT record, rank FROM search WHERE search MATCH ? AND entity = 'seed'",
                arguments: [long.map(SearchIndex.phrase).joined(separator: " OR ")])
            {
                scores[row["record"]] = -(row["rank"] as Double)
            }
        }
        for term in terms where term.count < 3 {
            let pattern = SearchIndex.likePattern(term)
            for record in try String.fetchAll(
                db,
                sql: """
                    SELECT record FROM search WHERE entity = 'seed'
                    AND (folded_title LIKE ? ESCAPE '\\' OR folded_content LIKE ? ESCAPE '\\')
                    """,
                arguments: [pattern, pattern])
            {
                scores[record, default: 0] += 1
            }
        }
        return scores.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(limit).map(\.key)
    }
}
