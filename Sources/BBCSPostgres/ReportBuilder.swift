import BBCSCore
import Foundation

/// Builds the performance report for a period from live data, in a handful of queries
/// on one connection (one snapshot: REPEATABLE READ).
public struct ReportBuilder: Sendable {
    let pool: PGPool

    public init(pool: PGPool) { self.pool = pool }

    /// A report with the database snapshot it was built from.
    public struct Built: Sendable {
        public let report: PerformanceReport
        /// `pg_current_snapshot()` of the report's transaction, "xmin:xmax:xip,...".
        public let snapshot: String
    }

    public func report(period: Period, objective: String?, today: CalendarDate, graceDays: Int) async throws -> PerformanceReport {
        try await build(period: period, objective: objective, today: today, graceDays: graceDays).report
    }

    /// The report, and the snapshot it saw: while `currentSnapshot()` is the same, the report is too.
    public func build(period: Period, objective: String?, today: CalendarDate, graceDays: Int) async throws -> Built {
        try await pool.withConnection { db in
            try db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            defer { _ = try? db.execute("COMMIT") }
            // The transaction's first statement takes its snapshot: this one reads it.
            let snapshot = try db.one(String.self, "SELECT pg_current_snapshot()::text")
            return Built(report: try Self.build(period: period, objective: objective, today: today, graceDays: graceDays, db),
                         snapshot: snapshot)
        }
    }

    /// The snapshot a transaction starting now would see. Two equal snapshots see the same
    /// data: no transaction ended, and none began writing, in between.
    public func currentSnapshot() async throws -> String {
        try await pool.withConnection { db in try db.one(String.self, "SELECT pg_current_snapshot()::text") }
    }

    private struct ObjectiveRow: Decodable {
        let code: String
        let title: String
    }

