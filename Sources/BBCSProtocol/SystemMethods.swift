import BBCSCore

/// The caller as the daemon sees it: the kernel's peer credentials and the user name.
public struct Identity: Codable, Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32
    public var user: String
    public init(uid: UInt32, gid: UInt32, pid: Int32, user: String) {
        self.uid = uid; self.gid = gid; self.pid = pid; self.user = user
    }
}

public struct HelloRequest: RequestType {
    public static let method = "system.hello"
    public static let summary = "Server and protocol versions, and who the daemon takes the caller to be."
    public static let parameters: [ParameterInfo] = []
    public static let access = Access.anyone
    public init() {}

    public struct Response: Codable, Sendable, Equatable {
        public var server: String
        public var version: String
        public var protocolVersion: Int
        public var identity: Identity
        /// Posts the caller currently holds.
        public var posts: [String]
        public init(server: String, version: String, protocolVersion: Int, identity: Identity, posts: [String]) {
            self.server = server; self.version = version; self.protocolVersion = protocolVersion
            self.identity = identity; self.posts = posts
        }
    }
}

public struct DescribeRequest: RequestType {
    public static let method = "system.describe"
    public static let summary = "Every method with its parameters and who may call it."
    public static let parameters: [ParameterInfo] = []
    public static let access = Access.registered
    public init() {}

    public struct Response: Codable, Sendable, Equatable {
        public var methods: [MethodInfo]
        /// Every error code a reply may carry (`timeout` among them).
        public var errorCodes: [String]?
        public init(methods: [MethodInfo], errorCodes: [String]? = ErrorCode.allCases.map(\.rawValue)) {
            self.methods = methods
            self.errorCodes = errorCodes
        }
    }
}
