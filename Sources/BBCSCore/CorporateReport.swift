/// The council-wide summary of one period: every business plan's report folded by the
/// Corporate Plan priority it serves, exceptions first (red indicators, figures not
/// submitted, overdue tasks, risks up), then the counts by RAG and overdue tasks of each
/// priority and each plan.
public struct CorporateReport: Codable, Sendable, Equatable {
    public var council: String
    public var period: Period
    public var asAt: CalendarDate
    /// Every plan's exceptions, each named with its plan: what Cabinet reads first.
    public var exceptions: [Exception]
    /// In the order of the priorities' names.
    public var priorities: [Priority]
    /// Indicators by RAG and overdue tasks, council-wide.
    public var totals: Tally

    public struct Exception: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable { case red, notSubmitted = "not_submitted", overdueTask = "overdue_task", riskUp = "risk_up" }
        public var kind: Kind
        public var priority: String
        public var plan: String
        /// The report's own line: "ComS_011 2025/26: 12 against 10 ...".
        public var text: String
        public init(kind: Kind, priority: String, plan: String, text: String) {
            self.kind = kind; self.priority = priority; self.plan = plan; self.text = text
        }
    }

    public struct Tally: Codable, Sendable, Equatable {
        /// Indicators by RAG ("green", "amber", "red", "grey"), every RAG present.
        public var rag: [String: Int]
        public var indicators: Int
        public var overdueTasks: Int
        public var notSubmitted: Int
        public init(rag: [String: Int] = Dictionary(uniqueKeysWithValues: RAG.allCases.map { ($0.rawValue, 0) }), indicators: Int = 0,
                    overdueTasks: Int = 0, notSubmitted: Int = 0) {
            self.rag = rag; self.indicators = indicators; self.overdueTasks = overdueTasks; self.notSubmitted = notSubmitted
        }

        mutating func add(_ other: Tally) {
            for (rag, count) in other.rag { self.rag[rag, default: 0] += count }
            indicators += other.indicators; overdueTasks += other.overdueTasks; notSubmitted += other.notSubmitted
        }
    }

    public struct PlanLine: Codable, Sendable, Equatable {
        public var plan: String
        public var title: String
        public var tally: Tally
        public init(plan: String, title: String, tally: Tally) { self.plan = plan; self.title = title; self.tally = tally }
    }

    public struct Priority: Codable, Sendable, Equatable {
        public var name: String
        public var tally: Tally
        public var plans: [PlanLine]
        public init(name: String, tally: Tally, plans: [PlanLine]) { self.name = name; self.tally = tally; self.plans = plans }
    }

    public init(council: String, period: Period, asAt: CalendarDate, exceptions: [Exception], priorities: [Priority], totals: Tally) {
        self.council = council; self.period = period; self.asAt = asAt; self.exceptions = exceptions; self.priorities = priorities
        self.totals = totals
    }

    /// Folds each plan's report of `period` (with the priority each plan serves) into the
    /// council's summary; no plans is refused.
    public static func assemble(_ reports: [(priority: String, report: PerformanceReport)], period: Period) throws -> CorporateReport {
        guard let first = reports.first?.report else { throw StoreError.notFound(kind: "plan", key: "(none imported)") }
        var exceptions: [Exception] = []
        var byPriority: [String: [PlanLine]] = [:]
        for (priority, report) in reports {
            let name = priority.isEmpty ? "(no priority)" : priority
            var tally = Tally()
            for (rag, count) in report.summary.rag { tally.rag[rag, default: 0] += count }
            tally.indicators = report.summary.indicators
            tally.overdueTasks = report.summary.tasks["overdue"] ?? report.exceptions.overdueTasks.count
            tally.notSubmitted = report.summary.notSubmitted
            byPriority[name, default: []].append(PlanLine(plan: report.plan, title: report.planTitle, tally: tally))
            let e = report.exceptions
            for (kind, lines) in [(Exception.Kind.red, e.red), (.notSubmitted, e.notSubmitted), (.overdueTask, e.overdueTasks), (.riskUp, e.risksUp)] {
                exceptions += lines.map { Exception(kind: kind, priority: name, plan: report.plan, text: $0) }
            }
        }
        var totals = Tally()
        let priorities = byPriority.keys.sorted().map { name in
            var tally = Tally()
            for line in byPriority[name] ?? [] { tally.add(line.tally) }
            totals.add(tally)
            return Priority(name: name, tally: tally, plans: byPriority[name] ?? [])
        }
        return CorporateReport(council: first.council, period: period, asAt: first.asAt, exceptions: exceptions, priorities: priorities,
                               totals: totals)
    }
}
