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

/// What a plan import changed (for a dry run: would change), and what it kept.
public struct ImportSummary: Codable, Sendable, Equatable {
    public var plan: String
    /// Nothing was written: `changes` and `rows` are what the import would make.
    public var dryRun: Bool
    /// Rows inserted, updated or deleted, by table; empty when the import changed nothing.
    public var changes: [String: Int]
    /// Each row added or removed, and each column changed, table by table in import order.
    public var rows: [ImportChange]
    /// What the file would have changed but did not, because someone changed it through bbcs.
    public var kept: [ImportKept]
    public var indicators: Int
    public var tasks: Int
    public init(plan: String, dryRun: Bool, changes: [String: Int], rows: [ImportChange], kept: [ImportKept], indicators: Int, tasks: Int) {
        self.plan = plan; self.dryRun = dryRun; self.changes = changes; self.rows = rows; self.kept = kept
        self.indicators = indicators; self.tasks = tasks
    }
    public var changedRows: Int { changes.values.reduce(0, +) }
}

/// One row a plan import adds or removes, or one column it changes.
public struct ImportChange: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case added, removed, changed }
    public var kind: Kind
    /// The row's table, e.g. `indicator_values`, `task_posts`.
    public var table: String
    /// The code or name the row belongs to: `ComS_011`, `BCRPASB_27`, a post, a strategy.
    public var object: String
    /// For `changed`, the row's other key columns when the object has several rows in the
    /// table: `{"kind": "target", "period": "2025/26"}`, `{"position": 2}`.
    public var key: JSONValue?
    /// The column, for `changed`.
    public var field: String?
    /// The column's values for `changed`; the whole row for `added` (after) and `removed`
    /// (before), without its id and the link to `object`. Posts, service areas, objectives,
    /// parents and the plan are named, not numbered.
    public var before: JSONValue?
    public var after: JSONValue?
    public init(kind: Kind, table: String, object: String, key: JSONValue? = nil, field: String?, before: JSONValue?, after: JSONValue?) {
        self.kind = kind; self.table = table; self.object = object; self.key = key; self.field = field
        self.before = before; self.after = after
    }
}

/// A value the plan file would have changed and the import kept: someone changed it through bbcs.
public struct ImportKept: Codable, Sendable, Equatable {
    public enum Reason: String, Codable, Sendable {
        /// The task's target date was moved with `task.reschedule`.
        case rescheduled
        /// The target or tolerance was set with `target.set`.
        case setByAdmin = "set_by_admin"
    }
    /// A task's or an indicator's code.
    public var object: String
    /// `target_date`, `target` or `tolerance`.
    public var field: String
    /// The target's period, for `target`.
    public var period: Period?
    /// What the file says (null when it gives none) and what stays.
    public var file: JSONValue
    public var kept: JSONValue
    public var why: Reason
    /// Who made the change that stays, and when (Europe/London local time), where recorded.
    public var by: String?
    public var at: String?
    public init(object: String, field: String, period: Period? = nil, file: JSONValue, kept: JSONValue, why: Reason,
                by: String?, at: String?) {
        self.object = object; self.field = field; self.period = period; self.file = file; self.kept = kept; self.why = why
        self.by = by; self.at = at
    }
}
