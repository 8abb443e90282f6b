import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation

/// Version of the daemon, reported by `system.hello` and `--version`.
public let bbcsVersion = "0.1.0"

extension MethodTable {
    /// The table the daemon serves: every method with its handler.
    static func standard(pool: PGPool) -> MethodTable {
        let reader = PlanReader(pool: pool)
        var table = MethodTable()

        table.register(HelloRequest.self) { _, caller in
            .init(server: "bbcsd", version: bbcsVersion, protocolVersion: protocolVersion, identity: caller.identity, posts: [])
        }
        table.register(PlanShowRequest.self) { request, _ in try await reader.overview(code: request.plan) }
        table.register(PlanImportRequest.self) { request, _ in
            let document = try PlanDocument.load(from: Data(request.content.utf8))
            return try await PlanImporter.importPlan(document, into: pool)
        }
        table.register(ObjectiveListRequest.self) { _, _ in .init(objectives: try await reader.objectives()) }
        table.register(IndicatorListRequest.self) { request, _ in
            .init(indicators: try await reader.indicators(IndicatorFilter(
                objective: request.objective, category: request.category, serviceArea: request.serviceArea,
                ownerPost: request.ownerPost)))
        }
        table.register(IndicatorShowRequest.self) { request, _ in try await reader.indicator(code: request.code) }
        table.register(TaskListRequest.self) { request, _ in
            .init(tasks: try await reader.tasks(TaskFilter(
                post: request.post, status: request.status, dueBefore: request.dueBefore, dueAfter: request.dueAfter)))
        }
        table.register(TaskShowRequest.self) { request, _ in try await reader.task(code: request.code) }
        table.register(StrategyListRequest.self) { _, _ in .init(strategies: try await reader.strategies()) }
        table.register(RiskListRequest.self) { _, _ in try await reader.risks() }
        table.register(PostListRequest.self) { _, _ in .init(posts: try await reader.posts()) }

        // Last, so that it lists everything above and itself.
        let described = table.methods + [MethodInfo(DescribeRequest.self)]
        table.register(DescribeRequest.self) { _, _ in .init(methods: described) }
        return table
    }
}
