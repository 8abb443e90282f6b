import BBCSProtocol

extension MethodTable {
    mutating func registerTargetHandlers(_ stores: Stores) {
        register(TargetSetRequest.self) { r, context in
            let (code, change) = try await stores.figures.setTarget(code: r.code, period: r.period, value: r.value, tolerance: r.tolerance,
                                                                    reason: r.reason, by: context.actor)
            await stores.memory.reload(indicators: [code]) // until ChangeStream
            return .init(indicator: code, change: change)
        }
        register(TargetHistoryRequest.self) { r, _ in
            let (code, changes) = try await stores.figures.targetHistory(code: r.code)
            return .init(indicator: code, changes: changes)
        }
    }
}
