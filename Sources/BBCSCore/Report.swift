/// The quarterly (or annual) performance report: computed by the daemon from live data,
/// rendered by the client. Every field is data, so JSON and CSV carry what the text and
/// HTML show.
public struct PerformanceReport: Codable, Sendable, Equatable {
    public var plan: String
    public var planTitle: String
    public var council: String
    public var period: Period
    /// The day the report was produced (Europe/London), which decides what is overdue.
    public var asAt: CalendarDate
    /// The objective the report is limited to, if any.
    public var objective: String?
    public var summary: Summary
    public var exceptions: Exceptions
    /// Objectives first (their CSIs and key tasks), then KPIs, MPIs and service data.
    public var sections: [Section]
    /// Risks linked to the tasks shown.
    public var risks: [RiskLine]

    public init(plan: String, planTitle: String, council: String, period: Period, asAt: CalendarDate, objective: String?,
                summary: Summary, exceptions: Exceptions, sections: [Section], risks: [RiskLine]) {
        self.plan = plan; self.planTitle = planTitle; self.council = council; self.period = period; self.asAt = asAt
        self.objective = objective; self.summary = summary; self.exceptions = exceptions; self.sections = sections; self.risks = risks
    }

    public struct Summary: Codable, Sendable, Equatable {
        /// Indicators by RAG ("green", "amber", "red", "grey").
        public var rag: [String: Int]
        /// Tasks by status ("on_track", ...), plus "overdue".
        public var tasks: [String: Int]
        public var indicators: Int
        public var notSubmitted: Int
        public var slippedTasks: Int
        public init(rag: [String: Int], tasks: [String: Int], indicators: Int, notSubmitted: Int, slippedTasks: Int) {
            self.rag = rag; self.tasks = tasks; self.indicators = indicators; self.notSubmitted = notSubmitted; self.slippedTasks = slippedTasks
        }
    }

    public struct Exceptions: Codable, Sendable, Equatable {
        /// Red indicators, with their commentary.
        public var red: [String]
        /// Figures past their due date and not submitted.
        public var notSubmitted: [String]
        public var overdueTasks: [String]
        public var slippedTasks: [String]
        public init(red: [String], notSubmitted: [String], overdueTasks: [String], slippedTasks: [String]) {
            self.red = red; self.notSubmitted = notSubmitted; self.overdueTasks = overdueTasks; self.slippedTasks = slippedTasks
        }
    }

    public struct Section: Codable, Sendable, Equatable {
        /// "CS1", or "kpi", "mpi", "service_data".
        public var key: String
        public var title: String
        public var indicators: [IndicatorLine]
        public var tasks: [TaskLine]
        public init(key: String, title: String, indicators: [IndicatorLine], tasks: [TaskLine]) {
            self.key = key; self.title = title; self.indicators = indicators; self.tasks = tasks
        }
    }

    /// One point of an indicator's chart.
    public struct Point: Codable, Sendable, Equatable {
        public var label: String
        public var actual: Double?
        public var target: Double?
        /// A baseline year from the plan, not a submitted figure.
        public var baseline: Bool
        public init(label: String, actual: Double?, target: Double?, baseline: Bool) {
            self.label = label; self.actual = actual; self.target = target; self.baseline = baseline
        }
    }

    public struct IndicatorLine: Codable, Sendable, Equatable {
        public var code: String
        public var title: String
        public var category: IndicatorCategory
        public var objective: String?
        public var unit: IndicatorUnit
        public var polarity: Polarity
        public var frequency: Frequency
        public var ownerPost: String
        /// The period reported: the report's, or its year for annual indicators.
        public var period: Period
        public var value: Double?
        /// When no figure was submitted: when it is (or was) due.
        public var dueDate: CalendarDate?
        public var overdue: Bool
        public var target: Double?
        public var rag: RAG
        public var sincePrevious: Travel?
        public var sinceYearEarlier: Travel?
        /// Quarterly indicators: counts summed, percentages averaged, over the year's quarters so far.
        public var yearToDate: Double?
        public var commentary: String?
        public var validated: Bool
        public var late: Bool
        public var revision: Int?
        public var chart: [Point]
        public init(code: String, title: String, category: IndicatorCategory, objective: String?, unit: IndicatorUnit, polarity: Polarity,
                    frequency: Frequency, ownerPost: String, period: Period, value: Double?, dueDate: CalendarDate?, overdue: Bool,
                    target: Double?, rag: RAG, sincePrevious: Travel?, sinceYearEarlier: Travel?, yearToDate: Double?,
                    commentary: String?, validated: Bool, late: Bool, revision: Int?, chart: [Point]) {
            self.code = code; self.title = title; self.category = category; self.objective = objective; self.unit = unit
            self.polarity = polarity; self.frequency = frequency; self.ownerPost = ownerPost; self.period = period; self.value = value
            self.dueDate = dueDate; self.overdue = overdue; self.target = target; self.rag = rag; self.sincePrevious = sincePrevious
            self.sinceYearEarlier = sinceYearEarlier; self.yearToDate = yearToDate; self.commentary = commentary
            self.validated = validated; self.late = late; self.revision = revision; self.chart = chart
        }
    }

    public struct TaskLine: Codable, Sendable, Equatable {
        public var code: String
        public var action: String
        public var objective: String
        public var status: TaskStatus
        public var progress: Int
        public var targetDate: CalendarDate?
        public var targetText: String
        /// Days past the target date when open and overdue.
        public var overdueDays: Int?
        public var slippage: Slippage
        public var responsiblePosts: [String]
        public var latestNote: String?
        public init(code: String, action: String, objective: String, status: TaskStatus, progress: Int, targetDate: CalendarDate?,
                    targetText: String, overdueDays: Int?, slippage: Slippage, responsiblePosts: [String], latestNote: String?) {
            self.code = code; self.action = action; self.objective = objective; self.status = status; self.progress = progress
            self.targetDate = targetDate; self.targetText = targetText; self.overdueDays = overdueDays; self.slippage = slippage
            self.responsiblePosts = responsiblePosts; self.latestNote = latestNote
        }
    }

    public struct RiskLine: Codable, Sendable, Equatable {
        public var task: String
        public var threat: String
        public var strategicRisks: [Int]
        public var mitigation: String
        public init(task: String, threat: String, strategicRisks: [Int], mitigation: String) {
            self.task = task; self.threat = threat; self.strategicRisks = strategicRisks; self.mitigation = mitigation
        }
    }
}

extension Performance {
    /// Year to date of a quarterly indicator at `period`: the year's quarters so far, counts
    /// summed and percentages averaged; nil when none has a figure, or when stored figures
    /// beyond today's bounds add up to more than a Double holds (no reply could carry it).
    public static func yearToDate(at period: Period, unit: IndicatorUnit, values: [Period: Double]) -> Double? {
        guard let quarter = period.quarter else { return nil }
        let known = (1...quarter).compactMap { values[Period(startYear: period.startYear, quarter: $0)] }
        guard !known.isEmpty else { return nil }
        let total = known.reduce(0, +)
        let result = unit == .count ? total : total / Double(known.count)
        return result.isFinite ? result : nil
    }
}
