import BBCSCore
import Foundation
import Testing

@Suite("RAG, direction of travel, targets and figure rules")
struct PerformanceTests {
    // MARK: RAG

    @Test(arguments: [
        // value, target, tolerance, expected — higher is better
        (80.0, 80.0, nil, RAG.green),     // exactly on target
        (81.0, 80.0, nil, .green),
        (76.0, 80.0, nil, .amber),        // 5% of 80 = 4: the boundary is amber
        (75.99, 80.0, nil, .red),         // just beyond
        (78.0, 80.0, 2.5, .amber),        // 2.5% of 80 = 2: on the boundary
        (77.9, 80.0, 2.5, .red),
        (77.0, 80.0, 3.75, .amber),       // 3.75% of 80 = 3: on the boundary
        (76.99, 80.0, 3.75, .red),
        (79.0, 80.0, 0, .red),            // no tolerance: any shortfall is red
        (0.0, 0.0, nil, .green),
    ] as [(Double, Double, Double?, RAG)])
    func higherIsBetter(_ value: Double, _ target: Double, _ tolerance: Double?, _ expected: RAG) {
        #expect(Performance.rag(value: value, target: target, polarity: .higherIsBetter, tolerance: tolerance) == expected)
    }

    @Test(arguments: [
        (1850.0, 1850.0, nil, RAG.green), // exactly on target
        (1700.0, 1850.0, nil, .green),
        (1942.5, 1850.0, nil, .amber),    // 5% of 1850 = 92.5: the boundary is amber
        (1942.6, 1850.0, nil, .red),
        (1943.0, 1850.0, nil, .red),
        (110.0, 100.0, 10, .amber),
        (111.0, 100.0, 10, .red),
        (1.0, 0.0, nil, .red),            // target zero: nothing is within tolerance
    ] as [(Double, Double, Double?, RAG)])
    func lowerIsBetter(_ value: Double, _ target: Double, _ tolerance: Double?, _ expected: RAG) {
        #expect(Performance.rag(value: value, target: target, polarity: .lowerIsBetter, tolerance: tolerance) == expected)
    }

    @Test func greyWithoutValueTargetOrPolarity() {
        #expect(Performance.rag(value: nil, target: 10, polarity: .higherIsBetter, tolerance: nil) == .grey)
        #expect(Performance.rag(value: 10, target: nil, polarity: .higherIsBetter, tolerance: nil) == .grey)
        #expect(Performance.rag(value: 10, target: 10, polarity: .none, tolerance: nil) == .grey)
    }

    // MARK: travel

    @Test func travelFollowsPolarity() {
        #expect(Performance.travel(from: 10, to: 12, polarity: .higherIsBetter) == .improving)
        #expect(Performance.travel(from: 10, to: 8, polarity: .higherIsBetter) == .worsening)
        #expect(Performance.travel(from: 10, to: 12, polarity: .lowerIsBetter) == .worsening)
        #expect(Performance.travel(from: 10, to: 8, polarity: .lowerIsBetter) == .improving)
        #expect(Performance.travel(from: 10, to: 10, polarity: .lowerIsBetter) == .unchanged)
        #expect(Performance.travel(from: 10, to: 12, polarity: .none) == .up)
        #expect(Performance.travel(from: 10, to: 8, polarity: .none) == .down)
        #expect(Performance.travel(from: nil, to: 8, polarity: .none) == nil)
        #expect(Performance.travel(from: 8, to: nil, polarity: .none) == nil)
    }

    // MARK: targets

    @Test func quarterTargetsComeFromTheYear() throws {
        let year = Period(startYear: 2025), q2 = Period(startYear: 2025, quarter: 2)
        let count = try #require(Performance.target(for: q2, unit: .count, targets: [year: 1850]))
        #expect(count.value == 462.5 && count.source == .yearShare)
        let percent = try #require(Performance.target(for: q2, unit: .percent, targets: [year: 82]))
        #expect(percent.value == 82 && percent.source == .year)
        let own = try #require(Performance.target(for: q2, unit: .count, targets: [year: 1850, q2: 500]))
        #expect(own.value == 500 && own.source == .period)
        #expect(Performance.target(for: q2, unit: .count, targets: [Period(startYear: 2024): 1]) == nil)
    }

