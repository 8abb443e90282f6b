import BBCSCore
import Foundation
import Testing

/// The quarterly cycle's rules without a database: provisional figures and forecasts, rounds
/// and their completeness, restatements of published figures, and round reminders.
@Suite("reporting cycle rules")
struct CycleTests {
    typealias U = UseCaseTests
    static let q2 = Period(startYear: 2025, quarter: 2)
    static let plan = ReportedPlan(id: 1, code: "CS-2025-2028", title: "Plan", council: "Council", firstYear: Period(startYear: 2025),
                                   lastYear: Period(startYear: 2027), objectives: [])
    static let round = ReportingRound(id: 5, plan: "CS-2025-2028", period: q2, deadline: CalendarDate(year: 2025, month: 11, day: 14),
                                      meeting: "Cabinet 2025-12-02", openedBy: "root", openedAt: "2025-10-01T09:00:00")

    func error(_ body: () throws -> Any?) -> Error? {
        do { _ = try body(); return nil } catch { return error }
    }

    // MARK: provisional and forecast

    @Test func aForecastIsJudgedAgainstTheYearsTargetBesideTheQuarter() throws {
        // 100 a year: the quarter's 20 is red against 25, the forecast of 101 green against 100.
        let d = try FigureUseCases.submit(U.principal(), U.indicator(), period: U.q1, value: 20, note: "slow start", provisional: true,
                                          forecast: 101, graceDays: 20, at: U.time)
        #expect(d.revision.provisional && d.revision.forecast == 101)
        #expect(d.status?.rag == .red && d.status?.forecastRAG == .green && d.status?.annualTarget == 100)
        #expect(d.audit.message == "2025/26 Q1: 20 (provisional, forecast 101) (late)")
        guard case .object(let detail) = d.detail else { Issue.record("detail is an object"); return }
        #expect(detail["provisional"] == .bool(true) && detail["forecast"] == .number(101))
        // Amber within tolerance of the year's target; no forecast, no forecast status.
        let amber = try FigureUseCases.submit(U.principal(), U.indicator(), period: U.q1, value: 25, note: nil, forecast: 96, graceDays: 20, at: U.time)
        #expect(amber.status?.rag == .green && amber.status?.forecastRAG == .amber)
        let none = try FigureUseCases.submit(U.principal(), U.indicator(), period: U.q1, value: 25, note: nil, graceDays: 20, at: U.time)
        #expect(none.status?.forecastRAG == nil && none.status?.annualTarget == nil && !none.revision.provisional)
    }

    @Test func aForecastComesWithAQuarterlyFigureOfTheIndicatorsUnit() {
        let annual = U.indicator(frequency: .annual)
        let refused = error { try FigureUseCases.submit(U.principal(), annual, period: Period(startYear: 2025), value: 90, note: nil,
                                                        forecast: 95, graceDays: 20, at: U.time) }
        #expect((refused as? FigureRuleViolation)?.param == "forecast")
        let fraction = error { try FigureUseCases.submit(U.principal(), U.indicator(), period: U.q1, value: 30, note: nil, forecast: 95.5,
                                                         graceDays: 20, at: U.time) }
        #expect((fraction as? FigureRuleViolation)?.param == "forecast")
    }

    @Test func theYearsTargetIsItsOwnElseACountsFourQuartersAdded() {
        let y = Period(startYear: 2025)
        let quarters = Dictionary(uniqueKeysWithValues: (1...4).map { (Period(startYear: 2025, quarter: $0), Double($0 * 10)) })
        #expect(Performance.annualTarget(of: y, unit: .count, targets: [y: 90]) == 90)
        #expect(Performance.annualTarget(of: y, unit: .count, targets: quarters) == 100)
        #expect(Performance.annualTarget(of: y, unit: .percent, targets: quarters) == nil)
        #expect(Performance.annualTarget(of: y, unit: .count, targets: quarters.filter { $0.key.quarter != 4 }) == nil)
    }

    @Test func finalisingChangesOnlyTheMarkAndAnEmptyCorrectionIsRefused() throws {
        let provisional = FigureRevision(period: U.q1, revision: 1, value: 30, note: "est", reason: nil, submittedBy: "alice",
                                         submittedAt: "2026-07-01T10:00:00", late: false, validatedBy: "root", validatedAt: "2026-07-02T10:00:00",
                                         provisional: true, forecast: 110)
        let indicator = U.indicator(figures: [U.q1: provisional])
        let final = try FigureUseCases.correct(U.principal(), indicator, period: U.q1, value: nil, reason: "confirmed", revision: 1,
                                               note: nil, provisional: false, at: U.time)
        #expect(final.revision.revision == 2 && final.revision.value == 30 && !final.revision.provisional && final.revision.forecast == 110)
        #expect(final.revision.note == "est" && final.revision.validatedBy == nil)
        var done = indicator
        done.figures[U.q1] = final.revision
        let again = error { try FigureUseCases.correct(U.principal(), done, period: U.q1, value: nil, reason: "confirmed", revision: 2,
                                                       note: nil, provisional: false, at: U.time) }
        #expect((again as? FigureRuleViolation)?.param == "value")
        #expect("\(again!)".contains("already 30, final"))
        // A correction keeps the marks unless it names them.
        let value = try FigureUseCases.correct(U.principal(), indicator, period: U.q1, value: 31, reason: "recount", revision: 1,
                                               note: nil, at: U.time)
        #expect(value.revision.provisional && value.revision.forecast == 110)
    }

