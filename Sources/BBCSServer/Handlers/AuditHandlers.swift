import BBCSProtocol

extension MethodTable {
    mutating func registerAuditHandlers(_ stores: Stores) {
        register(AuditListRequest.self) { r, _ in
            let limit = r.limit ?? 100
            guard (1...10_000).contains(limit) else {
                throw ResponseError(.invalidParams, "limit must be from 1 to 10000", data: ["param": "limit"])
            }
            return .init(entries: try await stores.audit.entries(.init(object: r.object, login: r.user, since: r.since, limit: limit)))
        }
    }
}
