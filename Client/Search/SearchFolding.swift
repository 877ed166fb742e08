import Foundation
import GRDB
import KakehashiShared

/// One spelling for the many ways Japanese users type the same word, applied alike to the text
/// the index holds and to every query:
///
/// - full-width and half-width forms (NFKC): `ＡＢＣ` → `abc`, `ｾﾝｻ` → `センサ`, `１２３` → `123`;
/// - letter case: `IoT`, `IOT`, `iot` → `iot`;
/// - the long-vowel mark after katakana: `センサー`, `センサ` → `センサ`, `コンピューター` →
///   `コンピュタ` (JIS Z 8301 drops it at a word's end, many writers keep it; dropping it
///   everywhere after katakana also matches `インターフェース` with `インタフェース`).
public enum SearchFolding {
    /// The folded form of `text`.
    public static func fold(_ text: String) -> String {
        foldCommon(text) ?? foldByNormalizing(text)
    }

    /// `fold` for text made only of characters NFKC leaves as they are
    /// (`TextNormalization.isStable`: ASCII, kana, CJK ideographs, Japanese punctuation), which is
    /// most of what advisors write: ASCII letters lowered and the long-vowel mark dropped after
    /// katakana, without Foundation's normalization, the most expensive step of indexing a pulled
    /// page. Nil for any other character.
    static func foldCommon(_ text: String) -> String? {
        if isFolded(text) { return text }
        var out = String.UnicodeScalarView()
        var previousKatakana = false
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x41...0x5A:
                out.append(Unicode.Scalar(scalar.value + 0x20)!)
                previousKatakana = false
            case 0x30FC:
                if previousKatakana { continue }
                out.append(scalar)
            case 0x30A1...0x30FA:
                out.append(scalar)
                previousKatakana = true
            default:
                guard TextNormalization.isStable(scalar) else { return nil }
                out.append(scalar)
                previousKatakana = false
            }
        }
        return String(out)
    }

    /// Whether `foldCommon` leaves `text` as it is: no upper-case ASCII letter, no long-vowel mark
    /// after katakana, only characters NFKC leaves alone. Most text is, and is found so in one
    /// pass, without building a copy scalar by scalar.
    static func isFolded(_ text: String) -> Bool {
        var previousKatakana = false
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x41...0x5A: return false
            case 0x30FC: if previousKatakana { return false }
            case 0x30A1...0x30FA: previousKatakana = true
            default:
                guard TextNormalization.isStable(scalar) else { return false }
                previousKatakana = false
            }
        }
        return true
    }

    /// `fold` for any text: NFKC, lower case, the long-vowel mark dropped after katakana.
    static func foldByNormalizing(_ text: String) -> String {
        var out = ""
        var previousKatakana = false
        for character in compatibility(text).lowercased() {
            if character == "ー", previousKatakana { continue }
            out.append(character)
            previousKatakana = isKatakana(character)
        }
        return out
    }

    /// NFKC, composed again: Foundation on Linux leaves a half-width voiced mark decomposed
    /// (ﾊﾞ → ハ + U+3099), which would not equal バ byte for byte in the index.
    static func compatibility(_ text: String) -> String {
        text.precomposedStringWithCompatibilityMapping.precomposedStringWithCanonicalMapping
    }

    static func isKatakana(_ character: Character) -> Bool {
        guard let value = character.unicodeScalars.first?.value else { return false }
        return (0x30A1...0x30FA).contains(value) || (0x31F0...0x31FF).contains(value)
    }

    /// `text` folded character by character, with the offset in `text` (in characters) each
    /// folded character came from, to find a folded term's place in the original text.
    static func foldWithOffsets(_ text: String) -> (folded: [Character], offsets: [Int]) {
        var folded: [Character] = []
        var offsets: [Int] = []
        var previousKatakana = false
        for (offset, character) in text.enumerated() {
            for piece in compatibility(String(character)).lowercased() {
                if piece == "ー", previousKatakana { continue }
                folded.append(piece)
                offsets.append(offset)
                previousKatakana = isKatakana(piece)
            }
        }
        return (folded, offsets)
    }

    /// The range, in characters of `text`, where folded `term` first occurs, if it does.
    static func find(_ term: String, in text: String) -> Range<Int>? {
        let needle = Array(fold(term))
        guard !needle.isEmpty else { return nil }
        let (folded, offsets) = foldWithOffsets(text)
        guard folded.count >= needle.count else { return nil }
        for start in 0...(folded.count - needle.count) where folded[start] == needle[0] {
            if Array(folded[start..<(start + needle.count)]) == needle {
                return offsets[start]..<(offsets[start + needle.count - 1] + 1)
            }
        }
        return nil
    }

    /// The search index in its folded form (local store migrations `v5-search-folded` and
    /// `v8-compact`): the folded text is what the trigram index holds. Titles and excerpts are
    /// read from the merged record states (`SearchIndex.displayTexts`); the unindexed `title`
    /// and `content` columns stay empty in a laptop's store (before v8 they held the text as
    /// written, a second copy). The index is rebuilt from the merged record states.
    static func migrate(_ db: Database) throws {
        try db.execute(sql: "DROP TABLE IF EXISTS search")
        try createTable(db)
        try SearchIndex.rebuild(in: db)
    }

    /// The `search` table: FTS5 with the trigram tokenizer over the folded columns.
    static func createTable(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE VIRTUAL TABLE search USING fts5(
                    entity UNINDEXED, record UNINDEXED, title UNINDEXED, content UNINDEXED,
                    folded_title, folded_content, tokenize = 'trigram'
                )
                """)
        // Weights follow the declared columns: only the folded title (10×) and content count.
        try db.execute(sql: "INSERT INTO search (search, rank) VALUES ('rank', 'bm25(0.0, 0.0, 0.0, 0.0, 10.0, 1.0)')")
    }
}
