import Foundation

/// Red, amber, green against target; grey when there is nothing to judge.
public enum RAG: String, Codable, Sendable, CaseIterable {
    case green, amber, red, grey
}

/// Direction of travel of a value against an earlier one.
public enum Travel: String, Codable, Sendable, CaseIterable {
    case improving, worsening, unchanged
    /// The plan sets no direction of good (polarity none): only which way it moved.
    case up, down
}

/// How far an indicator may miss its target before it is red, as a percentage of target.
public let defaultTolerancePercent = 5.0

/// The rules that turn figures and targets into statuses. Pure; no I/O.
public enum Performance {
    /// RAG of `value` against `target`: green when met, amber when missed by no more than
    /// `tolerance` percent of target (the boundary is amber), red beyond; grey without a
    /// value, a target or a polarity.
    public static func rag(value: Double?, target: Double?, polarity: Polarity, tolerance: Double?) -> RAG {
        guard let value, let target, polarity != .none else { return .grey }
        let tolerance = tolerance ?? defaultTolerancePercent
        // Compare shortfall * 100 with tolerance * target: exact for whole numbers, no division.
        let shortfall = polarity == .higherIsBetter ? target - value : value - target
        if shortfall <= 0 { return .green }
        return shortfall * 100 <= tolerance * abs(target) ? .amber : .red
    }

    /// Direction of travel from `earlier` to `value`.
    public static func travel(from earlier: Double?, to value: Double?, polarity: Polarity) -> Travel? {
        guard let earlier, let value else { return nil }
        if value == earlier { return .unchanged }
        switch polarity {
        case .none: return value > earlier ? .up : .down
        case .higherIsBetter: return value > earlier ? .improving : .worsening
        case .lowerIsBetter: return value < earlier ? .improving : .worsening
        }
    }

    /// Where a period's target comes from.
    public enum TargetSource: String, Codable, Sendable {
        /// Set for this very period.
        case period
        /// The year's target applies to each quarter (percentages).
        case year
        /// A quarter's share of the year's target (counts: a quarter of it).
        case yearShare = "year_share"
    }

    /// The target that applies to `period`: its own, else for a quarter the year's (a count's
    /// annual target is spread evenly over its four quarters; a percentage applies as it is).
    public static func target(for period: Period, unit: IndicatorUnit, targets: [Period: Double]) -> (value: Double, source: TargetSource)? {
        if let own = targets[period] { return (own, .period) }
        guard period.isQuarter, let yearly = targets[period.year] else { return nil }
        return unit == .count ? (yearly / 4, .yearShare) : (yearly, .year)
    }

    /// The year's target a year-end forecast is judged against: the year's own, else for a
    /// count the sum of its four quarters' targets (a percentage's quarters do not add up).
    public static func annualTarget(of year: Period, unit: IndicatorUnit, targets: [Period: Double]) -> Double? {
        if let own = targets[year] { return own }
        guard unit == .count else { return nil }
        let quarters = (1...4).map { targets[Period(startYear: year.startYear, quarter: $0)] }
        guard quarters.allSatisfy({ $0 != nil }) else { return nil }
        return quarters.reduce(0) { $0 + ($1 ?? 0) }
    }

    /// The day a period's figure falls due: `graceDays` after the period ends.
    public static func dueDate(of period: Period, graceDays: Int) -> CalendarDate {
        period.end.adding(days: graceDays)
    }

    /// The periods an indicator reports, from the plan's first year to its last.
    public static func periods(frequency: Frequency, firstYear: Period, lastYear: Period) -> [Period] {
        Period.years(from: firstYear, through: lastYear).flatMap { year in
            frequency == .annual ? [year] : (1...4).map { Period(startYear: year.startYear, quarter: $0) }
        }
    }
}

/// Why a figure or target was refused: the parameter at fault and a sentence for people.
public struct FigureRuleViolation: Error, Sendable, Equatable, CustomStringConvertible {
    public var param: String
    public var message: String
    public init(_ param: String, _ message: String) { self.param = param; self.message = message }
    public var description: String { message }
}

/// The rules a submitted figure or target must meet before it is stored.
public enum FigureRules {
    /// The largest count a figure or target may be: 2^53 - 1, so every count is a whole
    /// number that a Double (and every JSON reader) holds exactly.
    public static let largestCount: Double = 9_007_199_254_740_991

    /// The largest percentage a figure or target may be: a plan may report above 100%
    /// (a rise of 250%), not without end.
    public static let largestPercent: Double = 1_000_000

