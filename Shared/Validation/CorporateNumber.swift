/// The 13-digit 法人番号 assigned by the National Tax Agency.
///
/// The first digit is a check digit over the other twelve: with P(n) the n-th digit counted from
/// the right of the twelve and Q(n) = 1 for odd n, 2 for even n, the check digit is
/// 9 − (Σ P(n)·Q(n) mod 9).
public enum CorporateNumber {
    /// The check digit the twelve-digit base `digits` must carry.
    public static func checkDigit(forBase digits: [Int]) -> Int {
        precondition(digits.count == 12)
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            let n = offset + 1
            sum += digit * (n % 2 == 1 ? 1 : 2)
        }
        return 9 - (sum % 9)
    }

    /// Why `text` is not a valid corporate number, or nil when it is one.
    public static func problem(with text: String) -> String? {
        let digits = text.compactMap { $0.isASCII ? $0.wholeNumberValue : nil }
        guard text.count == 13, digits.count == 13 else {
            return "must be exactly 13 digits (got '\(text)')"
        }
        let expected = checkDigit(forBase: Array(digits.dropFirst()))
        guard digits[0] == expected else {
            return "check digit does not match: '\(text)' should start with \(expected)"
        }
        return nil
    }
}
