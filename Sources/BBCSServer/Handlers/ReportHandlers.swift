import BBCSProtocol

extension MethodTable {
    mutating func registerReportHandlers(_ stores: Stores) {
        register(ReportRequest.self) { r, context in
            try await stores.reports.report(period: r.period, objective: r.objective, today: context.today, graceDays: stores.figureGraceDays())
        }
    }
}
