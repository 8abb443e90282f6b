import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

private func printRound(_ r: ReportingRound) {
    let state = r.isOpen ? "open" : "closed by \(r.closedBy ?? "-") at \(r.closedAt ?? "-")" + (r.forced ? " with figures missing (\(r.closeReason ?? ""))" : "")
    print("round \(r.period) for \(r.meeting): deadline \(r.deadline), opened by \(r.openedBy) at \(r.openedAt); \(state)")
}

struct RoundCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "round", abstract: "Open, follow and close the reporting rounds that take figures to Cabinet.",
        discussion: """
            A round collects one period's figures by a deadline for one meeting. Owners see its deadline in `bbcsctl due` and \
            are reminded as it nears; `round show` lists what is still missing; `report publish --round` freezes its report.
            """,
        subcommands: [Open.self, List.self, Show.self, Close.self])

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open the round for a period (administrators).")
        @OptionGroup var connection: Connection
        @OptionGroup var plan: PlanOption
        @Argument(help: ArgumentHelp("The period reported, e.g. \"2025/26 Q2\".", valueName: "period")) var period: Period
        @Option(help: ArgumentHelp("The day the figures are wanted by (YYYY-MM-DD), after the period ends.", valueName: "date"))
        var deadline: CalendarDate
        @Option(help: ArgumentHelp("The meeting reported to, e.g. \"Cabinet 2025-12-02\".", valueName: "text")) var meeting: String

        func run() throws {
            try connection.run(plan.scoped(RoundOpenRequest(period: period, deadline: deadline, meeting: meeting))) { printRound($0) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every round, newest period first.")
        @OptionGroup var connection: Connection
        @OptionGroup var plan: PlanOption

        func run() throws {
            try connection.run(plan.scoped(RoundListRequest())) { result in
                guard !result.rounds.isEmpty else { return print("no reporting round has been opened") }
                var table = Table("Period", "Deadline", "Meeting", "State", "Opened by")
                for r in result.rounds {
                    table.add(r.period.description, r.deadline.description, r.meeting,
                              r.isOpen ? "open" : r.forced ? "closed (forced)" : "closed", r.openedBy)
                }
                print(table.render())
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What a round has and still needs: by owner and service area, and every missing figure.")
        @OptionGroup var connection: Connection
        @OptionGroup var plan: PlanOption
        @Argument(help: ArgumentHelp("The round's period (default: the open round of the newest period).", valueName: "period"))
        var period: Period?

        func run() throws {
            try connection.run(plan.scoped(RoundShowRequest(period: period))) { p in
                printRound(p.round)
                let t = p.total
                print("\(t.wanted) figures wanted: \(t.submitted) submitted (\(t.validated) validated, \(t.provisional) provisional), \(t.missing) missing")
                for (title, tallies) in [("By owner", p.byOwner), ("By service area", p.byServiceArea)] {
                    var table = Table(title, "Wanted", "Submitted", "Validated", "Provisional", "Missing")
                    for row in tallies { table.add(row.name, "\(row.wanted)", "\(row.submitted)", "\(row.validated)", "\(row.provisional)", "\(row.missing)") }
                    print("\n" + table.render())
                }
                if !p.missing.isEmpty {
                    var table = Table("Missing", "Period", "Owner", "Title")
                    for m in p.missing { table.add(m.indicator, m.period.description, m.ownerPost, m.title) }
                    print("\n" + table.render())
                }
            }
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a round (administrators); refused while figures are missing unless --force with --reason.")
        @OptionGroup var connection: Connection
        @OptionGroup var plan: PlanOption
        @Argument(help: ArgumentHelp("The round's period.", valueName: "period")) var period: Period
        @Flag(help: "Close even with figures missing.") var force = false
        @Option(help: ArgumentHelp("Why the round closes with figures missing (required with --force).", valueName: "text"))
        var reason: String?

        func run() throws {
            try connection.run(plan.scoped(RoundCloseRequest(period: period, force: force ? true : nil, reason: reason))) { printRound($0) }
        }
    }
}