    @Test func statusesCoverEveryPlanPeriodWithTravel() {
        let first = Period(startYear: 2025), last = Period(startYear: 2026)
        func figure(_ p: Period, _ v: Double) -> FigureRevision {
            FigureRevision(period: p, revision: 1, value: v, note: nil, reason: nil, submittedBy: "a", submittedAt: "", late: false,
                           validatedBy: nil, validatedAt: nil)
        }
        let q1 = Period(startYear: 2025, quarter: 1), q2 = Period(startYear: 2025, quarter: 2)
        let nextQ2 = Period(startYear: 2026, quarter: 2)
        let statuses = Performance.statuses(
            unit: .count, polarity: .lowerIsBetter, frequency: .quarterly, tolerance: nil,
            targets: [first: 400, last: 400], actuals: [:],
            figures: [q1: figure(q1, 90), q2: figure(q2, 120), nextQ2: figure(nextQ2, 100)],
            firstYear: first, lastYear: last)
        #expect(statuses.map(\.period) == (1...4).map { Period(startYear: 2025, quarter: $0) } + (1...4).map { Period(startYear: 2026, quarter: $0) })
        let s = Dictionary(uniqueKeysWithValues: statuses.map { ($0.period, $0) })
        #expect(s[q1]?.rag == .green && s[q1]?.target == 100)
        #expect(s[q2]?.rag == .red)                  // 120 against 100, 5% tolerance
        #expect(s[q2]?.sincePrevious == .worsening)  // 90 → 120, lower is better
        #expect(s[q2]?.sinceYearEarlier == nil)      // no 2024/25 Q2
        #expect(s[nextQ2]?.sinceYearEarlier == .improving)  // 120 → 100
        #expect(s[nextQ2]?.sincePrevious == nil)     // 2026/27 Q1 has no figure
        #expect(s[Period(startYear: 2025, quarter: 3)]?.rag == .grey)
    }

    @Test func annualTravelUsesThePlansActuals() {
        let y24 = Period(startYear: 2024), y25 = Period(startYear: 2025)
        let statuses = Performance.statuses(
            unit: .percent, polarity: .higherIsBetter, frequency: .annual, tolerance: 10,
            targets: [y25: 80], actuals: [y24: 70],
            figures: [y25: FigureRevision(period: y25, revision: 2, value: 75, note: nil, reason: "r", submittedBy: "a",
                                          submittedAt: "", late: true, validatedBy: nil, validatedAt: nil)],
            firstYear: y25, lastYear: Period(startYear: 2027))
        let s = statuses.first { $0.period == y25 }
        #expect(s?.rag == .amber && s?.sincePrevious == .improving && s?.sinceYearEarlier == .improving)
        #expect(statuses.count == 3)
    }

    // MARK: rules

    @Test func valuesSuitTheirUnit() throws {
        try FigureRules.checkValue(0, unit: .count)
        try FigureRules.checkValue(480, unit: .count)
        try FigureRules.checkValue(103, unit: .percent)   // the plan itself reports 103%
        try FigureRules.checkValue(82.5, unit: .percent)
        #expect(throws: FigureRuleViolation.self) { try FigureRules.checkValue(-1, unit: .count) }
        #expect(throws: FigureRuleViolation.self) { try FigureRules.checkValue(-0.5, unit: .percent) }
        #expect(throws: FigureRuleViolation.self) { try FigureRules.checkValue(2.5, unit: .count) }
        #expect(throws: FigureRuleViolation.self) { try FigureRules.checkValue(.infinity, unit: .percent) }
    }

