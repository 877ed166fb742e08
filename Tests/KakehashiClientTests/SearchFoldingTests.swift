import KakehashiShared
import Testing

@testable import KakehashiClient

/// One spelling for index and query (`SearchFolding`): the ways users type a word fold alike,
/// and the fast path for common Japanese text folds exactly as full normalization does.
@Suite struct SearchFoldingTests {
    @Test func theSpellingsUsersTypeFoldAlike() {
        #expect(SearchFolding.fold("ＡＢＣ") == "abc")
        #expect(SearchFolding.fold("ｾﾝｻｰ") == SearchFolding.fold("センサ"))
        #expect(SearchFolding.fold("センサー") == "センサ")
        #expect(SearchFolding.fold("IoT") == SearchFolding.fold("ＩＯＴ"))
        #expect(SearchFolding.fold("コンピューター") == "コンピュタ")
        #expect(SearchFolding.fold("ﾊﾞｲｵ") == "バイオ")
        #expect(SearchFolding.fold("インターフェース") == SearchFolding.fold("インタフェース"))
        #expect(SearchFolding.fold("ーから始まる") == "ーから始まる", "a long-vowel mark after no katakana stays")
    }

    /// Random text from common field writing mixed with characters normalization changes: the
    /// fast path answers only for text it can fold, and then exactly as normalization does.
    @Test func theFastPathFoldsExactlyAsNormalizationDoes() {
        let pieces: [String] = [
            "精密加工", "の", "試作", "センサー", "ー", "IoT", "Ab", "123", " ", "\r\n", "、", "。", "「", "」",
            "『", "』", "ゔ", "ヴァ", "ヶ", "ﾊﾞ", "ｾﾝｻ", "ＡＢ", "１２", "（株）", "㈱", "①", "ﾞ", "ガ", "が",
            "〜", "・", "髙", "﨑", "Ⅱ", "㎡", "é", "e\u{301}", "ß", "İ",
        ]
        var random = SplitMix64(seed: 20_261_203)
        var fastAnswers = 0
        for _ in 0..<5_000 {
            let text = (0..<Int.random(in: 1...8, using: &random)).map { _ in pieces.randomElement(using: &random)! }
                .joined()
            let reference = SearchFolding.foldByNormalizing(text)
            #expect(SearchFolding.fold(text) == reference, "\(text)")
            if let fast = SearchFolding.foldCommon(text) {
                fastAnswers += 1
                #expect(fast == reference, "\(text)")
            }
        }
        #expect(fastAnswers > 500, "the fast path answers for common text")
    }
}
