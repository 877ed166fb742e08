import Foundation
import KakehashiClient
import Testing

/// `match` on the hand-written evaluation set (`Tests/Fixtures/matching`, Docs/benchmarks.md):
/// the figure `kakehashi-bench --only matching` prints must not fall below the goal.
@Suite struct MatchingEvaluationTests {
    static let directory =
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/matching").path

    @Test func precisionAtThreeMeetsTheGoalAndBeatsTheTrigramRanking() throws {
        try #require(Morphology.shared != nil, "MeCab or its dictionary is missing (scripts/install-deps.sh)")
        let (seeds, needs) = try MatchingEvaluation.load(directory: Self.directory)
        #expect(seeds.count >= 100 && needs.count >= 30)
        #expect(needs.allSatisfy { !$0.expected.isEmpty })
        let words = try MatchingEvaluation.run(seeds: seeds, needs: needs, ranker: .words)
        let trigrams = try MatchingEvaluation.run(seeds: seeds, needs: needs, ranker: .trigrams)
        #expect(words.precisionAt3 >= 0.8, "precision@3 \(words.precisionAt3)")
        #expect(words.precisionAt3 > trigrams.precisionAt3)
        // Every need gets three seeds, whatever it shares with them.
        #expect(words.needs.allSatisfy { $0.top.count == 3 })
    }

    @Test func keywordsAreWords() {
        let words = KeywordExtractor.words(in: "密着性向上のための表面処理と省電力化")
        #expect(words.contains("密着性") && words.contains("向上") && words.contains("省電力"), "\(words)")
        #expect(!words.contains("性向") && !words.contains("電力化") && !words.contains("力通"), "\(words)")
    }
}
