import BBCSProtocol

extension MethodTable {
    mutating func registerSystemHandlers() {
        register(HelloRequest.self) { _, context in
            .init(server: "bbcsd", version: bbcsVersion, protocolVersion: protocolVersion, identity: context.identity,
                  posts: context.principal.posts)
        }
        let described = builtinRequests.map { MethodInfo($0) }
        register(DescribeRequest.self) { _, _ in .init(methods: described) }
    }
}
