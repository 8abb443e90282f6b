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
    /// The plan revision that no longer lists it; nil while it is current.
    public var retiredIn: Int?
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
    /// Where each target came from, keyed as `targets`.
    public var targetSources: [String: TargetSource]?
    public init(indicator: IndicatorSummary, aliases: [String], comments: String, ownerFromDocument: Bool,
                children: [String], actuals: [String: Double], targets: [String: Double], targetSources: [String: TargetSource]? = nil) {
        self.indicator = indicator; self.aliases = aliases; self.comments = comments
        self.ownerFromDocument = ownerFromDocument; self.children = children; self.actuals = actuals
        self.targets = targets; self.targetSources = targetSources
    }
}

/// Where a target came from: the plan revision whose file set it, or the administrator who
/// set it with `target.set`, when and why.
public struct TargetSource: Codable, Sendable, Equatable, CustomStringConvertible {
    public var revision: Int?
    public var setBy: String?
    public var reason: String?
    /// Europe/London local time of the administrator's change.
    public var at: String?
    public init(revision: Int? = nil, setBy: String? = nil, reason: String? = nil, at: String? = nil) {
        self.revision = revision; self.setBy = setBy; self.reason = reason; self.at = at
    }
    public var description: String {
        if let setBy { return "set by \(setBy)" + (at.map { " on \($0.prefix(10))" } ?? "") + (reason.map { ": \($0)" } ?? "") }
        return revision.map { "plan revision \($0)" } ?? "plan file"
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
    /// The plan revision that no longer lists it; nil while it is current.
    public var retiredIn: Int?
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
    /// The file's revision of the plan, and the one loaded before (nil for a new plan).
    public var revision: Int
    public var previousRevision: Int?
    /// Indicators and tasks the import adds to a plan already loaded, retires (the file no
    /// longer lists them) and brings back (listed again after a retirement).
    public var lifecycle: [ImportLifecycle]
    public init(plan: String, dryRun: Bool, changes: [String: Int], rows: [ImportChange], kept: [ImportKept], indicators: Int, tasks: Int,
                revision: Int = 1, previousRevision: Int? = nil, lifecycle: [ImportLifecycle] = []) {
        self.plan = plan; self.dryRun = dryRun; self.changes = changes; self.rows = rows; self.kept = kept
        self.indicators = indicators; self.tasks = tasks; self.revision = revision; self.previousRevision = previousRevision
        self.lifecycle = lifecycle
    }
    public var changedRows: Int { changes.values.reduce(0, +) }

    private enum CodingKeys: String, CodingKey {
        case plan, dryRun, changes, rows, kept, indicators, tasks, revision, previousRevision, lifecycle
    }

    // Lenient on the fields later releases added, so an older daemon's answer still reads.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(plan: try c.decode(String.self, forKey: .plan), dryRun: try c.decode(Bool.self, forKey: .dryRun),
                  changes: try c.decode([String: Int].self, forKey: .changes), rows: try c.decode([ImportChange].self, forKey: .rows),
                  kept: try c.decode([ImportKept].self, forKey: .kept), indicators: try c.decode(Int.self, forKey: .indicators),
                  tasks: try c.decode(Int.self, forKey: .tasks), revision: try c.decodeIfPresent(Int.self, forKey: .revision) ?? 1,
                  previousRevision: try c.decodeIfPresent(Int.self, forKey: .previousRevision),
                  lifecycle: try c.decodeIfPresent([ImportLifecycle].self, forKey: .lifecycle) ?? [])
    }
}

/// An indicator or task a plan import adds, retires or brings back.
public struct ImportLifecycle: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case added, retired, restored }
    public enum Object: String, Codable, Sendable { case indicator, task }
    public var kind: Kind
    public var object: Object
    public var code: String
    public init(_ kind: Kind, _ object: Object, _ code: String) { self.kind = kind; self.object = object; self.code = code }
}

/// One load of a plan file that changed the plan: `plan.history` lists them, oldest first.
public struct PlanRevision: Codable, Sendable, Equatable {
    public var revision: Int
    /// The file's name as given to the import, when given.
    public var source: String?
    /// SHA-256 of the file's text (nil for a load made before revisions were recorded).
    public var sha256: String?
    public var loadedBy: String
    /// Europe/London local time.
    public var loadedAt: String
    /// Rows changed, by table.
    public var changes: [String: Int]
    public var added: [String]
    public var retired: [String]
    public var restored: [String]
    public init(revision: Int, source: String?, sha256: String?, loadedBy: String, loadedAt: String, changes: [String: Int],
                added: [String], retired: [String], restored: [String]) {
        self.revision = revision; self.source = source; self.sha256 = sha256; self.loadedBy = loadedBy; self.loadedAt = loadedAt
        self.changes = changes; self.added = added; self.retired = retired; self.restored = restored
    }
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
