/// A calendar date without time or zone, spelled `YYYY-MM-DD` everywhere.
public struct CalendarDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public static let validYears = 1900...2199

    /// Reads `YYYY-MM-DD` (or `YYYY/MM/DD`), refusing dates that do not exist.
    public init?(_ text: String) {
        let parts =
            text.split(separator: "-", omittingEmptySubsequences: false).count == 3
            ? text.split(separator: "-", omittingEmptySubsequences: false)
            : text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, (1...2).contains(parts[1].count), (1...2).contains(parts[2].count),
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public init?(year: Int, month: Int, day: Int) {
        guard Self.validYears.contains(year), (1...12).contains(month),
            (1...Self.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    /// The Japanese fiscal year (April to March) the date falls in: 2026-03-31 is FY2025.
    public var fiscalYear: Int { month >= 4 ? year : year - 1 }

    /// The date in Japan (Asia/Tokyo, UTC+9 all year: Japan keeps no daylight saving time) at
    /// `unixMillis`.
    public init(japanTimeOf unixMillis: Int64) {
        let localMillis = unixMillis + 9 * 3_600_000
        let day = localMillis >= 0 ? localMillis / 86_400_000 : (localMillis - 86_399_999) / 86_400_000
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let d = dayOfYear - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yearOfEra + era * 400 + (m <= 2 ? 1 : 0)
        self.year = Int(y)
        self.month = Int(m)
        self.day = Int(d)
    }

    /// The first and last day of Japanese fiscal year `year` (April 1 to March 31).
    public static func fiscalYearBounds(_ year: Int) -> ClosedRange<CalendarDate> {
        CalendarDate(year: year, month: 4, day: 1)!...CalendarDate(year: year + 1, month: 3, day: 31)!
    }

    public var description: String {
        let yyyy = String(year)
        let mm = month < 10 ? "0\(month)" : String(month)
        let dd = day < 10 ? "0\(day)" : String(day)
        return "\(yyyy)-\(mm)-\(dd)"
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}
