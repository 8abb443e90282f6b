import BBCSCore

// One type per method: its parameters, name and result type together.

// MARK: system

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
        public init(methods: [MethodInfo]) { self.methods = methods }
    }
}

// MARK: plan

public struct PlanShowRequest: RequestType {
    public static let method = "plan.show"
    public static let summary = "The plan's title, vision, values, years, counts, budget and transcription notes."
    public static let parameters = [ParameterInfo("plan", "string", "plan code; the newest imported plan when left out")]
    public static let access = Access.registered
    public var plan: String?
    public init(plan: String? = nil) { self.plan = plan }
    public typealias Response = PlanOverview
}

public struct PlanImportRequest: RequestType {
    public static let method = "plan.import"
    public static let summary = "Load a plan data file in one transaction; importing the same file twice changes nothing."
    public static let parameters = [
        ParameterInfo("content", "string", required: true, "the plan file's JSON text (Config/plans/FORMAT.md)"),
        ParameterInfo("source", "string", "the file's name, for messages"),
    ]
    public static let access = Access.admin
    public static let mutates = true
    public var content: String
    public var source: String?
    public init(content: String, source: String? = nil) { self.content = content; self.source = source }
    public typealias Response = ImportSummary
}

public struct ObjectiveListRequest: RequestType {
    public static let method = "objective.list"
    public static let summary = "The plan's objectives with their service-level objectives."
    public static let parameters: [ParameterInfo] = []
    public static let access = Access.registered
    public init() {}
    public struct Response: Codable, Sendable, Equatable {
        public var objectives: [ObjectiveSummary]
        public init(objectives: [ObjectiveSummary]) { self.objectives = objectives }
    }
}

// MARK: indicators

public struct IndicatorListRequest: RequestType {
    public static let method = "indicator.list"
    public static let summary = "Indicators, optionally filtered, each with per-period figures, RAG and direction of travel."
    public static let parameters = [
        ParameterInfo("objective", "string", "objective code, e.g. CS1"),
        ParameterInfo("category", "string", "service_data, csi, kpi or mpi"),
        ParameterInfo("serviceArea", "string", "service area name"),
        ParameterInfo("ownerPost", "string", "owner post name (any spelling the plan uses)"),
    ]
    public static let access = Access.registered
    public var objective: String?
    public var category: IndicatorCategory?
    public var serviceArea: String?
    public var ownerPost: String?
    public init(objective: String? = nil, category: IndicatorCategory? = nil, serviceArea: String? = nil, ownerPost: String? = nil) {
        self.objective = objective; self.category = category; self.serviceArea = serviceArea; self.ownerPost = ownerPost
    }
    public struct Response: Codable, Sendable, Equatable {
        public var indicators: [IndicatorSummary]
        public init(indicators: [IndicatorSummary]) { self.indicators = indicators }
    }
}

public struct IndicatorShowRequest: RequestType {
    public static let method = "indicator.show"
    public static let summary = "One indicator: definition, baseline and targets, and per period its figure, RAG and direction of travel."
    public static let parameters = [ParameterInfo("code", "string", required: true, "indicator code, e.g. ComS_011 (aliases accepted)")]
    public static let access = Access.registered
    public var code: String
    public init(code: String) { self.code = code }
    public typealias Response = IndicatorDetail
}

// MARK: tasks

public struct TaskListRequest: RequestType {
    public static let method = "task.list"
    public static let summary = "Key tasks, optionally filtered; tasks whose target is a note are undated, never overdue."
    public static let parameters = [
        ParameterInfo("post", "string", "a responsible post"),
        ParameterInfo("status", "string", "not_started, on_track, at_risk, off_track, completed, deferred or cancelled"),
        ParameterInfo("dueBefore", "date", "target date on or before, YYYY-MM-DD"),
        ParameterInfo("dueAfter", "date", "target date on or after, YYYY-MM-DD"),
        ParameterInfo("overdue", "boolean", "only open tasks past their target date"),
        ParameterInfo("dueWithin", "integer", "only open tasks due from today to this many days ahead"),
        ParameterInfo("mine", "boolean", "only tasks for which a post the caller holds is responsible"),
    ]
    public static let access = Access.registered
    public var post: String?
    public var status: TaskStatus?
    public var dueBefore: CalendarDate?
    public var dueAfter: CalendarDate?
    public var overdue: Bool?
    public var dueWithin: Int?
    public var mine: Bool?
    public init(post: String? = nil, status: TaskStatus? = nil, dueBefore: CalendarDate? = nil, dueAfter: CalendarDate? = nil,
                overdue: Bool? = nil, dueWithin: Int? = nil, mine: Bool? = nil) {
        self.post = post; self.status = status; self.dueBefore = dueBefore; self.dueAfter = dueAfter
        self.overdue = overdue; self.dueWithin = dueWithin; self.mine = mine
    }
    public struct Response: Codable, Sendable, Equatable {
        public var tasks: [TaskSummary]
        public init(tasks: [TaskSummary]) { self.tasks = tasks }
    }
}

public struct TaskShowRequest: RequestType {
    public static let method = "task.show"
    public static let summary = "One key task with its outcome, partners, budget comment, risks and slippage."
    public static let parameters = [ParameterInfo("code", "string", required: true, "task code, e.g. BCRPASB_27 (aliases accepted)")]
    public static let access = Access.registered
    public var code: String
    public init(code: String) { self.code = code }
    public typealias Response = TaskDetail
}

// MARK: strategies, risks, posts

public struct StrategyListRequest: RequestType {
    public static let method = "strategy.list"
    public static let summary = "Strategy and policy documents with renewal and responsible officer."
    public static let parameters: [ParameterInfo] = []
    public static let access = Access.registered
    public init() {}
    public struct Response: Codable, Sendable, Equatable {
        public var strategies: [PlanDocument.Strategy]
        public init(strategies: [PlanDocument.Strategy]) { self.strategies = strategies }
    }
}

public struct RiskListRequest: RequestType {
    public static let method = "risk.list"
    public static let summary = "Strategic risks cited, key strategic risks, and each task's threats."
    public static let parameters: [ParameterInfo] = []
    public static let access = Access.registered
    public init() {}
    public typealias Response = RiskRegister
}

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

// MARK: report

public struct ReportRequest: RequestType {
    public static let method = "report.build"
    public static let summary = "The performance report for a period: summary, exceptions, indicators with charts' data, tasks and risks."
    public static let parameters = [
        ParameterInfo("period", "period", required: true, "\"2025/26 Q2\" or \"2025/26\""),
        ParameterInfo("objective", "string", "only this objective, e.g. CS1"),
    ]
    public static let access = Access.registered
    public var period: Period
    public var objective: String?
    public init(period: Period, objective: String? = nil) { self.period = period; self.objective = objective }
    public typealias Response = PerformanceReport
}
