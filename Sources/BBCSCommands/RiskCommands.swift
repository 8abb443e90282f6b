import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct Risks: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List strategic risks, key strategic risks and each task's risks.")
    @OptionGroup var connection: Connection

    func run() throws {
        try connection.run(RiskListRequest()) { r in
            print("Strategic risk register entries cited:")
            var register = Table("Risk", "Tasks", "Title")
            for s in r.strategicRisks { register.add("\(s.number)", "\(s.tasks.count)", s.title ?? "-") }
            print(register.render())
            print("\nKey strategic risks:")
            for k in r.keyStrategicRisks { print(wrap("- \(k.risk). Mitigation: \(k.mitigation)")) }
            print("\nKey task risks:")
            var tasks = Table("Task", "Covered by", "Threat", "Mitigation")
            for t in r.taskRisks {
                tasks.add(t.task, t.strategicRisks.map(String.init).joined(separator: ","), t.threat, t.mitigation)
            }
            print(tasks.render())
        }
    }
}
