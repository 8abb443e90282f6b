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

    /// The council's own matrix, from the configuration: risk.register shows it, a review is
    /// scored on it and banded by it, and a score off it is refused.
    @Test func aConfiguredMatrixScoresAndBandsReviews() throws {
        let daemon = try TestDaemon(environment: ["BBCS_RISK_MATRIX_SIZE": "5", "BBCS_RISK_BANDS": "low 6, medium 14, high 25"])
        let c = try daemon.client()
        let matrix = try c.call(RiskRegisterRequest()).matrix
        #expect(matrix.size == 5 && matrix.bands.map(\.name) == ["low", "medium", "high"])
        let review = try c.call(RiskReviewRequest(risk: "KSR1", likelihood: 5, impact: 3, note: "five by five"))
        #expect(review.score == 15 && review.band == "high")
        #expect(c.error(RiskReviewRequest(risk: "KSR1", likelihood: 6, impact: 1, note: "off the matrix"))?.code == .invalidParams)
    }
}
