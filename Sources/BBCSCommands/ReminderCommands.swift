import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct Reminders: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Your reminders: tasks due and overdue, figures owed, strategies to renew.",
        subcommands: [List.self, Ack.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List your reminders not yet acknowledged.",
            discussion: "A reminder whose date has since moved (a rescheduled task, a new renewal date) is superseded: it leaves the list and is shown with --all.")
        @OptionGroup var connection: Connection
        @Flag(help: "Include acknowledged and superseded reminders.") var all = false
        @Flag(help: "Every reminder whose mail keeps failing, with the error (administrators).") var failed = false

        func run() throws {
            try connection.run(ReminderListRequest(all: all ? true : nil, failed: failed ? true : nil)) { r in
                guard !r.reminders.isEmpty else { return print(failed ? "no mail is failing" : "no reminders") }
                var table = failed ? Table("Id", "To", "Attempts", "Error", "Reminder") : Table("Id", "Due", "State", "Reminder")
                for m in r.reminders {
                    if failed {
                        table.add("\(m.id)", m.recipient, "\(m.mailAttempts)", m.mailLastError ?? "", m.title)
                    } else {
                        let state = m.supersededAt != nil ? "superseded" : m.ackedAt == nil ? "new" : "acknowledged"
                        table.add("\(m.id)", m.dueDate.description, state, m.title)
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
