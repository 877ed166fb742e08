import KakehashiShared

/// Picks keywords out of Japanese (and English) text without a dictionary: runs of kanji,
/// katakana, or Latin letters and digits are words; hiragana, spaces and punctuation separate
/// them (particles and okurigana are hiragana). Long kanji compounds also yield their two-kanji
/// parts (精密加工技術 → 精密, 加工, 技術), which is how most such compounds are built.
public enum KeywordExtractor {
    enum Script: Equatable {
        case kanji, katakana, latin, separator
    }

    static func script(of character: Character) -> Script {
        guard let scalar = character.unicodeScalars.first else { return .separator }
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0xF900...0xFAFF, 0x3005: return .kanji
        case 0x30A0...0x30FF, 0x31F0...0x31FF, 0xFF66...0xFF9F: return .katakana
        default:
            return character.isLetter && character.isASCII || character.isNumber && character.isASCII
                ? .latin : .separator
        }
    }

    /// Distinct keywords of at least two characters, in order of first appearance.
    public static func keywords(in text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var currentScript = Script.separator
        func flush() {
            if current.count >= 2 { words.append(currentScript == .latin ? current.lowercased() : current) }
            if currentScript == .kanji, current.count >= 4 {
                let characters = Array(current)
                for start in stride(from: 0, to: characters.count - 1, by: 2) {
                    words.append(String(characters[start..<min(start + 2, characters.count)]))
                }
            }
            current = ""
        }
        for character in TextNormalization.foldWidth(text) {
            let kind = script(of: character)
            if kind != currentScript || kind == .separator {
                flush()
                currentScript = kind
            }
            if kind != .separator { current.append(character) }
        }
        flush()
        var seen: Set<String> = []
        return words.filter { $0.count >= 2 && seen.insert($0).inserted }
    }
}
