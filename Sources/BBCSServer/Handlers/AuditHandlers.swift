import BBCSProtocol

extension MethodTable {
    mutating func registerAuditHandlers(_ stores: Stores) {
        register(AuditListRequest.self) { r, _ in
            .init(entries: try await stores.audit.entries(.init(object: r.object, login: r.user, since: r.since, limit: r.limit ?? 100)))
        }
    }
}
