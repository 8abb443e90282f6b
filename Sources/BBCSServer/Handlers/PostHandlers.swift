import BBCSCore
import BBCSProtocol

extension MethodTable {
    mutating func registerPostHandlers(_ stores: Stores) {
        register(PostListRequest.self) { _, _ in .init(posts: try await stores.reader.posts()) }
        register(PostAddRequest.self) { r, context in
            try await stores.caughtUp { try await stores.directory.addPost(r.name, by: context.actor) }
        }
        register(PostGrantRequest.self) { r, context in
            try await stores.caughtUp {
                try await stores.directory.grant(by: context.actor) { directory, principal in
                    try HoldingUseCases.grant(principal, directory, login: r.login, post: r.post, from: r.from, until: r.until,
                                              today: context.today)
                }
            }
        }
        register(PostRevokeRequest.self) { r, context in
            .init(revoked: try await stores.caughtUp {
                try await stores.directory.revoke(by: context.actor) { directory, principal in
                    try HoldingUseCases.revoke(principal, directory, login: r.login, post: r.post, today: context.today)
                }
            })
        }
        register(PostHoldersRequest.self) { r, context in
            let (post, holders) = try await stores.directory.holders(of: r.post, all: r.all ?? false, today: context.today)
            return .init(post: post, holders: holders)
        }
    }
}
