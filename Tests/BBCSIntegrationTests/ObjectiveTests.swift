import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// objective.list against the data file.
@Suite("objectives")
struct ObjectiveTests {
    let client: Client

    init() throws { client = try ReadOnlyDaemon.shared.client() }

    @Test func objectivesMatchTheDataFile() throws {
        let objectives = try client.call(ObjectiveListRequest()).objectives
        #expect(objectives.map(\.code) == shippedPlan.objectives.map(\.code))
        for (got, want) in zip(objectives, shippedPlan.objectives) {
            #expect(got.title == want.title)
            #expect(got.serviceObjectives == want.serviceObjectives)
            #expect(got.indicatorCount == shippedPlan.indicators.filter { $0.objective == want.code }.count)
            #expect(got.taskCount == shippedPlan.tasks.filter { $0.objective == want.code }.count)
        }
    }
}
