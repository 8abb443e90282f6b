import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct TargetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "target", abstract: "Set and read indicators' targets and tolerances.", subcommands: [SetTarget.self, History.self])

    struct SetTarget: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Set a period's target, and optionally the tolerance (administrators).",
            discussion: "The tolerance is the amber band as a percentage of target (default 5). Every change keeps the old value and the reason.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code.", valueName: "code")) var code: String
        @Argument(help: ArgumentHelp("A year of the plan, or a quarter of a quarterly indicator.", valueName: "period")) var period: Period
        @Argument(help: ArgumentHelp("The target.", valueName: "value")) var value: Amount
        @Option(help: ArgumentHelp("Amber band, percent of target (0 to 100).", valueName: "pct")) var tolerance: Amount?
        @Option(help: ArgumentHelp("Why the target changed (required).", valueName: "text")) var reason: String

        func run() throws {
            let request = TargetSetRequest(code: code, period: period, value: value.value, tolerance: tolerance?.value, reason: reason)
            try connection.run(request) { r in
                let c = r.change
                print("\(r.indicator) \(c.period) target \(formatValue(c.oldValue, percent: false)) → \(FigureRules.format(c.newValue))"
                      + (c.newTolerance != c.oldTolerance ? ", tolerance \(formatValue(c.oldTolerance, percent: true)) → \(formatValue(c.newTolerance, percent: true))" : ""))
            }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every change of an indicator's targets and tolerance.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code.", valueName: "code")) var code: String

        func run() throws {
            try connection.run(TargetHistoryRequest(code: code)) { r in
                guard !r.changes.isEmpty else { return print("\(r.indicator): targets as the plan set them; no changes") }
                var table = Table("At", "By", "Period", "Target", "Tolerance", "Reason")
                for c in r.changes {
                    table.add(c.changedAt, c.changedBy, c.period.description,
                              "\(formatValue(c.oldValue, percent: false)) → \(FigureRules.format(c.newValue))",
                              "\(formatValue(c.oldTolerance, percent: true)) → \(formatValue(c.newTolerance, percent: true))", c.reason)
                }
                print(table.render())
            }
        }
    }
}
