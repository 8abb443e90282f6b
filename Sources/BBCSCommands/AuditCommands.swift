import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the audit trail, newest first (administrators): every change and every refused attempt.")
    @OptionGroup var connection: Connection
    @Option(help: ArgumentHelp("An indicator code, login or post.", valueName: "object")) var object: String?
    @Option(help: ArgumentHelp("Who acted (login).", valueName: "login")) var user: String?
    @Option(help: ArgumentHelp("On or after this day, YYYY-MM-DD.", valueName: "date")) var since: CalendarDate?
    @Option(help: ArgumentHelp("Most rows (default 100).", valueName: "n")) var limit: Int?

    func run() throws {
        try connection.run(AuditListRequest(object: object, user: user, since: since, limit: limit)) { r in
            var table = Table("At", "Who", "Method", "Object", "Outcome", "What")
            for e in r.entries {
                table.add(e.at, "\(e.login) (uid \(e.uid))", e.method, e.object ?? "-", e.outcome.rawValue, e.message ?? "")
            }
            print(table.render())
            print("\(r.entries.count) entries")
        }
    }
}