    static func build(period: Period, objective: String?, today: CalendarDate, graceDays: Int, _ db: PGConnection) throws -> PerformanceReport {
        guard let plan = try db.first(PlanReader.PlanRow.self, "\(PlanReader.PlanRow.columns) ORDER BY imported_at DESC, id DESC LIMIT 1") else {
            throw StoreError.notFound(kind: "plan", key: "(none imported)")
        }
        try FigureRules.checkWithinPlan(period, firstYear: plan.firstYear, lastYear: plan.lastYear)
        let firstYear = plan.firstYear
        let objectives = try db.rows(ObjectiveRow.self, "SELECT code, title FROM objectives WHERE plan_id = \(plan.id) ORDER BY position")
        if let objective, !objectives.contains(where: { $0.code == objective }) {
            throw StoreError.notFound(kind: "objective", key: objective)
        }

        // Indicators with their statuses and baseline actuals.
        let rows = try db.rows(PlanReader.IndicatorRow.self, """
            \(PlanReader.IndicatorRow.columns) WHERE i.plan_id = \(plan.id) AND (\(objective)::text IS NULL OR o.code = \(objective)) ORDER BY i.position
            """)
        // Period texts sort by year, then quarter: the year before the plan (or the report) is enough history.
        let inputs = try StatusInputs(plan: plan.id, since: min(firstYear, period.year).previous, db)
        let actuals = inputs.actuals
        var statuses: [Int: [PeriodStatus]] = [:]
        for row in rows {
            statuses[row.id] = Performance.statuses(
                unit: row.unit, polarity: row.polarity, frequency: row.frequency, tolerance: row.tolerance,
                targets: inputs.targets[row.id] ?? [:], actuals: actuals[row.id] ?? [:], figures: inputs.figures[row.id] ?? [:],
                firstYear: plan.firstYear, lastYear: plan.lastYear)
        }
        var lines: [PerformanceReport.IndicatorLine] = []
        for row in rows {
            let id = row.id
            let unit = row.unit, frequency = row.frequency
            let reported = frequency == .annual ? period.year : (period.quarter == nil ? Period(startYear: period.startYear, quarter: 4) : period)
            let all = statuses[id] ?? []
            let status = all.first { $0.period == reported }
            let figure = status?.figure
            let due = figure == nil ? Performance.dueDate(of: reported, graceDays: graceDays) : nil
            var values: [Period: Double] = [:]
            for s in all { if let f = s.figure { values[s.period] = f.value } }
            // Baseline years before the plan; a quarterly count's shown as a quarter of the year, like its targets.
            let share = frequency == .quarterly && unit == .count ? 0.25 : 1
            let baseline = (actuals[id] ?? [:]).filter { $0.key < firstYear }.sorted { $0.key < $1.key }.map {
                PerformanceReport.Point(label: share == 1 ? $0.key.description : "\($0.key) (¼)", actual: $0.value * share, target: nil, baseline: true)
            }
            // The plan's periods so far; figures kept from before the plan are history, not this report's.
            let sofar = all.filter { $0.period <= reported && $0.period.year >= firstYear }.map {
                PerformanceReport.Point(label: $0.period.description, actual: $0.figure?.value, target: $0.target, baseline: false)
            }
            lines.append(PerformanceReport.IndicatorLine(
                code: row.code, title: row.title, category: row.category, objective: row.objective,
                unit: unit, polarity: row.polarity, frequency: frequency, ownerPost: row.ownerPost,
                period: reported, value: figure?.value, dueDate: due, overdue: due.map { today > $0 } ?? false,
                target: status?.target, rag: status?.rag ?? .grey, sincePrevious: status?.sincePrevious,
                sinceYearEarlier: status?.sinceYearEarlier,
                yearToDate: frequency == .quarterly ? Performance.yearToDate(at: reported, unit: unit, values: values) : nil,
                commentary: figure?.note, validated: figure?.validatedBy != nil, late: figure?.late ?? false,
                revision: figure?.revision, chart: baseline + sofar))
        }

        // Key tasks with slippage, latest note and risks.
        let taskRows = try db.rows(PlanReader.TaskRow.self, """
            \(PlanReader.TaskRow.columns) WHERE t.plan_id = \(plan.id) AND (\(objective)::text IS NULL OR o.code = \(objective)) ORDER BY t.position
            """)
        let history = Dictionary(grouping: try TaskStore.changes(where: "t.plan_id = \(plan.id)", db), by: \.owner)
            .mapValues { $0.map(\.record) }
        let tasks = taskRows.map { row -> PerformanceReport.TaskLine in
            let t = row.summary(today: today)
            let changes = history[t.code] ?? []
            return PerformanceReport.TaskLine(
                code: t.code, action: t.action, objective: t.objective, status: t.status, progress: t.progress, targetDate: t.targetDate,
                targetText: t.targetText, overdueDays: t.overdue ? t.targetDate.map { $0.days(until: today) } : nil,
                slippage: Slippage(changes), responsiblePosts: t.responsiblePosts, latestNote: changes.last { $0.kind == .update }?.note)
        }
        let shownTasks = Set(tasks.map(\.code))
        let risks = try db.rows(PerformanceReport.RiskLine.self, """
            SELECT t.code AS task, r.threat, r.strategic_risks, r.mitigation FROM task_risks r JOIN tasks t ON t.id = r.task_id
            WHERE t.plan_id = \(plan.id) ORDER BY t.position, r.position
            """).filter { shownTasks.contains($0.task) }

        // Sections: each objective's CSIs and tasks, then the other categories.
        var sections: [PerformanceReport.Section] = []
        for row in objectives {
            let code = row.code
            guard objective == nil || objective == code else { continue }
            sections.append(.init(key: code, title: row.title,
                                  indicators: lines.filter { $0.category == .csi && $0.objective == code },
                                  tasks: tasks.filter { $0.objective == code }))
        }
        for (category, title) in [(IndicatorCategory.kpi, "Key performance indicators"), (.mpi, "Management performance indicators"),
                                  (.serviceData, "Service data")] {
            let members = lines.filter { $0.category == category }
            if !members.isEmpty { sections.append(.init(key: category.rawValue, title: title, indicators: members, tasks: [])) }
        }
        // Indicators with no objective and category csi would otherwise be left out.
        let placed = Set(sections.flatMap { $0.indicators.map(\.code) })
        let unplaced = lines.filter { !placed.contains($0.code) }
        if !unplaced.isEmpty { sections.append(.init(key: "other", title: "Other indicators", indicators: unplaced, tasks: [])) }

        var rag: [String: Int] = [:]
        for line in lines { rag[line.rag.rawValue, default: 0] += 1 }
        var byStatus: [String: Int] = [:]
        for task in tasks { byStatus[task.status.rawValue, default: 0] += 1 }
        byStatus["overdue"] = tasks.filter { $0.overdueDays != nil }.count
        let exceptions = PerformanceReport.Exceptions(
            red: lines.filter { $0.rag == .red }.map(\.code),
            notSubmitted: lines.filter(\.overdue).map(\.code),
            overdueTasks: tasks.filter { $0.overdueDays != nil }.map(\.code),
            slippedTasks: tasks.filter { $0.slippage.times > 0 }.map(\.code))
        return PerformanceReport(
            plan: plan.code, planTitle: plan.title, council: plan.council, period: period, asAt: today,
            objective: objective,
            summary: .init(rag: rag, tasks: byStatus, indicators: lines.count, notSubmitted: exceptions.notSubmitted.count,
                           slippedTasks: exceptions.slippedTasks.count),
            exceptions: exceptions, sections: sections, risks: risks)
    }
}

/// What the statuses of a plan's indicators are computed from, each read once for the whole
/// plan: a filter on the plan, not a list of thousands of ids bound as one array parameter
/// (which PostgreSQL compares row by row once the statement's plan is generic).
private struct StatusInputs {
    var targets: [Int: [Period: Double]] = [:]
    var actuals: [Int: [Period: Double]] = [:]
    /// The current revision of each period's figure, from `since` on.
    var figures: [Int: [Period: FigureRevision]] = [:]

    private struct Value: Decodable {
        let indicatorID: Int
        let kind: String
        let period: Period
        let value: Double
    }

    init(plan: Int, since: Period, _ db: PGConnection) throws {
        for row in try db.rows(Value.self, """
            SELECT v.indicator_id, v.kind, v.period, v.value FROM indicator_values v JOIN indicators i ON i.id = v.indicator_id
            WHERE i.plan_id = \(plan) AND v.kind IN ('target', 'actual')
            """) {
            if row.kind == "target" { targets[row.indicatorID, default: [:]][row.period] = row.value }
            else { actuals[row.indicatorID, default: [:]][row.period] = row.value }
        }
        for row in try db.rows(Owned<Int, FigureRevision>.self, """
            \(revisionQuery(currentOnly: true))
            WHERE f.indicator_id IN (SELECT id FROM indicators WHERE plan_id = \(plan)) AND f.period >= \(since.year)
            ORDER BY f.indicator_id, f.period, f.revision DESC
            """) {
            figures[row.owner, default: [:]][row.record.period] = row.record
        }
    }
}
