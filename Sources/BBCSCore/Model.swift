/// Read models: what the stores return and the protocol carries. Values, no behaviour.

/// The plan's headline facts.
public struct PlanOverview: Codable, Sendable, Equatable {
    public var code: String
    public var title: String
    public var council: String
    public var priority: String
    public var priorityStatement: String
    public var vision: String
    public var values: [PlanDocument.Value]
    public var firstYear: Period
    public var lastYear: Period
    public var introduction: String
    public var notes: [String]
    public var counts: Counts
    public var budget: [PlanDocument.BudgetLine]

    public struct Counts: Codable, Sendable, Equatable {
        public var objectives: Int
        public var indicators: Int
        public var tasks: Int
        public var strategies: Int
        public var posts: Int
        public init(objectives: Int, indicators: Int, tasks: Int, strategies: Int, posts: Int) {
            self.objectives = objectives; self.indicators = indicators; self.tasks = tasks
            self.strategies = strategies; self.posts = posts
        }
    }

    public init(code: String, title: String, council: String, priority: String, priorityStatement: String,
                vision: String, values: [PlanDocument.Value], firstYear: Period, lastYear: Period,
                introduction: String, notes: [String], counts: Counts, budget: [PlanDocument.BudgetLine]) {
        self.code = code; self.title = title; self.council = council; self.priority = priority
        self.priorityStatement = priorityStatement; self.vision = vision; self.values = values
        self.firstYear = firstYear; self.lastYear = lastYear; self.introduction = introduction
        self.notes = notes; self.counts = counts; self.budget = budget
    }
}

public struct ObjectiveSummary: Codable, Sendable, Equatable {
    public var code: String
    public var title: String
    public var serviceObjectives: [PlanDocument.ServiceObjective]
    public var indicatorCount: Int
    public var taskCount: Int
    public init(code: String, title: String, serviceObjectives: [PlanDocument.ServiceObjective], indicatorCount: Int, taskCount: Int) {
        self.code = code; self.title = title; self.serviceObjectives = serviceObjectives
        self.indicatorCount = indicatorCount; self.taskCount = taskCount
    }
}

/// Which indicators a list asks for; nil fields do not filter.
public struct IndicatorFilter: Sendable, Equatable {
    public var objective: String?
    public var category: IndicatorCategory?
    public var serviceArea: String?
    public var ownerPost: String?
    public init(objective: String? = nil, category: IndicatorCategory? = nil, serviceArea: String? = nil, ownerPost: String? = nil) {
        self.objective = objective; self.category = category; self.serviceArea = serviceArea; self.ownerPost = ownerPost
    }
}

public struct IndicatorSummary: Codable, Sendable, Equatable {
    public var code: String
    public var title: String
    public var category: IndicatorCategory
    public var objective: String?
    public var serviceArea: String
    public var unit: IndicatorUnit
    public var polarity: Polarity
    public var frequency: Frequency
    public var ownerPost: String
    public var parent: String?
    public var isNew: Bool
    /// Amber band as a percentage of target; nil means the default.
    public var tolerance: Double?
    /// Every period of the plan with target, current figure, RAG and direction of travel.
    public var periods: [PeriodStatus]
    public init(code: String, title: String, category: IndicatorCategory, objective: String?, serviceArea: String,
                unit: IndicatorUnit, polarity: Polarity, frequency: Frequency, ownerPost: String, parent: String?,
                isNew: Bool, tolerance: Double?, periods: [PeriodStatus] = []) {
        self.code = code; self.title = title; self.category = category; self.objective = objective
        self.serviceArea = serviceArea; self.unit = unit; self.polarity = polarity; self.frequency = frequency
        self.ownerPost = ownerPost; self.parent = parent; self.isNew = isNew; self.tolerance = tolerance
        self.periods = periods
    }
}

public struct IndicatorDetail: Codable, Sendable, Equatable {
    public var indicator: IndicatorSummary
    public var aliases: [String]
    public var comments: String
    public var ownerFromDocument: Bool
    public var children: [String]
    /// Baseline actuals from the plan, keyed by period ("2023/24").
    public var actuals: [String: Double]
    /// Targets keyed by period ("2025/26").
    public var targets: [String: Double]
    public init(indicator: IndicatorSummary, aliases: [String], comments: String, ownerFromDocument: Bool,
                children: [String], actuals: [String: Double], targets: [String: Double]) {
        self.indicator = indicator; self.aliases = aliases; self.comments = comments
        self.ownerFromDocument = ownerFromDocument; self.children = children; self.actuals = actuals
        self.targets = targets
    }
}

