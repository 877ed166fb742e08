import Foundation

/// Turning user input and wire values into canonical field values, or errors that name the
/// field and say what is valid.
extension FieldSpec {
    /// Reads a scalar field from text a person typed (`--title`, `FIELD=VALUE`).
    ///
    /// An empty input means "no value" and is refused for required fields.
    /// - Throws: `KakehashiError` with code `.invalidData`, naming this field.
    public func parse(_ input: String) throws(KakehashiError) -> FieldValue {
        guard !isSet else {
            throw .invalid(name, "is a set; change it element by element (\(kind.expectation))")
        }
        let trimmed = TextNormalization.normalize(input)
        if trimmed.isEmpty {
            if required { throw .invalid(name, "is required and cannot be empty (\(kind.expectation))") }
            return .null
        }
        switch kind {
        case .text(let maxLength, let multiline):
            return .string(try checkedText(trimmed, maxLength: maxLength, multiline: multiline))
        case .enumeration(let domain):
            guard let value = domain.canonical(trimmed) else {
                throw .invalid(name, domain.unknownValueMessage(trimmed), validValues: domain.values)
            }
            return .string(value)
        case .date:
            guard let date = CalendarDate(TextNormalization.foldWidth(trimmed)) else {
                throw .invalid(
                    name,
                    "'\(trimmed)' is not a valid date; use YYYY-MM-DD with a real day between \(CalendarDate.validYears.lowerBound) and \(CalendarDate.validYears.upperBound)"
                )
            }
            return .string(date.description)
        case .integer(let range):
            guard let number = Int64(TextNormalization.foldWidth(trimmed)), range.contains(number) else {
                throw .invalid(name, "'\(trimmed)' is not \(kind.expectation)")
            }
            return .integer(number)
        case .yen:
            return .integer(try parseYen(trimmed))
        case .bool:
            switch TextNormalization.foldWidth(trimmed).lowercased() {
            case "true", "yes", "1", "はい": return .bool(true)
            case "false", "no", "0", "いいえ": return .bool(false)
            default: throw .invalid(name, "'\(trimmed)' is not true or false", validValues: ["true", "false"])
            }
        case .reference(let entity):
            return .string(try entity.schema.validateID(trimmed, field: name))
        case .corporateNumber:
            let folded = TextNormalization.foldWidth(trimmed).replacingOccurrences(of: "-", with: "")
            if let problem = CorporateNumber.problem(with: folded) { throw .invalid(name, problem) }
            return .string(folded)
        case .referenceSet, .stringSet:
            preconditionFailure("set kinds are handled by parseElement")
        }
    }

    /// Reads one element of a set field (an advisor id, a tag).
    public func parseElement(_ input: String) throws(KakehashiError) -> String {
        let trimmed = TextNormalization.normalize(input)
        switch kind {
        case .referenceSet(let entity):
            return try entity.schema.validateID(trimmed, field: name)
        case .stringSet(let maxLength):
            guard !trimmed.isEmpty else { throw .invalid(name, "elements cannot be empty") }
            return try checkedText(trimmed, maxLength: maxLength, multiline: false)
        default:
            throw .invalid(name, "is not a set; give it one value (\(kind.expectation))")
        }
    }

    /// Checks a value that arrived already typed (from the wire or the store) and returns its
    /// canonical form. `null` clears a field and is refused for required fields.
    public func validate(_ value: FieldValue) throws(KakehashiError) -> FieldValue {
        switch (kind, value) {
        case (.referenceSet, _), (.stringSet, _):
            guard case .string(let element) = value else {
                throw .invalid(name, "set elements must be strings (\(kind.expectation))")
            }
            return .string(try parseElement(element))
        case (_, .null):
            if required { throw .invalid(name, "is required and cannot be cleared") }
            return .null
        case (.text, .string(let text)), (.enumeration, .string(let text)), (.date, .string(let text)),
            (.reference, .string(let text)), (.corporateNumber, .string(let text)):
            return try parse(text)
        case (.integer(let range), .integer(let number)):
            guard range.contains(number) else { throw .invalid(name, "\(number) is not \(kind.expectation)") }
            return value
        case (.yen, .integer(let number)):
            guard Self.yenRange.contains(number) else { throw .invalid(name, "\(number) is not \(kind.expectation)") }
            return value
        case (.bool, .bool):
            return value
        default:
            throw .invalid(name, "has the wrong type; expected \(kind.expectation)")
        }
    }

    /// Amounts up to 1,000兆円 — far above any contract, low enough to stay exact everywhere.
    static let yenRange: ClosedRange<Int64> = 0...1_000_000_000_000_000

    private func parseYen(_ text: String) throws(KakehashiError) -> Int64 {
        var digits = TextNormalization.foldWidth(text)
        for decoration in ["¥", "円", ",", " "] {
            digits = digits.replacingOccurrences(of: decoration, with: "")
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let amount = Int64(digits),
            Self.yenRange.contains(amount)
        else {
            throw .invalid(name, "'\(text)' is not \(kind.expectation)")
        }
        return amount
    }

    private func checkedText(_ text: String, maxLength: Int, multiline: Bool) throws(KakehashiError) -> String {
        let unified =
            text.utf8.contains(UInt8(ascii: "\r"))
            ? text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n") : text
        if let scalar = TextNormalization.firstForbiddenScalar(in: unified, multiline: multiline) {
            let code = "U+" + String(scalar.value, radix: 16, uppercase: true)
            throw .invalid(
                name,
                multiline || scalar != "\n"
                    ? "contains the control character \(code), which is not allowed"
                    : "must be a single line")
        }
        guard unified.count <= maxLength else {
            throw .invalid(name, "must be at most \(maxLength) characters (got \(unified.count))")
        }
        return unified
    }
}
