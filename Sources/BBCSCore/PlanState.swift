/// What the daemon holds in memory: the plan's indicators with their targets and current
/// figures, its key tasks, and who holds which post. Reads are answered from these and the
/// use cases decide from them; the database stays the authority (every write carries its
/// guard in SQL).

/// One indicator: what its reads show and what the figure rules decide from.
public struct IndicatorState: Sendable, Equatable {
    public var id: Int
    public var planID: Int
    /// Its place in the plan's order.
    public var position: Int
    public var code: String
    public var title: String
    public var category: IndicatorCategory
    public var objective: String?
    public var serviceArea: String
    public var unit: IndicatorUnit
    public var polarity: Polarity
    public var frequency: Frequency
    public var ownerPostID: Int
    public var ownerPost: String
    public var parent: String?
    public var isNew: Bool
    /// Amber band as a percentage of target; nil means the default.
    public var tolerance: Double?
    public var comments: String
    public var ownerFromDocument: Bool
    public var aliases: [String]
    /// Codes of the indicators whose parent this is, in the plan's order.
    public var children: [String]
    /// The plan's years.
    public var firstYear: Period
    public var lastYear: Period
    public var targets: [Period: Double]
    /// The plan's baseline actuals.
    public var actuals: [Period: Double]
    /// The current revision of each period's figure.
    public var figures: [Period: FigureRevision]
    /// Where each target came from.
    public var targetSources: [Period: TargetSource] = [:]
    /// The plan revision that no longer lists it; nil while it is current.
    public var retiredIn: Int?
    public var isRetired: Bool { retiredIn != nil }

    public init(id: Int, planID: Int, position: Int, code: String, title: String, category: IndicatorCategory, objective: String?,
                serviceArea: String, unit: IndicatorUnit, polarity: Polarity, frequency: Frequency, ownerPostID: Int, ownerPost: String,
                parent: String?, isNew: Bool, tolerance: Double?, comments: String, ownerFromDocument: Bool, aliases: [String],
                children: [String], firstYear: Period, lastYear: Period, targets: [Period: Double], actuals: [Period: Double],
                figures: [Period: FigureRevision]) {
        self.id = id; self.planID = planID; self.position = position; self.code = code; self.title = title
        self.category = category; self.objective = objective; self.serviceArea = serviceArea; self.unit = unit
        self.polarity = polarity; self.frequency = frequency; self.ownerPostID = ownerPostID; self.ownerPost = ownerPost
        self.parent = parent; self.isNew = isNew; self.tolerance = tolerance; self.comments = comments
        self.ownerFromDocument = ownerFromDocument; self.aliases = aliases; self.children = children
        self.firstYear = firstYear; self.lastYear = lastYear; self.targets = targets; self.actuals = actuals; self.figures = figures
    }

    /// Every period of the plan (and any other holding a figure) with target, RAG and travel.
    public var statuses: [PeriodStatus] {
        Performance.statuses(unit: unit, polarity: polarity, frequency: frequency, tolerance: tolerance, targets: targets,
                             actuals: actuals, figures: figures, firstYear: firstYear, lastYear: lastYear)
    }

    /// The target that counts for `period` (a year's, or a quarter's share of it).
    public func target(for period: Period) -> Double? { Performance.target(for: period, unit: unit, targets: targets)?.value }

    public var summary: IndicatorSummary {
        var summary = IndicatorSummary(code: code, title: title, category: category, objective: objective, serviceArea: serviceArea,
                                       unit: unit, polarity: polarity, frequency: frequency, ownerPost: ownerPost, parent: parent,
                                       isNew: isNew, tolerance: tolerance, periods: statuses)
        summary.retiredIn = retiredIn
        return summary
    }

    public var detail: IndicatorDetail {
        IndicatorDetail(indicator: summary, aliases: aliases, comments: comments, ownerFromDocument: ownerFromDocument,
                        children: children, actuals: Dictionary(uniqueKeysWithValues: actuals.map { ($0.key.description, $0.value) }),
                        targets: Dictionary(uniqueKeysWithValues: targets.map { ($0.key.description, $0.value) }),
                        targetSources: Dictionary(uniqueKeysWithValues: targetSources.map { ($0.key.description, $0.value) }))
    }

    /// The periods begun by `today` that have no figure yet, each with its due date.
    public func due(today: CalendarDate, graceDays: Int) -> [DueFigure] {
        Performance.periods(frequency: frequency, firstYear: firstYear, lastYear: lastYear)
            .filter { $0.start <= today && figures[$0] == nil }
            .map { period in
                let dueDate = Performance.dueDate(of: period, graceDays: graceDays)
                return DueFigure(indicator: code, title: title, ownerPost: ownerPost, period: period, dueDate: dueDate,
                                 overdue: today > dueDate, open: period.end >= today)
            }
    }
}

