import Foundation
import KakehashiShared
import Testing

/// Every text a user enters is normalized (`TextNormalization`); text of characters normalization
/// leaves alone skips Foundation's normalization, and must come out exactly as if it had not.
@Suite struct TextNormalizationTests {
    static let pieces: [String] = [
        "精密加工", "の", "試作", "センサー", "IoT", "Ab", "123", " ", "\n", "\t", "、", "。", "「", "」", "ゔ", "ヴァ",
        "ヶ", "ﾊﾞ", "ｾﾝｻ", "ＡＢ", "１２", "－", "（株）", "㈱", "①", "ﾞ", "ガ", "か\u{3099}", "〜", "・", "髙", "﨑",
        "Ⅱ", "㎡", "é", "e\u{301}", "Å", "\u{212B}", "ß", "\u{3000}", "¥", "円",
    ]

    @Test func theShortcutNormalizesExactlyAsFoundationDoes() {
        var random = SplitMix64(seed: 20_261_203)
        var shortcuts = 0
        for _ in 0..<5_000 {
            let text = (0..<Int.random(in: 1...8, using: &random)).map { _ in Self.pieces.randomElement(using: &random)!
            }
            .joined()
            let trimmed = { (text: String) in text.trimmingCharacters(in: .whitespacesAndNewlines) }
            #expect(TextNormalization.normalize(text) == trimmed(text.precomposedStringWithCanonicalMapping), "\(text)")
            #expect(
                TextNormalization.foldWidth(text)
                    == trimmed(text.precomposedStringWithCompatibilityMapping.precomposedStringWithCanonicalMapping),
                "\(text)")
            if TextNormalization.isStable(text) { shortcuts += 1 }
        }
        #expect(shortcuts > 500, "common text takes the shortcut")
    }

    @Test func combiningMarksAndCompatibilityCharactersAreNotStable() {
        #expect(TextNormalization.isStable("精密加工の試作、センサー「IoT」。"))
        for text in ["か\u{3099}", "e\u{301}", "\u{212B}", "ｾﾝｻ", "１２", "﨑", "\u{3000}"] {
            #expect(!TextNormalization.isStable(text), "\(text)")
        }
        #expect(TextNormalization.normalize("か\u{3099}") == "が")
        #expect(TextNormalization.foldWidth("２０２６－０４－０１") == "2026-04-01")
    }
}
