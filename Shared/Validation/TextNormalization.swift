import Foundation

/// Text cleaning applied to every string users enter: Unicode NFC, surrounding whitespace
/// trimmed, and control characters refused.
public enum TextNormalization {
    /// NFC-normalizes and trims `text`.
    public static func normalize(_ text: String) -> String {
        let composed = isStable(text) ? text : text.precomposedStringWithCanonicalMapping
        return trimmed(composed)
    }

    /// `text` without leading and trailing whitespace and newlines. Most values have none, and
    /// are returned as they are without Foundation's trimming, which costs more than the check.
    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.first, let last = scalars.last,
            !whitespaceAndNewlines.contains(first), !whitespaceAndNewlines.contains(last)
        else { return text.trimmingCharacters(in: .whitespacesAndNewlines) }
        return text
    }

    private static let whitespaceAndNewlines = CharacterSet.whitespacesAndNewlines

    /// NFKC folding for inputs that are really numbers or codes, so full-width digits typed with
    /// a Japanese input method (`２０２６－０４－０１`, `１，０００円`) are read as ASCII.
    public static func foldWidth(_ text: String) -> String {
        // Composed again: Foundation on Linux leaves ﾊﾞ as ハ + U+3099 after the compatibility mapping.
        let folded =
            isStable(text) ? text : text.precomposedStringWithCompatibilityMapping.precomposedStringWithCanonicalMapping
        return trimmed(folded)
    }

    /// Whether NFKC (and so NFC) leaves `scalar` as it is and nothing composes with it: ASCII,
    /// hiragana, katakana and the long-vowel mark, CJK unified ideographs, the Japanese comma and
    /// full stop, and corner brackets — most of what advisors type. Text made only of these is
    /// its own normal form, and skips Foundation's normalization, which is slow.
    public static func isStable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x7F, 0x3001...0x3003, 0x300C...0x300F, 0x3041...0x3096, 0x30A1...0x30FA, 0x30FC, 0x4E00...0x9FFF:
            true
        default: false
        }
    }

    /// Whether every scalar of `text` is `isStable`.
    public static func isStable(_ text: String) -> Bool { text.unicodeScalars.allSatisfy(isStable) }

    /// The first character that may not appear in text, if any: C0/C1 controls other than tab
    /// and (when `multiline`) line feed; carriage returns are normalized away before this check.
    public static func firstForbiddenScalar(in text: String, multiline: Bool) -> Unicode.Scalar? {
        text.unicodeScalars.first { scalar in
            switch scalar.value {
            case 0x09: false
            case 0x0A: !multiline
            case 0x00...0x1F, 0x7F...0x9F: true
            default: false
            }
        }
    }
}