/// Which tasks a list asks for; nil fields do not filter.
public struct TaskFilter: Sendable, Equatable {
    public var post: String?
    public var status: TaskStatus?
    public var dueBefore: CalendarDate?
    public var dueAfter: CalendarDate?
    /// Open tasks whose target date has passed.
    public var overdue: Bool = false
    /// Open tasks due from today to this many days ahead.
    public var dueWithinDays: Int?
    /// Tasks for which any of these posts is responsible (the caller's, for "mine").
    public var anyOfPosts: [String]?
    public init(post: String? = nil, status: TaskStatus? = nil, dueBefore: CalendarDate? = nil, dueAfter: CalendarDate? = nil) {
        self.post = post; self.status = status; self.dueBefore = dueBefore; self.dueAfter = dueAfter
    }
}

public struct TaskSummary: Codable, Sendable, Equatable {
    public var code: String
    public var objective: String
    public var action: String
    public var responsiblePosts: [String]
    public var targetDate: CalendarDate?
    public var targetText: String
    public var status: TaskStatus
    public var progress: Int
    public var isNew: Bool
    /// Open, dated and past its target date on the daemon's today.
    public var overdue: Bool
    public var completedOn: CalendarDate?
    public init(code: String, objective: String, action: String, responsiblePosts: [String], targetDate: CalendarDate?,
                targetText: String, status: TaskStatus, progress: Int, isNew: Bool, overdue: Bool = false, completedOn: CalendarDate? = nil) {
        self.code = code; self.objective = objective; self.action = action; self.responsiblePosts = responsiblePosts
        self.targetDate = targetDate; self.targetText = targetText; self.status = status; self.progress = progress
        self.isNew = isNew; self.overdue = overdue; self.completedOn = completedOn
    }
}

public struct TaskDetail: Codable, Sendable, Equatable {
    public var task: TaskSummary
    public var aliases: [String]
    public var outcome: String
    public var partners: [String]
    public var budgetComment: String
    public var risks: [PlanDocument.TaskRisk]
    public var slippage: Slippage
    public init(task: TaskSummary, aliases: [String], outcome: String, partners: [String], budgetComment: String,
                risks: [PlanDocument.TaskRisk], slippage: Slippage = Slippage(times: 0, days: 0)) {
        self.task = task; self.aliases = aliases; self.outcome = outcome; self.partners = partners
        self.budgetComment = budgetComment; self.risks = risks; self.slippage = slippage
    }
}

/// The plan's risks: register entries cited, key strategic risks, and each task's threats.
public struct RiskRegister: Codable, Sendable, Equatable {
    public struct StrategicRisk: Codable, Sendable, Equatable {
        public var number: Int
        public var title: String?
        /// Codes of the tasks whose threats this register entry covers.
        public var tasks: [String]
        public init(number: Int, title: String?, tasks: [String]) { self.number = number; self.title = title; self.tasks = tasks }
    }
    public struct TaskRisk: Codable, Sendable, Equatable {
        public var task: String
        public var threat: String
        public var strategicRisks: [Int]
        public var mitigation: String
        public init(task: String, threat: String, strategicRisks: [Int], mitigation: String) {
            self.task = task; self.threat = threat; self.strategicRisks = strategicRisks; self.mitigation = mitigation
        }
    }
    public var strategicRisks: [StrategicRisk]
    public var keyStrategicRisks: [PlanDocument.KeyStrategicRisk]
    public var taskRisks: [TaskRisk]
    public init(strategicRisks: [StrategicRisk], keyStrategicRisks: [PlanDocument.KeyStrategicRisk], taskRisks: [TaskRisk]) {
        self.strategicRisks = strategicRisks; self.keyStrategicRisks = keyStrategicRisks; self.taskRisks = taskRisks
    }
}

public struct PostSummary: Codable, Sendable, Equatable {
    public var name: String
    public var aliases: [String]
    public var indicatorCount: Int
    public var taskCount: Int
    public var headOf: [String]
    public init(name: String, aliases: [String], indicatorCount: Int, taskCount: Int, headOf: [String]) {
        self.name = name; self.aliases = aliases; self.indicatorCount = indicatorCount; self.taskCount = taskCount
        self.headOf = headOf
    }
}

/// What a plan import changed, by kind of row.
public struct ImportSummary: Codable, Sendable, Equatable {
    public var plan: String
    /// Rows inserted, updated or deleted, by table; empty when the import changed nothing.
    public var changes: [String: Int]
    public var indicators: Int
    public var tasks: Int
    public init(plan: String, changes: [String: Int], indicators: Int, tasks: Int) {
        self.plan = plan; self.changes = changes; self.indicators = indicators; self.tasks = tasks
    }
    public var changedRows: Int { changes.values.reduce(0, +) }
}
