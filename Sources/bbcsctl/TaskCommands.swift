import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

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

struct Reminders: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Your reminders: tasks due and overdue, figures owed, strategies to renew.",
        subcommands: [List.self, Ack.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List your reminders not yet acknowledged.")
        @OptionGroup var connection: Connection
        @Flag(help: "Include acknowledged reminders.") var all = false
        @Flag(help: "Every reminder whose mail keeps failing, with the error (administrators).") var failed = false

        func run() throws {
            try connection.run(ReminderListRequest(all: all ? true : nil, failed: failed ? true : nil)) { r in
                guard !r.reminders.isEmpty else { return print(failed ? "no mail is failing" : "no reminders") }
                var table = failed ? Table("Id", "To", "Attempts", "Error", "Reminder") : Table("Id", "Due", "State", "Reminder")
                for m in r.reminders {
                    if failed {
                        table.add("\(m.id)", m.recipient, "\(m.mailAttempts)", m.mailLastError ?? "", m.title)
                    } else {
                        table.add("\(m.id)", m.dueDate.description, m.ackedAt == nil ? "new" : "acknowledged", m.title)
                    }
                }
                print(table.render())
                if !failed { print("acknowledge with: bbcsctl reminders ack ID") }
            }
        }
    }

    struct Ack: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge one of your reminders.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("The reminder's number.", valueName: "id")) var id: Int

        func run() throws {
            try connection.run(ReminderAckRequest(id: id)) { print("acknowledged \($0.id): \($0.title)") }
        }
    }
}

struct SchedulerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler", abstract: "Run the reminder scheduler (administrators).", subcommands: [Run.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record the reminders due today and send pending mail, now.")
        @OptionGroup var connection: Connection

        func run() throws {
            try connection.run(SchedulerRunRequest()) { r in
                print("\(r.day): \(r.created) new reminders, \(r.mailed) mailed, \(r.mailFailed) mail failures (retried later)")
            }
        }
    }
}

extension ReportFormat: ExpressibleByArgument {}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The performance report for a period, for GMT and Cabinet: text, markdown, html, csv or json.",
        discussion: """
            The daemon computes the report from live data; this command only lays it out. HTML is one
            self-contained file with a chart per indicator, made to read on screen and print on A4.
            JSON and CSV carry the same data (the README documents the JSON shape).
            """)
    @OptionGroup var connection: Connection
    @Option(help: ArgumentHelp("Period, e.g. \"2025/26 Q2\" or \"2025/26\".", valueName: "period")) var period: Period
    @Option(help: ArgumentHelp("Only this objective, e.g. CS1.", valueName: "code")) var objective: String?
    @Option(help: ArgumentHelp("text, markdown, html, csv or json.", valueName: "format")) var format: ReportFormat = .text
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var output: String?

    func run() throws {
        let report = try connection.session { try $0.call(ReportRequest(period: period, objective: objective)) }
        let text = format.render(report)
        guard let output else { return FileHandle.standardOutput.write(Data(text.utf8)) }
        do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch {
            FileHandle.standardError.write(Data("bbcsctl: cannot write \(output): \(error.localizedDescription)\n".utf8))
            throw ExitCode(Exit.usage)
        }
        FileHandle.standardError.write(Data("wrote \(output) (\(format.rawValue), \(text.utf8.count) bytes, \(report.summary.indicators) indicators)\n".utf8))
    }
}
