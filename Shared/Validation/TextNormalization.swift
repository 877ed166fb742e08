import Foundation

/// Text cleaning applied to every string users enter: Unicode NFC, surrounding whitespace
/// trimmed, and control characters refused.
public enum TextNormalization {
    /// NFC-normalizes and trims `text`.
    public static func normalize(_ text: String) -> String {
        text.precomposedStringWithCanonicalMapping.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// NFKC folding for inputs that are really numbers or codes, so full-width digits typed with
    /// a Japanese input method (`２０２６－０４－０１`, `１，０００円`) are read as ASCII.
    public static func foldWidth(_ text: String) -> String {
        // Composed again: Foundation on Linux leaves ﾊﾞ as ハ + U+3099 after the compatibility mapping.
        text.precomposedStringWithCompatibilityMapping.precomposedStringWithCanonicalMapping.trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

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
