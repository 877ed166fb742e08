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
