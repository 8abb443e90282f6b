import BBCSCore
import Testing

@Suite("reminder rules")
struct ReminderRulesTests {
    let settings = ReminderSettings()
    func day(_ text: String) -> CalendarDate { CalendarDate(iso: text)! }

    /// BCRPASB_27 is due on 31 March 2026.
    @Test(arguments: [
        ("2026-03-02", nil, nil, false),              // 29 days ahead: nothing yet
        ("2026-03-03", "task_due", "28d", false),     // 28 days
        ("2026-03-04", "task_due", "28d", false),     // 27 days: still the 28-day step
        ("2026-03-24", "task_due", "7d", false),
        ("2026-03-29", "task_due", "7d", false),      // 2 days
        ("2026-03-30", "task_due", "1d", false),
        ("2026-03-31", "task_due_today", "today", false),
        ("2026-04-01", "task_overdue", "week-1", false),
        ("2026-04-07", "task_overdue", "week-1", false),
        ("2026-04-08", "task_overdue", "week-2", false),
        ("2026-04-14", "task_overdue", "week-2", false),  // 14 days: not yet escalated
        ("2026-04-15", "task_overdue", "week-3", true),   // 15 days: administrators too
    ] as [(String, String?, String?, Bool)])
    func taskSteps(_ today: String, _ kind: String?, _ step: String?, _ escalate: Bool) {
        let found = ReminderRules.task(target: day("2026-03-31"), today: day(today), settings: settings)
        #expect(found?.kind.rawValue == kind)
        #expect(found?.step == step)
        #expect((found?.escalate ?? false) == escalate)
    }

    @Test func leadTimesAreConfigurable() {
        var settings = self.settings
        settings.taskLeadDays = [14, 3]
        #expect(ReminderRules.task(target: day("2026-03-31"), today: day("2026-03-04"), settings: settings) == nil)
        #expect(ReminderRules.task(target: day("2026-03-31"), today: day("2026-03-17"), settings: settings)?.step == "14d")
        #expect(ReminderRules.task(target: day("2026-03-31"), today: day("2026-03-29"), settings: settings)?.step == "3d")
    }

    @Test func figureSteps() {
        let q1 = Period("2025/26 Q1")!   // ends 30 June, due 30 July
        let tracked = day("2025-04-01")
        #expect(ReminderRules.figure(period: q1, today: day("2025-06-30"), trackedFrom: tracked, settings: settings) == nil)
        #expect(ReminderRules.figure(period: q1, today: day("2025-07-01"), trackedFrom: tracked, settings: settings)
                == ReminderStep(kind: .figureDue, step: "due", dueDate: day("2025-07-30")))
        #expect(ReminderRules.figure(period: q1, today: day("2025-07-30"), trackedFrom: tracked, settings: settings)?.step == "due")
        #expect(ReminderRules.figure(period: q1, today: day("2025-07-31"), trackedFrom: tracked, settings: settings)
                == ReminderStep(kind: .figureOverdue, step: "week-1", dueDate: day("2025-07-30")))
    }

    /// Go-live: periods that ended before figures are tracked are never chased; one ending on
    /// the day itself is.
    @Test func figuresAreChasedFromTheDayTheyAreTracked() {
        let q1 = Period("2025/26 Q1")!, q2 = Period("2025/26 Q2")!   // end 30 June and 30 September 2025
        let today = day("2026-04-02")
        #expect(ReminderRules.figure(period: q1, today: today, trackedFrom: day("2025-07-01"), settings: settings) == nil)
        #expect(ReminderRules.figure(period: q1, today: today, trackedFrom: day("2025-06-30"), settings: settings)?.kind == .figureOverdue)
        #expect(ReminderRules.figure(period: q2, today: today, trackedFrom: day("2025-07-01"), settings: settings)?.kind == .figureOverdue)
    }

    /// Unset, `figures_tracked_from` is the day the plan was first loaded.
    @Test func figuresAreTrackedFromThePlansFirstLoadUnlessSet() {
        var settings = self.settings
        #expect(settings.figuresTracked(loadedOn: day("2026-04-02")) == day("2026-04-02"))
        settings.figuresTrackedFrom = day("2025-04-01")
        #expect(settings.figuresTracked(loadedOn: day("2026-04-02")) == day("2025-04-01"))
    }

    /// The step a moved date calls for counts from the new date, so it is another reminder
    /// from the same step for the old date.
    @Test func aMovedDateCallsForItsOwnSteps() {
        let old = ReminderRules.task(target: day("2026-03-31"), today: day("2026-03-04"), settings: settings)
        let moved = ReminderRules.task(target: day("2026-03-20"), today: day("2026-03-04"), settings: settings)
        #expect(old?.step == "28d" && moved?.step == "28d")
        #expect(old?.dueDate == day("2026-03-31") && moved?.dueDate == day("2026-03-20"))
        let renewal = ReminderRules.strategy(renewal: day("2026-12-15"), today: day("2026-10-02"), settings: settings)
        #expect(renewal == ReminderStep(kind: .strategyRenewal, step: "90d", dueDate: day("2026-12-15")))
    }

    /// Each kind belongs to exactly one subject's family, so a moved date supersedes only its own.
    @Test func everyKindBelongsToOneSubject() {
        let families = ReminderKind.ofTask + ReminderKind.ofFigure + ReminderKind.ofRound + ReminderKind.ofStrategy
        #expect(families.count == ReminderKind.allCases.count && Set(families) == Set(ReminderKind.allCases))
    }

    @Test func strategySteps() {
        let renewal = day("2026-12-31")
        #expect(ReminderRules.strategy(renewal: renewal, today: day("2026-09-01"), settings: settings) == nil)   // 121 days
        #expect(ReminderRules.strategy(renewal: renewal, today: day("2026-10-02"), settings: settings)?.step == "90d")
        #expect(ReminderRules.strategy(renewal: renewal, today: day("2026-12-03"), settings: settings)?.step == "28d")
        #expect(ReminderRules.strategy(renewal: renewal, today: day("2027-01-05"), settings: settings)?.step == "due")
    }

    @Test func slippageCountsOnlyLaterDates() {
        func move(_ from: String?, _ to: String) -> TaskChange {
            TaskChange(kind: .reschedule, oldStatus: nil, newStatus: nil, oldProgress: nil, newProgress: nil,
                       oldDate: from.map(day), newDate: day(to), note: "x", changedBy: "a", changedAt: "")
        }
        let slippage = Slippage([move("2026-03-31", "2026-06-30"), move("2026-06-30", "2026-05-31"), move(nil, "2026-09-30"),
                                 move("2026-05-31", "2026-07-31")])
        #expect(slippage == Slippage(times: 2, days: 91 + 61))
    }
}
