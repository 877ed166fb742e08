import KakehashiShared

/// Parses durations such as `72h`, `30m`, `7d`, `90s` (enrollment code lifetimes).
public enum DurationText {
    /// - Returns: the duration in seconds.
    /// - Throws: `KakehashiError` (`.usage`, field `ttl`) for anything else.
    public static func seconds(_ text: String, field: String = "ttl") throws(KakehashiError) -> Int64 {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last, let factor = units[unit], let amount = Int64(text.dropLast()), amount > 0,
            amount <= 366 * 86400 / factor
        else {
            throw KakehashiError(
                .usage, field: field, "'\(text)' is not a duration; use a number and s, m, h or d (e.g. 72h, 30m, 7d)")
        }
        return amount * factor
    }
}
