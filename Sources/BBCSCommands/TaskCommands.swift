import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct Tasks: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List key tasks; undated tasks show their note instead of a date.")
    @OptionGroup var connection: Connection
    @OptionGroup var plan: PlanOption
    @Flag(help: "Retired tasks too (those a later revision of the plan no longer lists).") var all = false
    @Option(help: ArgumentHelp("A responsible post.", valueName: "post")) var post: String?
    @Option(help: ArgumentHelp("not_started, on_track, at_risk, off_track, completed, deferred or cancelled.", valueName: "status"))
    var status: TaskStatus?
    @Option(help: ArgumentHelp("Target date on or before (YYYY-MM-DD).", valueName: "date")) var dueBefore: CalendarDate?
    @Option(help: ArgumentHelp("Target date on or after (YYYY-MM-DD).", valueName: "date")) var dueAfter: CalendarDate?
    @Flag(help: "Only open tasks past their target date.") var overdue = false
    @Option(help: ArgumentHelp("Only open tasks due from today to this many days ahead.", valueName: "days")) var dueWithin: Int?
    @Flag(help: "Only tasks for which a post you hold is responsible.") var mine = false

    func run() throws {
        var request = plan.scoped(TaskListRequest(post: post, status: status, dueBefore: dueBefore, dueAfter: dueAfter,
                                                  overdue: overdue ? true : nil, dueWithin: dueWithin, mine: mine ? true : nil))
        request.all = all ? true : nil
        try connection.run(request) { result in
            var table = Table("Code", "Obj", "Target", "Status", "Done", "Responsible", "Action")
            for t in result.tasks {
                table.add(t.code + (t.retiredIn.map { " (retired in revision \($0))" } ?? ""), t.objective, (t.targetDate?.description ?? "undated") + (t.overdue ? " OVERDUE" : ""), t.status.rawValue,
                          "\(t.progress)%", t.responsiblePosts.joined(separator: "; "), t.action)
            }
            print(table.render())
            print("\(result.tasks.count) tasks")
        }
    }
}

struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Show a key task, record its progress, move its target date, read its history.",
        subcommands: [Show.self, Update.self, Reschedule.self, History.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a key task with its partners, budget and risks.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Task code, e.g. BCRPASB_27.", valueName: "code")) var code: String

        func run() throws {
            try connection.run(TaskShowRequest(code: code)) { d in
                let t = d.task
                print("\(t.code)  \(t.action)" + (t.isNew ? "  (new)" : ""))
                print("  objective \(t.objective); status \(t.status.rawValue), \(t.progress)% done"
                      + (t.completedOn.map { ", completed \($0)" } ?? ""))
                print("  target: \(t.targetDate?.description ?? "undated") (\"\(t.targetText)\")" + (t.overdue ? ", OVERDUE" : ""))
                if d.slippage.times > 0 { print("  slipped \(d.slippage.times) time(s), \(d.slippage.days) days in all") }
                print("  responsible: \(t.responsiblePosts.joined(separator: "; "))")
                if !d.partners.isEmpty { print("  partners: \(d.partners.joined(separator: "; "))") }
                if !d.aliases.isEmpty { print("  also written: \(d.aliases.joined(separator: ", "))") }
                if !d.outcome.isEmpty { print("\nOutcome:\n" + wrap(d.outcome)) }
                if !d.budgetComment.isEmpty { print("\nBudget:\n" + wrap(d.budgetComment)) }
                if !d.risks.isEmpty {
                    print("\nRisks:")
                    for risk in d.risks {
                        let covered = risk.strategicRisks.isEmpty ? "not covered by a strategic risk"
                            : "strategic risks \(risk.strategicRisks.map(String.init).joined(separator: ", "))"
                        print(wrap("- \(risk.threat) (\(covered)). Mitigation: \(risk.mitigation)"))
                    }
                }
            }
        }
    }
}

private func printTask(_ t: TaskSummary) {
    print("\(t.code): \(t.status.rawValue), \(t.progress)% done, target \(t.targetDate?.description ?? "undated")"
          + (t.overdue ? " (OVERDUE)" : "") + (t.completedOn.map { ", completed \($0)" } ?? ""))
}

extension TaskCommand {
    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a task's progress (holders of a responsible post, administrators).",
            discussion: "Statuses: not_started, on_track, at_risk, off_track, completed, deferred, cancelled. Completing a task records today as its completion date and sets 100% unless --progress says otherwise.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Task code.", valueName: "code")) var code: String
        @Option(help: ArgumentHelp("New status.", valueName: "status")) var status: TaskStatus?
        @Option(help: ArgumentHelp("Percentage done, 0 to 100.", valueName: "pct")) var progress: Int?
        @Option(help: ArgumentHelp("What happened (required).", valueName: "text")) var note: String

        func run() throws {
            try connection.run(TaskUpdateRequest(code: code, status: status, progress: progress, note: note), render: printTask)
        }
    }

    struct Reschedule: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a task's target date; the old date and the reason are kept.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Task code.", valueName: "code")) var code: String
        @Argument(help: ArgumentHelp("New target date, YYYY-MM-DD.", valueName: "date")) var date: CalendarDate
        @Option(help: ArgumentHelp("Why it moves (required).", valueName: "text")) var reason: String

        func run() throws {
            try connection.run(TaskRescheduleRequest(code: code, date: date, reason: reason), render: printTask)
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A task's updates and target-date changes, with its slippage.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Task code.", valueName: "code")) var code: String

        func run() throws {
            try connection.run(TaskHistoryRequest(code: code)) { r in
                printTask(r.task)
                print("slipped \(r.slippage.times) time(s), \(r.slippage.days) days in all")
                guard !r.changes.isEmpty else { return print("no updates yet") }
                var table = Table("At", "By", "Change", "Note")
                for c in r.changes {
                    let change = c.kind == .reschedule
                        ? "target \(c.oldDate?.description ?? "none") → \(c.newDate?.description ?? "none")"
                        : "\(c.oldStatus?.rawValue ?? "-") → \(c.newStatus?.rawValue ?? "-"), \(c.oldProgress ?? 0)% → \(c.newProgress ?? 0)%"
                    table.add(c.changedAt, c.changedBy, change, c.note)
                }
                print(table.render())
            }
        }
    }
}
