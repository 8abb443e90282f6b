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
                table.add(e.at, "\(e.login) (uid \(e.uid))", e.method, e.object ?? "-", Self.outcome(e), Self.what(e))
            }
            print(table.render())
            let attempts = r.entries.map(\.attempts).reduce(0, +)
            print("\(r.entries.count) entries" + (attempts > r.entries.count ? ", standing for \(attempts) attempts" : ""))
        }
    }

    /// "denied ×312" for a row standing for several refused attempts.
    static func outcome(_ e: AuditEntry) -> String {
        e.attempts > 1 ? "\(e.outcome.rawValue) ×\(e.attempts)" : e.outcome.rawValue
    }

    /// The message, after when the attempts of a collapsed row were made: "between 10:01:02
    /// and 10:02:02" on one day, the full times across days.
    static func what(_ e: AuditEntry) -> String {
        guard e.attempts > 1, let last = e.lastAt else { return e.message ?? "" }
        let sameDay = last.prefix(10) == e.at.prefix(10)
        let span = sameDay ? "between \(e.at.dropFirst(11)) and \(last.dropFirst(11))" : "between \(e.at) and \(last)"
        return [span, e.message].compactMap { $0 }.joined(separator: ": ")
    }
}
