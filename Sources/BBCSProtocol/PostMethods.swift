import BBCSCore

public struct PostListRequest: RequestType {
    public static let method = "post.list"
    public static let summary = "Posts with their other spellings and what they own."
    public static let parameters: [ParameterInfo] = []
    public static let access = Access.registered
    public init() {}
    public struct Response: Codable, Sendable, Equatable {
        public var posts: [PostSummary]
        public init(posts: [PostSummary]) { self.posts = posts }
    }
}

public struct PostAddRequest: RequestType {
    public static let method = "post.add"
    public static let summary = "Create a post."
    public static let parameters = [ParameterInfo("name", "string", required: true, "the post's name, e.g. \"Licensing Manager\"")]
    public static let access = Access.admin
    public static let mutates = true
    public var name: String
    public init(name: String) { self.name = name }
    public typealias Response = PostSummary
}

public struct PostGrantRequest: RequestType {
    public static let method = "post.grant"
    public static let summary = "Let a user hold a post, optionally for a time (cover ends by itself)."
    public static let parameters = [
        ParameterInfo("login", "string", required: true, "the user"),
        ParameterInfo("post", "string", required: true, "the post (any spelling the plan uses)"),
        ParameterInfo("from", "date", "first day held, YYYY-MM-DD (default today)"),
        ParameterInfo("until", "date", "last day held, YYYY-MM-DD (default: open-ended)"),
    ]
    public static let access = Access.admin
    public static let mutates = true
    public var login: String
    public var post: String
    public var from: CalendarDate?
    public var until: CalendarDate?
    public init(login: String, post: String, from: CalendarDate? = nil, until: CalendarDate? = nil) {
        self.login = login; self.post = post; self.from = from; self.until = until
    }
    public typealias Response = PostHolding
}

public struct PostRevokeRequest: RequestType {
    public static let method = "post.revoke"
    public static let summary = "End a user's holdings of a post. The last administrator cannot be removed."
    public static let parameters = [
        ParameterInfo("login", "string", required: true, "the user"),
        ParameterInfo("post", "string", required: true, "the post"),
    ]
    public static let access = Access.admin
    public static let mutates = true
    public var login: String
    public var post: String
    public init(login: String, post: String) { self.login = login; self.post = post }
    public struct Response: Codable, Sendable, Equatable {
        /// The holdings ended.
        public var revoked: [PostHolding]
        public init(revoked: [PostHolding]) { self.revoked = revoked }
    }
}

public struct PostHoldersRequest: RequestType {
    public static let method = "post.holders"
    public static let summary = "Who holds a post: today's holders, and with all, past and future cover too."
    public static let parameters = [
        ParameterInfo("post", "string", required: true, "the post"),
        ParameterInfo("all", "boolean", "include ended, future and revoked holdings"),
    ]
    public static let access = Access.registered
    public var post: String
    public var all: Bool?
    public init(post: String, all: Bool? = nil) { self.post = post; self.all = all }
    public struct Response: Codable, Sendable, Equatable {
        public var post: String
        public var holders: [PostHolding]
        public init(post: String, holders: [PostHolding]) { self.post = post; self.holders = holders }
    }
}