/// One key task: what its reads show and what the task rules decide from.
public struct TaskState: Sendable, Equatable {
    public var id: Int
    public var planID: Int
    public var position: Int
    public var code: String
    public var objective: String
    public var action: String
    public var responsiblePostIDs: [Int]
    /// The same posts by name, in the plan's order.
    public var responsiblePosts: [String]
    public var targetDate: CalendarDate?
    public var targetText: String
    public var status: TaskStatus
    public var progress: Int
    public var isNew: Bool
    public var outcome: String
    public var budgetComment: String
    public var completedOn: CalendarDate?
    public var aliases: [String]
    public var partners: [String]
    public var risks: [PlanDocument.TaskRisk]
    public var slippage: Slippage
    /// The note of the latest progress update, if any.
    public var latestNote: String?
    /// The plan revision that no longer lists it; nil while it is current.
    public var retiredIn: Int?
    public var isRetired: Bool { retiredIn != nil }

    public init(id: Int, planID: Int, position: Int, code: String, objective: String, action: String, responsiblePostIDs: [Int],
                responsiblePosts: [String], targetDate: CalendarDate?, targetText: String, status: TaskStatus, progress: Int,
                isNew: Bool, outcome: String, budgetComment: String, completedOn: CalendarDate?, aliases: [String],
                partners: [String], risks: [PlanDocument.TaskRisk], slippage: Slippage, latestNote: String? = nil) {
        self.id = id; self.planID = planID; self.position = position; self.code = code; self.objective = objective
        self.action = action; self.responsiblePostIDs = responsiblePostIDs; self.responsiblePosts = responsiblePosts
        self.targetDate = targetDate; self.targetText = targetText; self.status = status; self.progress = progress
        self.isNew = isNew; self.outcome = outcome; self.budgetComment = budgetComment; self.completedOn = completedOn
        self.aliases = aliases; self.partners = partners; self.risks = risks; self.slippage = slippage
        self.latestNote = latestNote
    }

    /// The task as lists show it; "overdue" is judged on `today`.
    public func summary(today: CalendarDate) -> TaskSummary {
        var summary = TaskSummary(code: code, objective: objective, action: action, responsiblePosts: responsiblePosts, targetDate: targetDate,
                                  targetText: targetText, status: status, progress: progress, isNew: isNew,
                                  overdue: !status.isClosed && targetDate.map { $0 < today } == true, completedOn: completedOn)
        summary.retiredIn = retiredIn
        return summary
    }

    public func detail(today: CalendarDate) -> TaskDetail {
        TaskDetail(task: summary(today: today), aliases: aliases, outcome: outcome, partners: partners, budgetComment: budgetComment,
                   risks: risks, slippage: slippage)
    }
}

/// Users, posts and who holds them: what a caller's standing is decided from.
public struct DirectoryState: Sendable, Equatable {
    public struct Holding: Sendable, Equatable {
        public var id: Int
        public var postID: Int
        public var post: String
        public var from: CalendarDate
        /// Last day held; nil when open-ended.
        public var until: CalendarDate?
        public var revoked: Bool
        public init(id: Int, postID: Int, post: String, from: CalendarDate, until: CalendarDate?, revoked: Bool) {
            self.id = id; self.postID = postID; self.post = post; self.from = from; self.until = until; self.revoked = revoked
        }

        /// In force on `day`.
        public func held(on day: CalendarDate) -> Bool { !revoked && from <= day && until.map { $0 >= day } != false }
    }

    public struct User: Sendable, Equatable {
        public var id: Int
        public var login: String
        public var disabled: Bool
        public var holdings: [Holding]
        public init(id: Int, login: String, disabled: Bool, holdings: [Holding]) {
            self.id = id; self.login = login; self.disabled = disabled; self.holdings = holdings
        }
    }

    /// By login.
    public var users: [String: User]
    /// Post names by id.
    public var posts: [Int: String]
    /// Post ids by name and by alias, lower-cased.
    public var postKeys: [String: Int]

    public init(users: [String: User], posts: [Int: String], postKeys: [String: Int]) {
        self.users = users; self.posts = posts; self.postKeys = postKeys
    }

    /// The caller as the directory knows them on `today`: posts held that day, sorted by name.
    public func principal(login: String, uid: UInt32, pid: Int32, today: CalendarDate) -> Principal {
        guard let user = users[login] else { return Principal(login: login, uid: uid, pid: pid, standing: .unregistered, posts: []) }
        if user.disabled { return Principal(login: login, uid: uid, pid: pid, standing: .disabled, posts: []) }
        let posts = Set(user.holdings.filter { $0.held(on: today) }.map(\.post)).sorted()
        return Principal(login: login, uid: uid, pid: pid, standing: .active, posts: posts)
    }

    /// The post with this name or alias, ignoring case: its id and its own name.
    public func post(named name: String) -> (id: Int, name: String)? {
        guard let id = postKeys[name.lowercased()], let found = posts[id] else { return nil }
        return (id, found)
    }
}

