/// Dates that cannot be true: an activity record (`event.date`) is about something that has
/// happened, so a date after tomorrow in Japan is a typo (`2029` for `2025`) that would otherwise
/// open a fiscal year in the official report. Tomorrow is allowed, for a laptop whose user is a
/// few hours ahead of Japan or records an appointment the evening before.
///
/// The laptop checks this before it writes; the server refuses such a change on its own (a
/// per-change rejection, code `invalid`), both with `refusal(of:nowMillis:)`. The rule looks at the
/// clock, so it is not part of `Change.validated()`: a date accepted yesterday stays valid in the
/// log forever.
public enum ActivityDate {
    /// The latest date an activity may carry when the time is `nowMillis`: tomorrow in Japan.
    public static func latest(nowMillis: Int64) -> CalendarDate {
        CalendarDate(japanTimeOf: nowMillis + 86_400_000)
    }

    /// Why `date` (canonical `YYYY-MM-DD`) cannot be the date of an activity at `nowMillis`; nil
    /// when it can.
    public static func problem(with date: String, nowMillis: Int64) -> String? {
        guard let parsed = CalendarDate(date) else { return nil }
        let latest = latest(nowMillis: nowMillis)
        guard parsed > latest else { return nil }
        return "\(date) は未来の日付です。活動記録の日付は明日（日本時間で \(latest)）までにしてください"
    }

    /// Why a change writes a future date into an activity record; nil for every other change.
    public static func refusal(of change: Change, nowMillis: Int64) -> String? {
        guard change.entity == .event, change.field == "date", change.op == .set,
            let date = change.value.stringValue
        else { return nil }
        return problem(with: date, nowMillis: nowMillis)
    }
}
