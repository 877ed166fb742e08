import KakehashiShared

/// Picks keywords out of Japanese (and English) text. `words(in:)` uses MeCab (`Morphology`):
/// content nouns, noun compounds and their adjacent pairs (密着性向上 → 密着, 密着性, 向上).
/// Without MeCab, `keywords(in:)` works without a dictionary: runs of kanji, katakana, or Latin
/// letters and digits are words; hiragana, spaces and punctuation separate them. Long kanji
/// compounds also yield their two-kanji parts (精密加工技術 → 精密, 加工, 技術).
public enum KeywordExtractor {
    /// Nouns too general to tell one seed from another.
    static let stopWords: Set<String> = [
        "技術", "開発", "方法", "手法", "課題", "検討", "当社", "弊社", "自社", "製品", "企業", "会社", "対応",
        "実現", "可能", "必要", "活用", "利用", "提供", "使用", "場合", "目的", "現在", "現状", "今後", "効果",
        "問題", "実施", "導入", "研究", "大学", "特許", "事業", "相談", "希望", "ため", "こと", "もの", "よう",
        "これ", "それ", "など", "以上", "以下", "程度", "方", "等", "際", "中", "用", "的", "性", "化", "向け",
        "年々", "事例", "実績", "仕組み", "工程", "作業", "時間", "コスト", "お金", "商品", "新しい",
    ]

    /// Distinct words of `text` (folded, `SearchFolding`), in order of first appearance: with
    /// MeCab the nouns and noun compounds, without it the script runs of `keywords(in:)`.
    public static func words(in text: String) -> [String] {
        guard let morphology = Morphology.shared else {
            return keywords(in: text).map(SearchFolding.fold).filter { !stopWords.contains($0) }
        }
        var words: [String] = []
        var run: [Morphology.Token] = []
        func emit(_ word: String) {
            let folded = SearchFolding.fold(word)
            guard !folded.isEmpty, !stopWords.contains(folded), !words.contains(folded) else { return }
            // One character is rarely a word of its own here (省, 性); the thesaurus brings the few
            // that are (錆, 竹).
            if folded.count == 1 { return }
            words.append(folded)
        }
        func flush() {
            defer { run = [] }
            let content = run.indices.filter { isContent(run[$0]) }
            for index in content {
                emit(run[index].surface)
                // A noun with its prefixes (and one-character nouns that act as one) and suffixes:
                // 省 + 電力 → 省電力, 密着 + 性 → 密着性, 省 + 電力 + 化 → 省電力化 (never 電力化
                // alone: the prefix belongs to the word).
                var start = index
                while start > 0, run[start - 1].partOfSpeech == "接頭詞" || run[start - 1].surface.count == 1 {
                    start -= 1
                }
                var end = index + 1
                while end < run.count, run[end].subdivision == "接尾" { end += 1 }
                if start < index { emit(run[start...index].map(\.surface).joined()) }
                if end > index + 1 { emit(run[start..<end].map(\.surface).joined()) }
                if index + 1 < run.count, isContent(run[index + 1]) {
                    emit(run[index].surface + run[index + 1].surface)
                }
            }
            if run.count >= 2, run.count <= 4, !content.isEmpty { emit(run.map(\.surface).joined()) }
        }
        // Line by line, so a title's last noun and the description's first do not join.
        for line in TextNormalization.foldWidth(text).split(whereSeparator: \.isNewline) {
            for token in morphology.tokens(String(line)) {
                let joins =
                    token.partOfSpeech == "接頭詞" || isContent(token)
                    || (token.partOfSpeech == "名詞" && token.subdivision == "接尾" && !run.isEmpty)
                if joins { run.append(token) } else { flush() }
            }
            flush()
        }
        return words
    }

    /// A noun that carries meaning on its own (not a pronoun, number, suffix or dependent noun).
    static func isContent(_ token: Morphology.Token) -> Bool {
        token.partOfSpeech == "名詞"
            && ["一般", "固有名詞", "サ変接続", "形容動詞語幹", "ナイ形容詞語幹"].contains(token.subdivision)
    }

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