    /// The value suits the indicator's unit: counts are whole numbers from 0 to
    /// `largestCount`, percentages numbers from 0 to `largestPercent`.
    public static func checkValue(_ value: Double, unit: IndicatorUnit, param: String = "value") throws(FigureRuleViolation) {
        guard value.isFinite else { throw FigureRuleViolation(param, "\(param) must be a number") }
        guard value >= 0 else { throw FigureRuleViolation(param, "\(param) must be a number from 0 up (got \(format(value)))") }
        switch unit {
        case .count:
            guard value == value.rounded() else {
                throw FigureRuleViolation(param, "\(param) of a count must be a whole number (got \(format(value)))")
            }
            guard value <= largestCount else {
                throw FigureRuleViolation(param, "\(param) of a count must be at most \(format(largestCount)) (got \(format(value)))")
            }
        case .percent:
            guard value <= largestPercent else {
                throw FigureRuleViolation(param, "\(param) of a percentage must be at most \(format(largestPercent)) (got \(format(value)))")
            }
        }
    }

    /// An indicator's tolerance is a percentage of target from 0 to 100.
    public static func checkTolerance(_ tolerance: Double, param: String = "tolerance") throws(FigureRuleViolation) {
        guard tolerance >= 0 && tolerance <= 100 else {
            throw FigureRuleViolation(param, "\(param) is a percentage of target from 0 to 100")
        }
    }

    /// The period suits the indicator: its frequency, within the plan's years, and (for
    /// figures) already ended on `today`.
    public static func checkPeriod(_ period: Period, frequency: Frequency, firstYear: Period, lastYear: Period,
                                   endedBy today: CalendarDate?) throws(FigureRuleViolation) {
        switch (frequency, period.isQuarter) {
        case (.annual, true):
            throw FigureRuleViolation("period", "the indicator is reported annually: give a year like \"\(period.year)\", not a quarter")
        case (.quarterly, false):
            throw FigureRuleViolation("period", "the indicator is reported quarterly: give a quarter like \"\(period) Q1\"")
        default: break
        }
        try checkWithinPlan(period, firstYear: firstYear, lastYear: lastYear)
        if let today, period.end >= today {
            throw FigureRuleViolation("period", "\(period) has not ended yet (it ends \(period.end)); its figure can be submitted from the next day")
        }
    }

    /// A target is set for a year of the plan, or for a quarter of a quarterly indicator.
    public static func checkTargetPeriod(_ period: Period, frequency: Frequency, firstYear: Period, lastYear: Period) throws(FigureRuleViolation) {
        if frequency == .annual && period.isQuarter {
            throw FigureRuleViolation("period", "the indicator is reported annually: its targets are set for a year like \"\(period.year)\"")
        }
        try checkWithinPlan(period, firstYear: firstYear, lastYear: lastYear)
    }

    /// The period lies in the plan's years: every method taking a period holds it to them.
    public static func checkWithinPlan(_ period: Period, firstYear: Period, lastYear: Period) throws(FigureRuleViolation) {
        guard period.year >= firstYear && period.year <= lastYear else {
            throw FigureRuleViolation("period", "\(period) is outside the plan's years \(firstYear) to \(lastYear)")
        }
    }

    /// A note is needed when a figure is red: the reader must learn why.
    public static func checkNote(_ note: String?, rag: RAG, value: Double, target: Double?) throws(FigureRuleViolation) {
        guard rag == .red, (note ?? "").allSatisfy(\.isWhitespace) else { return }
        throw FigureRuleViolation("note", "\(format(value)) is red against the target of \(target.map { format($0) } ?? "-"); a note explaining it is required")
    }

    /// Numbers as people write them: whole numbers without ".0" (in digits below 2^63, beyond
    /// as Swift writes them, "1e+19"), others as Swift writes them or with `decimals` places.
    /// Total over every Double, since stored data may hold what no rule lets in today:
    /// "NaN", "∞" and "-∞" for the values that are not numbers.
    public static func format(_ value: Double, decimals: Int? = nil) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : value < 0 ? "-∞" : "∞" }
        // Int64 holds every whole Double of magnitude below 2^63 exactly.
        if value == value.rounded() { return abs(value) < 0x1p63 ? String(Int64(value)) : String(value) }
        // Only values below 2^52 have a fraction, so the fixed form stays short.
        return decimals.map { String(format: "%.\(min(max($0, 0), 17))f", value) } ?? String(value)
    }
}