    @Test func periodsSuitTheFrequencyAndThePlan() throws {
        let first = Period(startYear: 2025), last = Period(startYear: 2027)
        let today = CalendarDate(year: 2026, month: 11, day: 27)
        func check(_ text: String, _ frequency: Frequency) throws {
            try FigureRules.checkPeriod(Period(text)!, frequency: frequency, firstYear: first, lastYear: last, endedBy: today)
        }
        try check("2025/26 Q2", .quarterly)
        try check("2025/26", .annual)
        try check("2026/27 Q2", .quarterly)                       // ended 2026-09-30
        #expect(throws: FigureRuleViolation.self) { try check("2025/26", .quarterly) }
        #expect(throws: FigureRuleViolation.self) { try check("2025/26 Q1", .annual) }
        #expect(throws: FigureRuleViolation.self) { try check("2024/25 Q4", .quarterly) }   // before the plan
        #expect(throws: FigureRuleViolation.self) { try check("2028/29 Q1", .quarterly) }   // after it
        #expect(throws: FigureRuleViolation.self) { try check("2026/27 Q3", .quarterly) }   // not ended
        #expect(throws: FigureRuleViolation.self) { try check("2026/27", .annual) }         // not ended
        // A target may be set for the year of a quarterly indicator, not for a quarter of an annual one.
        try FigureRules.checkTargetPeriod(Period("2027/28")!, frequency: .quarterly, firstYear: first, lastYear: last)
        #expect(throws: FigureRuleViolation.self) {
            try FigureRules.checkTargetPeriod(Period("2027/28 Q1")!, frequency: .annual, firstYear: first, lastYear: last)
        }
    }

    @Test func aRedFigureNeedsANote() throws {
        try FigureRules.checkNote(nil, rag: .amber, value: 1, target: 1)
        try FigureRules.checkNote("Two large events", rag: .red, value: 1, target: 1)
        #expect(throws: FigureRuleViolation.self) { try FigureRules.checkNote(nil, rag: .red, value: 1, target: 1) }
        #expect(throws: FigureRuleViolation.self) { try FigureRules.checkNote("   ", rag: .red, value: 1, target: 1) }
    }

    @Test func dueDatesFollowThePeriodEnd() {
        #expect(Performance.dueDate(of: Period("2025/26 Q1")!, graceDays: 30) == CalendarDate(year: 2025, month: 7, day: 30))
        #expect(Performance.dueDate(of: Period("2025/26")!, graceDays: 0) == CalendarDate(year: 2026, month: 3, day: 31))
    }

    @Test func daysAreEuropeLondonDays() {
        // 23:30 UTC on 30 June 2025 is already 1 July in London (BST); in January the zones agree.
        #expect(CalendarDate(Date(timeIntervalSince1970: 1_751_326_200)) == CalendarDate(year: 2025, month: 7, day: 1))
        #expect(CalendarDate(Date(timeIntervalSince1970: 1_767_310_200)) == CalendarDate(year: 2026, month: 1, day: 1))
    }
}

@Suite("permission policy")
struct PolicyTests {
    func principal(_ standing: Principal.Standing, _ posts: [String]) -> Principal {
        Principal(login: "u", uid: 1000, pid: 1, standing: standing, posts: posts)
    }

    @Test func accessLevels() {
        let stranger = principal(.unregistered, [])
        #expect(Policy.check(.anyone, stranger) == nil)
        #expect(Policy.check(.registered, stranger)?.unauthenticated == true)
        let disabled = principal(.disabled, [])
        #expect(Policy.check(.registered, disabled)?.unauthenticated == false)
        let viewer = principal(.active, [])
        #expect(Policy.check(.registered, viewer) == nil)
        #expect(Policy.check(.owner, viewer) == nil)   // the object's owner is checked by mayChange
        #expect(Policy.check(.admin, viewer)?.missing == "post:admin")
        #expect(Policy.check(.admin, principal(.active, ["admin"])) == nil)
    }

    @Test func ownersAndAdminsMayChange() {
        #expect(Policy.mayChange(ownedBy: ["Licensing Manager"], what: "x", principal(.active, ["Licensing Manager"])) == nil)
        #expect(Policy.mayChange(ownedBy: ["Licensing Manager"], what: "x", principal(.active, ["admin"])) == nil)
        let other = Policy.mayChange(ownedBy: ["Licensing Manager"], what: "x", principal(.active, ["Community Safety Manager"]))
        #expect(other?.missing == "post:Licensing Manager")
        #expect(other?.message.contains("Community Safety Manager") == true)
        #expect(Policy.mayChange(ownedBy: ["Licensing Manager"], what: "x", principal(.disabled, [])) != nil)
    }
}
