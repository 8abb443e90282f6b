import BBCSCore
import Testing

@Suite("periods and dates")
struct PeriodTests {
    @Test func parsesYearsAndQuarters() throws {
        let year = try #require(Period("2025/26"))
        #expect(year.startYear == 2025 && year.quarter == nil)
        let q2 = try #require(Period("2025/26 Q2"))
        #expect(q2.quarter == 2)
        #expect(q2.description == "2025/26 Q2")
        #expect(Period("1999/00")?.description == "1999/00")
    }

    @Test(arguments: ["2025/27", "2025-26", "2025/26 Q5", "2025/26 Q0", "2025/26Q1", "25/26", "2025/26 q1", "", "2025/26  Q1", "abcd/ef"])
    func refusesMalformedPeriods(_ text: String) {
        #expect(Period(text) == nil)
    }

    @Test func boundsFollowTheFinancialYear() {
        let year = Period(startYear: 2025)
        #expect(year.start == CalendarDate(year: 2025, month: 4, day: 1))
        #expect(year.end == CalendarDate(year: 2026, month: 3, day: 31))
        #expect(Period(startYear: 2025, quarter: 1).end == CalendarDate(year: 2025, month: 6, day: 30))
        #expect(Period(startYear: 2025, quarter: 3).start == CalendarDate(year: 2025, month: 10, day: 1))
        #expect(Period(startYear: 2025, quarter: 4).start == CalendarDate(year: 2026, month: 1, day: 1))
        #expect(Period(startYear: 2025, quarter: 4).end == CalendarDate(year: 2026, month: 3, day: 31))
    }

    @Test func previousAndYearEarlier() {
        // The earliest year text may name still has a year before it: no trap.
        #expect(Period("1900/01")?.previous.description == "1899/00")
        #expect(Period("1900/01 Q1")?.previous.yearEarlier.description == "1898/99 Q4")
        #expect(Period(startYear: 2025, quarter: 1).previous == Period(startYear: 2024, quarter: 4))
        #expect(Period(startYear: 2025, quarter: 3).previous == Period(startYear: 2025, quarter: 2))
        #expect(Period(startYear: 2025).previous == Period(startYear: 2024))
        #expect(Period(startYear: 2025, quarter: 2).yearEarlier == Period(startYear: 2024, quarter: 2))
    }

    @Test func containingADate() {
        #expect(Period.containing(CalendarDate(year: 2026, month: 3, day: 31), quarterly: true) == Period(startYear: 2025, quarter: 4))
        #expect(Period.containing(CalendarDate(year: 2025, month: 4, day: 1), quarterly: true) == Period(startYear: 2025, quarter: 1))
        #expect(Period.containing(CalendarDate(year: 2025, month: 12, day: 25), quarterly: false) == Period(startYear: 2025))
        #expect(Period.containing(CalendarDate(year: 2026, month: 2, day: 1), quarterly: false) == Period(startYear: 2025))
    }

    @Test func ordering() {
        let sorted = [Period("2025/26")!, Period("2025/26 Q4")!, Period("2024/25")!, Period("2025/26 Q1")!].sorted()
        #expect(sorted.map(\.description) == ["2024/25", "2025/26 Q1", "2025/26 Q4", "2025/26"])
        #expect(Period.years(from: Period("2025/26")!, through: Period("2027/28")!).map(\.description) == ["2025/26", "2026/27", "2027/28"])
    }

    @Test func calendarDates() {
        #expect(CalendarDate(iso: "2026-03-31") == CalendarDate(year: 2026, month: 3, day: 31))
        #expect(CalendarDate(iso: "2026-02-29") == nil)
        #expect(CalendarDate(iso: "2028-02-29") != nil)
        #expect(CalendarDate(iso: "2026-3-31") == nil)
        #expect(CalendarDate(iso: "2026-13-01") == nil)
        let date = CalendarDate(year: 2026, month: 3, day: 4)
        #expect(date.adding(days: 28) == CalendarDate(year: 2026, month: 4, day: 1))
        #expect(date.days(until: CalendarDate(year: 2026, month: 3, day: 31)) == 27)
        #expect(CalendarDate(dayNumber: 0).description == "1970-01-01")
        #expect(CalendarDate.endOfMonth(year: 2024, month: 2).day == 29)
    }
}
