import BBCSProtocol

extension MethodTable {
    mutating func registerSchedulerHandlers(_ stores: Stores) {
        register(SchedulerRunRequest.self) { _, context in
            let outcome = try await stores.scheduler.run(as: context.principal)
            return .init(day: outcome.day, created: outcome.created, mailWaiting: outcome.mailWaiting, mailed: outcome.mailed,
                         mailFailed: outcome.mailFailed)
        }
    }
}
