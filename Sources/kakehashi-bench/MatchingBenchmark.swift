import Foundation
import KakehashiClient

/// `match` on the hand-written evaluation set in `Tests/Fixtures/matching`: precision@3 of the
/// shipped ranking next to the earlier trigram ranking, on the same needs and seeds.
enum MatchingBenchmark {
    /// The evaluation set, found from this source file (`make bench` runs in the repository).
    static let directory =
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tests/Fixtures/matching").path

    static func run(verbose: Bool) throws {
        let (seeds, needs) = try MatchingEvaluation.load(directory: directory)
        let words = try MatchingEvaluation.run(seeds: seeds, needs: needs, ranker: .words)
        let trigrams = try MatchingEvaluation.run(seeds: seeds, needs: needs, ranker: .trigrams)
        print("\nMatching: \(needs.count) needs, \(seeds.count) seeds (Tests/Fixtures/matching), precision@3")
        print(
            String(
                format: "  match (words: MeCab, thesaurus, idf)  %.2f  (goal ≥ 0.80)%@", words.precisionAt3,
                Morphology.shared == nil ? "  — MeCab missing: script runs instead of words" : ""))
        print(String(format: "  earlier trigram ranking              %.2f", trigrams.precisionAt3))
        guard verbose else { return }
        for result in words.needs where result.precision < 1 {
            let expected = result.need.expected.sorted().joined(separator: ",")
            print(
                String(
                    format: "  %@ %.2f  top %@  expected %@", result.need.key, result.precision,
                    result.top.joined(separator: ","), expected))
        }
    }
}
