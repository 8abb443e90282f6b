import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// risk.list against the data file.
@Suite("risks")
struct RiskTests {
    let client: Client

    init() throws { client = try ReadOnlyDaemon.shared.client() }

    @Test func risksMatchTheDataFile() throws {
        let risks = try client.call(RiskListRequest())
        #expect(risks.keyStrategicRisks == shippedPlan.keyStrategicRisks)
        #expect(risks.strategicRisks.map(\.number) == shippedPlan.strategicRisks.map(\.number).sorted())
        for entry in risks.strategicRisks {
            let cited = shippedPlan.tasks.filter { $0.risks.contains { $0.strategicRisks.contains(entry.number) } }.map(\.code)
            #expect(Set(entry.tasks) == Set(cited))
        }
        let want = shippedPlan.tasks.flatMap { task in task.risks.map { RiskRegister.TaskRisk(task: task.code, threat: $0.threat, strategicRisks: $0.strategicRisks, mitigation: $0.mitigation) } }
        #expect(risks.taskRisks == want)
    }
}
