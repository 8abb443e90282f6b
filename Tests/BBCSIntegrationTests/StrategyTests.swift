import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// strategy.list against the data file.
@Suite("strategies")
struct StrategyTests {
    let client: Client

    init() throws { client = try ReadOnlyDaemon.shared.client() }

    @Test func strategiesMatchTheDataFile() throws {
        #expect(try client.call(StrategyListRequest()).strategies == shippedPlan.strategies)
    }
}
