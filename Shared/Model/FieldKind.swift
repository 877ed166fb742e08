/// What a field holds; decides validation, storage column type and merge behaviour.
public enum FieldKind: Sendable, Hashable {
    /// Free text, NFC-normalized and trimmed, at most `maxLength` characters.
    case text(maxLength: Int, multiline: Bool)
    /// One value out of a closed domain.
    case enumeration(EnumDomain)
    /// A calendar date, `YYYY-MM-DD`.
    case date
    /// A whole number within bounds.
    case integer(ClosedRange<Int64>)
    /// An amount in Japanese yen: a non-negative whole number.
    case yen
    case bool
    /// The id of a record of another entity.
    case reference(Entity)
    /// A set of ids of records of another entity; merged element by element.
    case referenceSet(Entity)
    /// A set of short strings (tags, patent numbers); merged element by element.
    case stringSet(maxLength: Int)
    /// A 13-digit 法人番号 whose leading check digit is verified.
    case corporateNumber

    /// Set fields change through `add` and `remove`, never `set`.
    public var isSet: Bool {
        switch self {
        case .referenceSet, .stringSet: true
        default: false
        }
    }

    /// A short description of the valid input, used in help text and error messages.
    public var expectation: String {
        switch self {
        case .text(let maxLength, _): "text of at most \(maxLength) characters"
        case .enumeration(let domain): "one of: \(domain.listing)"
        case .date: "a date as YYYY-MM-DD"
        case .integer(let range): "a whole number from \(range.lowerBound) to \(range.upperBound)"
        case .yen: "an amount in yen (digits, commas allowed, e.g. 1,500,000)"
        case .bool: "true or false"
        case .reference(let entity): "the id of a \(entity.rawValue)"
        case .referenceSet(let entity): "ids of \(entity.rawValue) records"
        case .stringSet(let maxLength): "values of at most \(maxLength) characters each"
        case .corporateNumber: "a 13-digit corporate number (法人番号) with a valid check digit"
        }
    }
}