/// One plan as memory holds it: the names the read filters check before they match
/// anything (a filter naming an objective or a service area that does not exist is
/// `not_found`, not an empty list), and what objective.list, strategy.list, risk.list and
/// plan.show answer: plan structure, which only a plan import changes, so they need no
/// connection (none waits behind a locked table).
public struct PlanOutline: Sendable, Equatable {
    /// Its heading and objectives, as its report shows them.
    public var reported: ReportedPlan
    /// Objective codes, as stored (filters match them exactly).
    public var objectives: Set<String>
    /// Service area names, as stored.
    public var serviceAreas: Set<String>
    public var objectiveList: [ObjectiveSummary]
    public var strategies: [PlanDocument.Strategy]
    public var risks: RiskRegister
    public var overview: PlanOverview
    /// Every load that changed it, oldest first.
    public var history: [PlanRevision]
    public init(reported: ReportedPlan, objectives: Set<String>, serviceAreas: Set<String>, objectiveList: [ObjectiveSummary],
                strategies: [PlanDocument.Strategy], risks: RiskRegister, overview: PlanOverview, history: [PlanRevision] = []) {
        self.reported = reported; self.objectives = objectives; self.serviceAreas = serviceAreas
        self.objectiveList = objectiveList; self.strategies = strategies; self.risks = risks; self.overview = overview
        self.history = history
    }
    public var id: Int { reported.id }
    public var code: String { reported.code }
}

/// Every plan the database holds, in the order of their codes, and which one a request
/// that names none is about.
public struct PlanSet: Sendable, Equatable {
    public var plans: [PlanOutline]
    public init(_ plans: [PlanOutline] = []) { self.plans = plans.sorted { $0.code < $1.code } }

    /// The plan with `code` (ignoring case), or when nil the configured `default`, or the
    /// only plan; several plans and no default is refused with the codes to choose from.
    public func choose(_ code: String?, default fallback: String? = nil) throws -> PlanOutline {
        func named(_ code: String) throws -> PlanOutline {
            guard let plan = plans.first(where: { $0.code.lowercased() == code.lowercased() }) else {
                throw StoreError.notFound(kind: "plan", key: code)
            }
            return plan
        }
        if let code { return try named(code) }
        if let fallback, !fallback.isEmpty { return try named(fallback) }
        switch plans.count {
        case 0: throw StoreError.notFound(kind: "plan", key: "(none imported)")
        case 1: return plans[0]
        default:
            throw StoreError.invalid(param: "plan", "the database holds \(plans.count) plans (\(plans.map(\.code).joined(separator: ", "))): name one with --plan, or set default_plan")
        }
    }

    /// The plan with this id.
    public func plan(id: Int) -> PlanOutline? { plans.first { $0.id == id } }

    /// Plan ids by code, lower-cased: what a code qualified with its plan ("CS:ComS_001") is looked up by.
    public var ids: [String: Int] { Dictionary(plans.map { ($0.code.lowercased(), $0.id) }, uniquingKeysWith: { first, _ in first }) }
}

/// A code as a request may write it: alone ("ComS_001"), or after its plan's code and a
/// colon ("CS-2025-2028:ComS_001") where two plans use the same code. Codes never hold a colon.
public struct PlanQualifiedCode: Sendable, Equatable {
    public var plan: String?
    public var code: String
    public init(_ text: String) {
        if let colon = text.firstIndex(of: ":") {
            plan = String(text[..<colon]); code = String(text[text.index(after: colon)...])
        } else {
            plan = nil; code = text
        }
    }
}

/// The plan a performance report is of: its heading and its objectives in order.
public struct ReportedPlan: Sendable, Equatable {
    public struct Objective: Sendable, Equatable, Decodable {
        public var code: String
        public var title: String
        public init(code: String, title: String) { self.code = code; self.title = title }
    }
    public var id: Int
    public var code: String
    public var title: String
    public var council: String
    public var firstYear: Period
    public var lastYear: Period
    public var objectives: [Objective]
    /// The Corporate Plan priority it serves ("Community Safety").
    public var priority: String
    public init(id: Int, code: String, title: String, council: String, firstYear: Period, lastYear: Period, objectives: [Objective],
                priority: String = "") {
        self.id = id; self.code = code; self.title = title; self.council = council; self.firstYear = firstYear
        self.lastYear = lastYear; self.objectives = objectives; self.priority = priority
    }
}

/// Everything the daemon holds, read in one snapshot, with the change sequence's newest seq
/// as of that snapshot: a memory loaded from it applies the changes after `seq`.
public struct PlanSnapshot: Sendable, Equatable {
    public var seq: Int64
    /// In the plan's order.
    public var indicators: [IndicatorState]
    /// In the plan's order.
    public var tasks: [TaskState]
    public var directory: DirectoryState
    public var plans: PlanSet
    public var cycle: CycleState
    public init(seq: Int64, indicators: [IndicatorState], tasks: [TaskState], directory: DirectoryState, plans: PlanSet = PlanSet(),
                cycle: CycleState = CycleState()) {
        self.seq = seq; self.indicators = indicators; self.tasks = tasks; self.directory = directory; self.plans = plans
        self.cycle = cycle
    }
}
