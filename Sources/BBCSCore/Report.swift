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
    /// The reporting round of this period, if one was opened.
    public var round: RoundLine?
    /// Set in a published report: its number, who published it and when.
    public var publication: PublicationLine?
    /// Figures published reports showed that were corrected since the last publication.
    public var restatements: [Restatement]

    public init(plan: String, planTitle: String, council: String, period: Period, asAt: CalendarDate, objective: String?,
                summary: Summary, exceptions: Exceptions, sections: [Section], risks: [RiskLine], round: RoundLine? = nil,
                publication: PublicationLine? = nil, restatements: [Restatement] = []) {
        self.plan = plan; self.planTitle = planTitle; self.council = council; self.period = period; self.asAt = asAt
        self.objective = objective; self.summary = summary; self.exceptions = exceptions; self.sections = sections; self.risks = risks
        self.round = round; self.publication = publication; self.restatements = restatements
    }

    public struct RoundLine: Codable, Sendable, Equatable {
        public var period: Period
        public var deadline: CalendarDate
        public var meeting: String
        public init(_ round: ReportingRound) { period = round.period; deadline = round.deadline; meeting = round.meeting }
    }

    public struct PublicationLine: Codable, Sendable, Equatable {
        public var number: String
        public var publishedBy: String
        public var publishedAt: String
        public init(number: String, publishedBy: String, publishedAt: String) {
            self.number = number; self.publishedBy = publishedBy; self.publishedAt = publishedAt
        }
    }

    /// The risk scores the report shows, by risk id, as a publication keeps them.
    public var reportedRiskScores: [String: Int] {
        Dictionary(risks.compactMap { line in line.score.map { (line.id, $0) } }, uniquingKeysWith: { first, _ in first })
    }

    /// The figures the report shows, as a publication keeps them.
    public var reportedFigures: [ReportedFigure] {
        sections.flatMap(\.indicators).compactMap { line in
            guard let value = line.value, let revision = line.revision else { return nil }
            return ReportedFigure(indicator: line.code, period: line.period, revision: revision, value: value, provisional: line.provisional)
        }
    }

    public struct Summary: Codable, Sendable, Equatable {
        /// Indicators by RAG ("green", "amber", "red", "grey").
        public var rag: [String: Int]
        /// Tasks by status ("on_track", ...), plus "overdue".
        public var tasks: [String: Int]
        public var indicators: Int
        public var notSubmitted: Int
        public var slippedTasks: Int
        /// Figures reported that are provisional.
        public var provisional: Int
        /// Indicators with a year-end forecast, by its RAG.
        public var forecastRAG: [String: Int]
        public init(rag: [String: Int], tasks: [String: Int], indicators: Int, notSubmitted: Int, slippedTasks: Int, provisional: Int = 0,
                    forecastRAG: [String: Int] = [:]) {
            self.rag = rag; self.tasks = tasks; self.indicators = indicators; self.notSubmitted = notSubmitted; self.slippedTasks = slippedTasks
            self.provisional = provisional; self.forecastRAG = forecastRAG
        }
    }

    public struct Exceptions: Codable, Sendable, Equatable {
        /// Red indicators, with their commentary.
        public var red: [String]
        /// Figures past their due date and not submitted.
        public var notSubmitted: [String]
        public var overdueTasks: [String]
        public var slippedTasks: [String]
        /// Risks whose score rose since the previous published report.
        public var risksUp: [String]
        public init(red: [String], notSubmitted: [String], overdueTasks: [String], slippedTasks: [String], risksUp: [String] = []) {
            self.red = red; self.notSubmitted = notSubmitted; self.overdueTasks = overdueTasks; self.slippedTasks = slippedTasks
            self.risksUp = risksUp
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
        /// The figure is an estimate still to be confirmed.
        public var provisional: Bool
        /// The owner's forecast of the year-end outturn, with the year's target and its RAG
        /// ("RAG forecast" beside `rag`, "RAG now"); absent without a forecast.
        public var forecast: Double?
        public var annualTarget: Double?
        public var forecastRAG: RAG?
        public var chart: [Point]
        public init(code: String, title: String, category: IndicatorCategory, objective: String?, unit: IndicatorUnit, polarity: Polarity,
                    frequency: Frequency, ownerPost: String, period: Period, value: Double?, dueDate: CalendarDate?, overdue: Bool,
                    target: Double?, rag: RAG, sincePrevious: Travel?, sinceYearEarlier: Travel?, yearToDate: Double?,
                    commentary: String?, validated: Bool, late: Bool, revision: Int?, provisional: Bool = false, forecast: Double? = nil,
                    annualTarget: Double? = nil, forecastRAG: RAG? = nil, chart: [Point]) {
            self.code = code; self.title = title; self.category = category; self.objective = objective; self.unit = unit
            self.polarity = polarity; self.frequency = frequency; self.ownerPost = ownerPost; self.period = period; self.value = value
            self.dueDate = dueDate; self.overdue = overdue; self.target = target; self.rag = rag; self.sincePrevious = sincePrevious
            self.sinceYearEarlier = sinceYearEarlier; self.yearToDate = yearToDate; self.commentary = commentary
            self.validated = validated; self.late = late; self.revision = revision; self.provisional = provisional
            self.forecast = forecast; self.annualTarget = annualTarget; self.forecastRAG = forecastRAG; self.chart = chart
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

    /// One risk of the register with its latest score and how it moved since the previous
    /// published report.
    public struct RiskLine: Codable, Sendable, Equatable {
        public var id: String
        public var kind: RiskKind
        public var title: String
        public var mitigation: String?
        /// The linked key tasks.
        public var tasks: [String]
        public var strategicRisks: [Int]
        public var likelihood: Int?
        public var impact: Int?
        public var score: Int?
        public var band: String?
        public var reviewNote: String?
        public var reviewedBy: String?
        public var reviewedAt: String?
        /// The score the previous published report showed.
        public var previousScore: Int?
        public var movement: RiskMovement?
        /// A linked key task is overdue: such risks come first.
        public var linkedToOverdueTask: Bool

        public init(_ entry: RiskEntry, previousScore: Int?, linkedToOverdueTask: Bool) {
            id = entry.id; kind = entry.kind; title = entry.title; mitigation = entry.mitigation; tasks = entry.tasks
            strategicRisks = entry.strategicRisks
            let review = entry.review
            likelihood = review?.likelihood; impact = review?.impact; score = review?.score; band = review?.band
            reviewNote = review?.note; reviewedBy = review?.by; reviewedAt = review?.at
            self.previousScore = previousScore
            movement = RiskUseCases.movement(review?.score, since: previousScore)
            self.linkedToOverdueTask = linkedToOverdueTask
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
