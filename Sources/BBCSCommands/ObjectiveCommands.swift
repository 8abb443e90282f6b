import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct Objectives: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the plan's objectives and service-level objectives.")
    @OptionGroup var connection: Connection
    @OptionGroup var plan: PlanOption
    @Flag(name: .shortAndLong, help: "Also list each objective's service-level objectives.") var verbose = false

    func run() throws {
        try connection.run(plan.scoped(ObjectiveListRequest())) { result in
            var table = Table("Code", "Indicators", "Tasks", "Title")
            for o in result.objectives { table.add(o.code, "\(o.indicatorCount)", "\(o.taskCount)", o.title) }
            print(table.render())
            guard verbose else { return }
            for o in result.objectives {
                print("\n\(o.code) \(o.title)")
                var area = ""
                for so in o.serviceObjectives {
                    if so.serviceArea != area { print("  \(so.serviceArea)"); area = so.serviceArea }
                    print(wrap("- " + so.text, indent: "    "))
                }
            }
        }
    }
}
