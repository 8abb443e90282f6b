import BBCSProtocol

extension MethodTable {
    mutating func registerPostHandlers(_ stores: Stores) {
        register(PostListRequest.self) { _, _ in .init(posts: try await stores.reader.posts()) }
        register(PostAddRequest.self) { r, context in
            let post = try await stores.directory.addPost(r.name, by: context.actor)
            await stores.memory.reloadDirectory() // until ChangeStream
            return post
        }
        register(PostGrantRequest.self) { r, context in
            let granted = try await stores.directory.grant(login: r.login, post: r.post, from: r.from, until: r.until, by: context.actor)
            await stores.memory.reloadDirectory() // until ChangeStream
            return granted
        }
        register(PostRevokeRequest.self) { r, context in
            let revoked = try await stores.directory.revoke(login: r.login, post: r.post, by: context.actor)
            await stores.memory.reloadDirectory() // until ChangeStream
            return .init(revoked: revoked)
        }
        register(PostHoldersRequest.self) { r, context in
            let (post, holders) = try await stores.directory.holders(of: r.post, all: r.all ?? false, today: context.today)
            return .init(post: post, holders: holders)
        }
    }
}
