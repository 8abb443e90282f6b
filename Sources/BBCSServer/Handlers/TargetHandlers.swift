import BBCSCore
import BBCSPostgres
import BBCSProtocol

extension MethodTable {
    mutating func registerTargetHandlers(_ stores: Stores) {
        register(TargetSetRequest.self) { r, context in
            let figures = stores.figures, actor = context.actor
            let (written, _) = try await stores.decideAndWrite(
                context, state: try await stores.indicatorState(r.code), reload: { try await figures.state(id: $0.id) },
                decide: { indicator, principal in
                    try TargetUseCases.set(principal, indicator, period: r.period, value: r.value, tolerance: r.tolerance,
                                           reason: r.reason, at: actor.changeTime)
                },
                write: { try await figures.write($0, by: actor) })
            guard let written else { throw StoreError.conflict("the target was not set; read it again and retry", hint: nil) }
            return .init(indicator: written.code, change: written.change)
        }
        register(TargetHistoryRequest.self) { r, _ in
            let (code, changes) = try await stores.figures.targetHistory(code: r.code)
            return .init(indicator: code, changes: changes)
        }
    }
}
