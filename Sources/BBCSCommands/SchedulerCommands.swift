import ArgumentParser
import BBCSCore
import BBCSProtocol
import Foundation

struct SchedulerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler", abstract: "Run the reminder scheduler (administrators).", subcommands: [Run.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record the reminders due today, now, and wake the mail delivery.")
        @OptionGroup var connection: Connection

        func run() throws {
            try connection.run(SchedulerRunRequest()) { r in
                print("\(r.day): \(r.created) new reminders, \(r.mailWaiting) waiting to be mailed; since bbcsd started, "
                      + "\(r.mailed) mailed and \(r.mailFailed) mail failures (retried later)")
            }
        }
    }
}
