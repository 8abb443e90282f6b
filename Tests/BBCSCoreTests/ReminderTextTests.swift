import BBCSCore
import Testing

/// The words stored with each reminder and mailed, composed from a subject's facts.
@Suite("reminder text")
struct ReminderTextTests {
    func day(_ text: String) -> CalendarDate { CalendarDate(iso: text)! }

    @Test(arguments: [
        (ReminderKind.taskDue, "2026-03-04", "BCRPASB_27 is due in 27 days (2026-03-31)"),
        (.taskDue, "2026-03-30", "BCRPASB_27 is due in 1 day (2026-03-31)"),
        (.taskDueToday, "2026-03-31", "BCRPASB_27 is due today (2026-03-31)"),
        (.taskOverdue, "2026-04-01", "BCRPASB_27 is 1 day overdue (due 2026-03-31)"),
        (.taskOverdue, "2026-04-14", "BCRPASB_27 is 14 days overdue (due 2026-03-31)"),
    ])
    func taskTitles(kind: ReminderKind, today: String, title: String) {
        let text = ReminderText.task(code: "BCRPASB_27", action: "Deliver the plan", target: day("2026-03-31"), kind: kind, today: day(today))
        #expect(text.title == title)
        #expect(text.body == """
            Key task BCRPASB_27: Deliver the plan

            Target date: 2026-03-31.
            Record progress with: bbcsctl task update BCRPASB_27 --status STATUS --progress PCT --note TEXT
            Move the date with: bbcsctl task reschedule BCRPASB_27 YYYY-MM-DD --reason TEXT
            """)
    }

    @Test func figureTexts() {
        let period = Period("2025/26 Q3")!
        let due = ReminderStep(kind: .figureDue, step: "due", dueDate: day("2026-01-30"))
        let text = ReminderText.figure(code: "ComS_011", title: "All crime", period: period, step: due, today: day("2026-01-05"))
        #expect(text.title == "ComS_011 2025/26 Q3 figure is due by 2026-01-30")
        #expect(text.body == """
            Indicator ComS_011: All crime

            Period 2025/26 Q3 ended 2025-12-31; its figure is due by 2026-01-30.
            Submit it with: bbcsctl figure submit ComS_011 "2025/26 Q3" VALUE --note TEXT
            """)
        let overdue = ReminderStep(kind: .figureOverdue, step: "week-1", dueDate: day("2026-01-30"))
        #expect(ReminderText.figure(code: "ComS_011", title: "All crime", period: period, step: overdue, today: day("2026-02-04")).title
                == "ComS_011 2025/26 Q3 figure is 5 days overdue (due 2026-01-30)")
    }

    @Test func strategyTextsAndAdministratorsCopies() {
        let soon = ReminderText.strategy(name: "Community Safety Strategy", renewalText: "March 2027", renewal: day("2027-03-31"),
                                         today: day("2027-03-03"))
        #expect(soon.title == "Community Safety Strategy is due for renewal in 28 days (2027-03-31)")
        #expect(soon.body == "Strategy or policy: Community Safety Strategy\nRenewal: March 2027 (2027-03-31).")
        let late = ReminderText.strategy(name: "Community Safety Strategy", renewalText: "March 2027", renewal: day("2027-03-31"),
                                         today: day("2027-04-02"))
        #expect(late.title == "Community Safety Strategy was due for renewal on 2027-03-31")
        let unheld = soon.unheld(posts: ["Head of Service", "Licensing Manager"]).escalated
        #expect(unheld.title == "[escalated] " + soon.title)
        #expect(unheld.body == soon.body + "\n\nNobody holds Head of Service or Licensing Manager today, so this reminder goes to the administrators.")
    }
}
