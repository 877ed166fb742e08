/// A closed set of lower-case words typed on a command line (export profiles, formats, label
/// languages): parsed in any case, and refused with an error that names the field and lists the
/// valid values.
public protocol CommandLineChoice: CaseIterable, RawRepresentable where RawValue == String {
    /// The option's name without dashes, as errors name the field: `profile`, `format`, …
    static var optionName: String { get }
}

extension CommandLineChoice {
    /// Reads `text`.
    /// - Throws: `KakehashiError` (`.invalidData`) naming the option and listing the valid values.
    public static func parse(_ text: String) throws(KakehashiError) -> Self {
        let field = optionName
        guard let value = Self(rawValue: text.lowercased()) else {
            let valid = allCases.map(\.rawValue)
            throw KakehashiError.invalid(
                field, "unknown \(field) '\(text)'; valid values: \(valid.joined(separator: ", "))",
                validValues: valid)
        }
        return value
    }
}
