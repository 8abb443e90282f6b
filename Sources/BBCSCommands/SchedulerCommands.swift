import ArgumentParser
import BBCSCore
import BBCSProtocol
import Foundation

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
