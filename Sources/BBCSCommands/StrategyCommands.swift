import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct Strategies: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List strategy and policy documents and their renewal.")
    @OptionGroup var connection: Connection
    @OptionGroup var plan: PlanOption

    func run() throws {
        try connection.run(plan.scoped(StrategyListRequest())) { result in
            var table = Table("Renewal", "Date", "Responsible", "Document")
            for s in result.strategies {
                table.add(s.renewalText, s.renewalDate?.description ?? "-", s.responsible.joined(separator: "; "), s.name)
            }
            print(table.render())
        }
    }
}
