import BBCSProtocol

extension MethodTable {
    mutating func registerReportHandlers(_ stores: Stores) {
        // Encoded once per state of the database: a report of a large plan is megabytes of JSON.
        register(ReportRequest.self, encoded: { r, context in
            try await stores.reportCache.result(period: r.period, objective: r.objective, today: context.today,
                                                graceDays: stores.figureGraceDays())
        })
    }
}
