/// A UK financial reporting period: a financial year ("2025/26", April to March) or one of
/// its quarters ("2025/26 Q1" = April to June).
public struct Period: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The calendar year in which the financial year starts (2025 for "2025/26").
    public let startYear: Int
    /// 1...4, or nil for the whole year.
    public let quarter: Int?

    /// Any year: text is parsed only for 1900 to 9998, but `previous` and `yearEarlier` step
    /// past that (the year before "1900/01" is "1899/00"), so nothing here may trap on a year.
    /// `quarter` comes from code, always 1...4.
    public init(startYear: Int, quarter: Int? = nil) {
        precondition(quarter.map { (1...4).contains($0) } ?? true, "quarter out of range")
        self.startYear = startYear
        self.quarter = quarter
    }

    /// Parses "2025/26" or "2025/26 Q2". The second year must follow the first.
    public init?(_ text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { return nil }
        let year = parts[0]
        guard year.count == 7, year.dropFirst(4).first == "/",
              let start = Int(year.prefix(4)), let end = Int(year.suffix(2)),
              year.prefix(4).allSatisfy(\.isASCII), year.suffix(2).allSatisfy(\.isNumber),
              (1900...9998).contains(start), (start + 1) % 100 == end
        else { return nil }
        var quarter: Int?
        if parts.count == 2 {
            let q = parts[1]
            guard q.count == 2, q.first == "Q", let n = Int(q.dropFirst()), (1...4).contains(n) else { return nil }
            quarter = n
        }
        self.init(startYear: start, quarter: quarter)
    }

    public var description: String {
        let year = "\(startYear)/\(String(format2: (startYear + 1) % 100))"
        return quarter.map { "\(year) Q\($0)" } ?? year
    }

    public var isQuarter: Bool { quarter != nil }

    /// The financial year this period belongs to.
    public var year: Period { Period(startYear: startYear) }

    /// First day of the period.
    public var start: CalendarDate {
        guard let quarter else { return CalendarDate(year: startYear, month: 4, day: 1) }
        let month = 4 + (quarter - 1) * 3
        return month > 12 ? CalendarDate(year: startYear + 1, month: month - 12, day: 1)
                          : CalendarDate(year: startYear, month: month, day: 1)
    }

    /// Last day of the period.
    public var end: CalendarDate {
        guard let quarter else { return CalendarDate(year: startYear + 1, month: 3, day: 31) }
        let month = 3 + quarter * 3
        return month > 12 ? CalendarDate.endOfMonth(year: startYear + 1, month: month - 12)
                          : CalendarDate.endOfMonth(year: startYear, month: month)
    }

    /// The period just before this one, of the same length.
    public var previous: Period {
        guard let quarter else { return Period(startYear: startYear - 1) }
        return quarter == 1 ? Period(startYear: startYear - 1, quarter: 4) : Period(startYear: startYear, quarter: quarter - 1)
    }

    /// The same period a year earlier.
    public var yearEarlier: Period { Period(startYear: startYear - 1, quarter: quarter) }

    /// The financial years from `first` to `last` inclusive.
    public static func years(from first: Period, through last: Period) -> [Period] {
        guard first.startYear <= last.startYear else { return [] }
        return (first.startYear...last.startYear).map { Period(startYear: $0) }
    }

    /// The period of the given length containing `date`.
    public static func containing(_ date: CalendarDate, quarterly: Bool) -> Period {
        let startYear = date.month >= 4 ? date.year : date.year - 1
        guard quarterly else { return Period(startYear: startYear) }
        let monthsIn = (date.month - 4 + 12) % 12
        return Period(startYear: startYear, quarter: monthsIn / 3 + 1)
    }

    public static func < (a: Period, b: Period) -> Bool {
        if a.startYear != b.startYear { return a.startYear < b.startYear }
        // A year sorts after its quarters: it closes with Q4.
        return (a.quarter ?? 5) < (b.quarter ?? 5)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let period = Period(text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "\"\(text)\" is not a period like \"2025/26\" or \"2025/26 Q2\""))
        }
        self = period
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

private extension String {
    init(format2 n: Int) { self = n < 10 ? "0\(n)" : "\(n)" }
}
