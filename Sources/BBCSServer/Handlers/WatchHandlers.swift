import BBCSCore
import BBCSPostgres
import BBCSProtocol

extension MethodTable {
    mutating func registerWatchHandlers(_ stores: Stores) {
        register(WatchSubscribeRequest.self) { r, context in
            guard let upgrade = ConnectionUpgrade.current else {
                throw ResponseError(.invalidRequest, "watch.subscribe needs a connection of its own")
            }
            let kinds = try Watcher.Filter.kinds(r.kinds)
            let lookups = WatchLookups(pool: stores.pool)
            var objective: String?, owner: String?
            if let code = r.objective { objective = try await lookups.objective(code: code) }
            if let post = r.owner {
                guard let found = stores.memory.directory.post(named: post) else { throw StoreError.notFound(kind: "post", key: post) }
                owner = found.name
            }
            let hub = stores.watch
            let watcher = Watcher(filter: .init(kinds: kinds, objective: objective, owner: owner), principal: context.principal, hub: hub)
            guard upgrade.watch(watcher) else { throw ResponseError(.invalidRequest, "this connection already watches") }
            let after = hub.add(watcher)
            return .init(subscribed: true, kinds: WatchKind.allCases.filter(kinds.contains).map(\.rawValue),
                         objective: objective, owner: owner, after: after)
        }
    }
}
