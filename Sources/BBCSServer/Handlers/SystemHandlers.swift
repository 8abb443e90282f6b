import BBCSProtocol

extension MethodTable {
    mutating func registerSystemHandlers(_ stores: Stores) {
        register(HelloRequest.self) { _, context in
            .init(server: "bbcsd", version: bbcsVersion, protocolVersion: protocolVersion, identity: context.identity,
                  posts: context.principal.posts)
        }
        // From what the daemon's parts report, never the database: they answer while it does not.
        register(HealthRequest.self) { _, _ in stores.monitor.health.response }
        register(MetricsRequest.self) { _, _ in .init(text: stores.monitor.metricsText) }
        let described = builtinRequests.map { MethodInfo($0) }
        register(DescribeRequest.self) { _, _ in .init(methods: described) }
    }
}
