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

/// How the daemon is doing, from worst to best as the levels rise.
public enum HealthStatus: String, Codable, Sendable, Equatable, Comparable, CaseIterable {
    /// Everything the daemon depends on answers and keeps up.
    case ok
    /// It serves, but something is behind or short (the pool queueing, the scheduler late, mail backing up).
    case degraded
    /// It cannot do its work (the database does not answer, the pool or the scheduler is stuck).
    case failing

    /// 0, 1, 2: the metric's value and `bbcsctl health`'s exit status.
    public var level: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.level < rhs.level }
}

public struct HealthRequest: RequestType {
    public static let method = "system.health"
    public static let summary = "Whether the daemon is ok, degraded or failing, and why: the database, the pool, the scheduler, the mail backlog."
    public static let parameters: [ParameterInfo] = []
    public static let access = Access.anyone
    public init() {}

    public struct Response: Codable, Sendable, Equatable {
        public var status: HealthStatus
        /// One sentence per problem, worst first; empty when ok.
        public var reasons: [String]
        /// The status and reasons on one line, as systemd's STATUS= shows them.
        public var line: String
        public init(status: HealthStatus, reasons: [String], line: String) {
            self.status = status; self.reasons = reasons; self.line = line
        }
    }
}

public struct MetricsRequest: RequestType {
    public static let method = "system.metrics"
    public static let summary = "The daemon's metrics in the Prometheus text format (what metrics_textfile holds)."
    public static let parameters: [ParameterInfo] = []
    public static let access = Access.admin
    public init() {}

    public struct Response: Codable, Sendable, Equatable {
        /// Prometheus text exposition format 0.0.4.
        public var text: String
        public init(text: String) { self.text = text }
    }
}
