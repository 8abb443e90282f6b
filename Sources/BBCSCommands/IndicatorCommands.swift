import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct Indicators: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List performance indicators and service data.")
    @OptionGroup var connection: Connection
    @OptionGroup var plan: PlanOption
    @Flag(help: "Retired indicators too (those a later revision of the plan no longer lists).") var all = false
    @Option(help: ArgumentHelp("Objective code, e.g. CS1.", valueName: "code")) var objective: String?
    @Option(help: ArgumentHelp("service_data, csi, kpi or mpi.", valueName: "category")) var category: IndicatorCategory?
    @Option(help: ArgumentHelp("Service area name.", valueName: "name")) var serviceArea: String?
    @Option(help: ArgumentHelp("Owner post name.", valueName: "post")) var owner: String?

    func run() throws {
        var request = plan.scoped(IndicatorListRequest(objective: objective, category: category, serviceArea: serviceArea, ownerPost: owner))
        request.all = all ? true : nil
        try connection.run(request) { result in
            var table = Table("Code", "Category", "Obj", "Unit", "Freq", "Latest", "RAG", "Owner", "Title")
            for i in result.indicators {
                let latest = i.periods.last { $0.figure != nil }
                table.add(i.code + (i.retiredIn.map { " (retired in revision \($0))" } ?? ""), i.category.rawValue, i.objective ?? "-", i.unit.rawValue, i.frequency.rawValue,
                          latest.map { "\($0.period) \(formatValue($0.figure?.value, percent: i.unit == .percent))" } ?? "-",
                          latest?.rag.rawValue ?? "-", i.ownerPost, i.title)
            }
            print(table.render())
            print("\(result.indicators.count) indicators")
        }
    }
}

struct IndicatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "indicator", abstract: "Work with one indicator.", subcommands: [Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an indicator's definition, baseline, targets and figures.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code, e.g. ComS_011.", valueName: "code")) var code: String

        func run() throws {
            try connection.run(IndicatorShowRequest(code: code)) { d in
                let i = d.indicator
                let percent = i.unit == .percent
                print("\(i.code)  \(i.title)")
                print("  category \(i.category.rawValue), objective \(i.objective ?? "none"), service area \(i.serviceArea)")
                print("  unit \(i.unit.rawValue), polarity \(i.polarity.rawValue), \(i.frequency.rawValue)"
                      + ", tolerance \(formatValue(i.tolerance ?? 5, percent: true))" + (i.tolerance == nil ? " (default)" : ""))
                print("  owner \(i.ownerPost)" + (d.ownerFromDocument ? "" : " (service area head; the plan names no owner)"))
                if let parent = i.parent { print("  part of \(parent)") }
                if !d.children.isEmpty { print("  parts: \(d.children.joined(separator: ", "))") }
                if !d.aliases.isEmpty { print("  also written: \(d.aliases.joined(separator: ", "))") }
                if i.isNew { print("  new in this plan") }
                if let retired = i.retiredIn { print("  retired: revision \(retired) of the plan no longer lists it") }
                let planYears = Set(i.periods.map { $0.period.year.description })
                let baseline = d.actuals.keys.filter { !planYears.contains($0) }.sorted()
                if !baseline.isEmpty {
                    print("  baseline: " + baseline.map { "\($0) \(formatValue(d.actuals[$0], percent: percent))" }.joined(separator: ", "))
                }
                let targets = d.targets.keys.sorted().map { period in
                    "\(period) \(formatValue(d.targets[period], percent: percent))" + (d.targetSources?[period].map { " (\($0))" } ?? "")
                }
                print("  targets: " + (targets.isEmpty ? "none set" : targets.joined(separator: ", ")))
                print("\n" + periodTable(i.periods, percent: percent).render())
                if !d.comments.isEmpty { print("\nComments:\n" + wrap(d.comments)) }
            }
        }
    }
}

/// One row per period: target, current figure, status and direction of travel.
func periodTable(_ periods: [PeriodStatus], percent: Bool) -> Table {
    var table = Table("Period", "Target", "Value", "Rev", "RAG now", "Forecast (RAG)", "vs prev", "vs year ago", "Flags", "Note")
    for p in periods {
        let target = formatValue(p.target, percent: percent) + (p.targetSource == .yearShare ? " (¼ of year)" : "")
        var flags: [String] = []
        if p.figure == nil && p.actual != nil { flags.append("plan actual") }
        if p.figure?.provisional == true { flags.append("provisional") }
        if p.figure?.late == true { flags.append("late") }
        if p.figure?.validatedBy != nil { flags.append("validated") }
        let forecast = p.figure?.forecast.map { "\(formatValue($0, percent: percent)) (\(p.forecastRAG?.rawValue ?? "grey"))" } ?? ""
        table.add(p.period.description, target, formatValue(p.value, percent: percent), p.figure.map { "\($0.revision)" } ?? "",
                  p.rag.rawValue, forecast, p.sincePrevious?.rawValue ?? "", p.sinceYearEarlier?.rawValue ?? "",
                  flags.joined(separator: ","), p.figure?.note ?? "")
    }
    return table
}
