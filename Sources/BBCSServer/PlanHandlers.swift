import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation


extension MethodTable {
    /// The table the daemon serves: every method with its handler.
    /// - Parameter figureGraceDays: read at each request, so a reload applies at once.
    static func standard(pool: PGPool, figureGraceDays: @escaping @Sendable () -> Int, scheduler: Scheduler) -> MethodTable {
        var table = MethodTable()
        table.registerPlanMethods(pool: pool)
        table.registerFigureMethods(FigureStore(pool: pool, graceDays: figureGraceDays))
        table.registerTaskMethods(TaskStore(pool: pool), reminders: ReminderStore(pool: pool), scheduler: scheduler)
        table.registerDirectoryMethods(Directory(pool: pool), audit: AuditLog(pool: pool))
        let reports = ReportBuilder(pool: pool)
        table.register(ReportRequest.self) { r, context in
            try await reports.report(period: r.period, objective: r.objective, today: context.today, graceDays: figureGraceDays())
        }

        // Last, so that it lists everything above and itself.
        let described = table.methods + [MethodInfo(DescribeRequest.self)]
        table.register(DescribeRequest.self) { _, _ in .init(methods: described) }
        return table
    }

    /// The handshake and the plan's read methods, and plan import.
    mutating func registerPlanMethods(pool: PGPool) {
        let reader = PlanReader(pool: pool)
        register(HelloRequest.self) { _, context in
            .init(server: "bbcsd", version: bbcsVersion, protocolVersion: protocolVersion, identity: context.identity,
                  posts: context.principal.posts)
        }
        register(PlanShowRequest.self) { request, _ in try await reader.overview(code: request.plan) }
        register(PlanImportRequest.self) { request, context in
            let document = try PlanDocument.load(from: Data(request.content.utf8))
            return try await PlanImporter.importPlan(document, into: pool, by: context.actor)
        }
        register(ObjectiveListRequest.self) { _, _ in .init(objectives: try await reader.objectives()) }
        register(IndicatorListRequest.self) { request, _ in
            .init(indicators: try await reader.indicators(IndicatorFilter(
                objective: request.objective, category: request.category, serviceArea: request.serviceArea,
                ownerPost: request.ownerPost)))
        }
        register(IndicatorShowRequest.self) { request, _ in try await reader.indicator(code: request.code) }
        register(TaskListRequest.self) { request, context in
            var filter = TaskFilter(post: request.post, status: request.status, dueBefore: request.dueBefore, dueAfter: request.dueAfter)
            filter.overdue = request.overdue ?? false
            if let days = request.dueWithin {
                guard days >= 0 else { throw ResponseError(.invalidParams, "dueWithin is a number of days from 0", data: ["param": "dueWithin"]) }
                filter.dueWithinDays = days
            }
            if request.mine == true { filter.anyOfPosts = context.principal.posts.filter { $0 != Policy.adminPost } }
            return .init(tasks: try await reader.tasks(filter, today: context.today))
        }
        register(TaskShowRequest.self) { request, context in try await reader.task(code: request.code, today: context.today) }
        register(StrategyListRequest.self) { _, _ in .init(strategies: try await reader.strategies()) }
        register(RiskListRequest.self) { _, _ in try await reader.risks() }
        register(PostListRequest.self) { _, _ in .init(posts: try await reader.posts()) }
    }
}