    @Test func revisionsWithoutMarksReadAsFinal() throws {
        let json = #"{"period":"2025/26 Q1","revision":1,"value":3,"submittedBy":"a","submittedAt":"t","late":false}"#
        let revision = try JSONDecoder().decode(FigureRevision.self, from: Data(json.utf8))
        #expect(!revision.provisional && revision.forecast == nil)
    }

    // MARK: rounds

    @Test func anAdministratorOpensOneRoundPerPeriodWithADeadlineAfterItEnds() throws {
        let opening = try RoundUseCases.open(U.admin, plan: Self.plan, cycle: CycleState(), period: Self.q2,
                                             deadline: CalendarDate(year: 2025, month: 11, day: 14), meeting: " Cabinet 2025-12-02 ", at: U.time)
        #expect(opening.round.meeting == "Cabinet 2025-12-02" && opening.round.openedBy == "root" && opening.round.isOpen)
        #expect(opening.audit.message == "round 2025/26 Q2 opened: deadline 2025-11-14, Cabinet 2025-12-02")
        #expect(error { try RoundUseCases.open(U.principal(), plan: Self.plan, cycle: CycleState(), period: Self.q2,
                                               deadline: CalendarDate(year: 2025, month: 11, day: 14), meeting: "x", at: U.time) } is Denial)
        let early = error { try RoundUseCases.open(U.admin, plan: Self.plan, cycle: CycleState(), period: Self.q2,
                                                   deadline: CalendarDate(year: 2025, month: 9, day: 30), meeting: "x", at: U.time) }
        #expect(early as? StoreError == .invalid(param: "deadline", "the deadline 2025-09-30 is not after 2025/26 Q2 ends (2025-09-30): its figures cannot be in by then"))
        let twice = error { try RoundUseCases.open(U.admin, plan: Self.plan, cycle: CycleState(rounds: [Self.round]), period: Self.q2,
                                                   deadline: CalendarDate(year: 2025, month: 11, day: 20), meeting: "x", at: U.time) }
        guard case .conflict(let message, _)? = twice as? StoreError else { Issue.record("\(String(describing: twice))"); return }
        #expect(message.contains("opened already by root"))
        let blank = error { try RoundUseCases.open(U.admin, plan: Self.plan, cycle: CycleState(), period: Self.q2,
                                                   deadline: CalendarDate(year: 2025, month: 11, day: 14), meeting: "  ", at: U.time) }
        #expect((blank as? StoreError).map { if case .invalid("meeting", _) = $0 { true } else { false } } == true)
        let outside = error { try RoundUseCases.open(U.admin, plan: Self.plan, cycle: CycleState(), period: Period(startYear: 2030, quarter: 1),
                                                     deadline: CalendarDate(year: 2030, month: 8, day: 1), meeting: "x", at: U.time) }
        #expect((outside as? FigureRuleViolation)?.param == "period")
    }

    static func planIndicator(_ code: String, owner: String, area: String, frequency: Frequency = .quarterly,
                              figure: FigureRevision? = nil) -> IndicatorState {
        var i = U.indicator(frequency: frequency)
        i.code = code; i.ownerPost = owner; i.serviceArea = area
        if let figure { i.figures[figure.period] = figure }
        return i
    }

    static func figure(_ period: Period = q2, revision: Int = 1, value: Double = 10, validated: Bool = false, provisional: Bool = false,
                       at: String = "2025-10-10T10:00:00") -> FigureRevision {
        FigureRevision(period: period, revision: revision, value: value, note: nil, reason: revision > 1 ? "recount" : nil, submittedBy: "alice",
                       submittedAt: at, late: false, validatedBy: validated ? "root" : nil, validatedAt: nil, provisional: provisional)
    }

    static let indicators = [
        planIndicator("A", owner: "Licensing Manager", area: "Licensing", figure: figure(validated: true)),
        planIndicator("B", owner: "Licensing Manager", area: "Licensing", figure: figure(provisional: true)),
        planIndicator("C", owner: "Head of Housing", area: "Housing"),
        // The year is not over by the Q2 round's deadline: not wanted.
        planIndicator("D", owner: "Head of Housing", area: "Housing", frequency: .annual),
    ]

    @Test func aRoundCountsWhatItWantsByOwnerAndServiceArea() {
        let progress = RoundProgress(round: Self.round, planID: 1, indicators: Self.indicators)
        #expect(progress.total == .init(name: "", wanted: 3, submitted: 2, validated: 1, provisional: 1, missing: 1))
        #expect(progress.byOwner == [.init(name: "Head of Housing", wanted: 1, missing: 1),
                                     .init(name: "Licensing Manager", wanted: 2, submitted: 2, validated: 1, provisional: 1)])
        #expect(progress.byServiceArea.map(\.name) == ["Housing", "Licensing"])
        #expect(progress.missing == [.init(indicator: "C", title: "Licences", ownerPost: "Head of Housing", period: Self.q2)])
        // Another plan's indicators are not the round's.
        #expect(RoundProgress(round: Self.round, planID: 2, indicators: Self.indicators).total.wanted == 0)
    }

    @Test func aRoundClosesWithFiguresMissingOnlyByForceWithAReason() throws {
        let progress = RoundProgress(round: Self.round, planID: 1, indicators: Self.indicators)
        let refused = error { try RoundUseCases.close(U.admin, progress: progress, force: false, reason: nil, at: U.time) }
        guard case .conflict(let message, let hint)? = refused as? StoreError else { Issue.record("\(String(describing: refused))"); return }
        #expect(message.hasPrefix("1 figure is still missing from the round for 2025/26 Q2: C (Head of Housing)") && hint?.method == "round.show")
        #expect((error { try RoundUseCases.close(U.admin, progress: progress, force: true, reason: " ", at: U.time) } as? StoreError)
            .map { if case .invalid("reason", _) = $0 { true } else { false } } == true)
        #expect(error { try RoundUseCases.close(U.principal(), progress: progress, force: true, reason: "x", at: U.time) } is Denial)
        let closing = try RoundUseCases.close(U.admin, progress: progress, force: true, reason: "Housing figure follows", at: U.time)
        #expect(!closing.round.isOpen && closing.round.forced && closing.round.closeReason == "Housing figure follows")
        var closed = progress
        closed.round = closing.round
        #expect(error { try RoundUseCases.close(U.admin, progress: closed, force: true, reason: "x", at: U.time) } is StoreError)
        // Nothing missing: no force needed, and none recorded.
        let complete = RoundProgress(round: Self.round, planID: 1, indicators: Array(Self.indicators.prefix(2)))
        let plain = try RoundUseCases.close(U.admin, progress: complete, force: false, reason: nil, at: U.time)
        #expect(!plain.round.forced && plain.round.closeReason == nil)
    }

    @Test func roundRemindersLeadUpToTheDeadlineAndEscalateOnceAfter() {
        let deadline = CalendarDate(year: 2025, month: 11, day: 14), settings = ReminderSettings()
        func step(_ day: Int, month: Int = 11) -> ReminderStep? {
            ReminderRules.round(deadline: deadline, today: CalendarDate(year: 2025, month: month, day: day), settings: settings)
        }
        #expect(step(1) == nil)
        #expect(step(7) == ReminderStep(kind: .roundDue, step: "7d", dueDate: deadline))
        #expect(step(13)?.step == "1d" && step(14)?.step == "1d")
        #expect(step(15) == ReminderStep(kind: .roundDue, step: "missed", dueDate: deadline, escalate: true))
        #expect(step(2, month: 12)?.step == "missed")
    }

    // MARK: published reports

    @Test func aReportsNumberNamesThePlanThePeriodAndTheOrdinal() {
        #expect(Publication.number(plan: "CS-2025-2028", period: Self.q2, ordinal: 1) == "CS-2025/26-Q2-1")
        #expect(Publication.number(plan: "CS-2025-2028", period: Period(startYear: 2025), ordinal: 3) == "CS-2025/26-3")
    }

    @Test func aCorrectionOfAPublishedFigureIsARestatementUntilTheNextPublication() {
        let shown = ReportedFigure(indicator: "A", period: Self.q2, revision: 1, value: 10, provisional: false)
        let published = Publication(number: "CS-2025/26-Q2-1", plan: "CS-2025-2028", period: Self.q2, meeting: "Cabinet 2025-12-02",
                                    publishedBy: "root", publishedAt: "2025-11-20T10:00:00", jsonSHA256: "", htmlSHA256: "", figures: [shown])
        let corrected = [Self.planIndicator("A", owner: "Licensing Manager", area: "Licensing",
                                            figure: Self.figure(revision: 2, value: 12, at: "2025-12-10T09:00:00"))]
        let restated = CycleState.restatements(of: [published], indicators: corrected, unlisted: true)
        #expect(restated == [Restatement(indicator: "A", period: Self.q2, report: "CS-2025/26-Q2-1", meeting: "Cabinet 2025-12-02",
                                         reportedValue: 10, reportedRevision: 1, restatedValue: 12, revision: 2, reason: "recount",
                                         by: "alice", at: "2025-12-10T09:00:00")])
        // Listed once: after a report that listed it, the next does not list it again; the
        // publication's own list (report show --restatements) still has it.
        var next = published
        next.number = "CS-2025/26-Q3-1"
        next.figures = []
        next.restatements = restated
        #expect(CycleState.restatements(of: [published, next], indicators: corrected, unlisted: true).isEmpty)
        #expect(CycleState.restatements(of: [published], indicators: corrected) == restated)
        // A new revision with the same value (finalised) is no restatement.
        let finalised = [Self.planIndicator("A", owner: "Licensing Manager", area: "Licensing",
                                            figure: Self.figure(revision: 2, value: 10, at: "2025-12-10T09:00:00"))]
        #expect(CycleState.restatements(of: [published], indicators: finalised).isEmpty)
    }
}
