extension PerformanceReport {
    /// The performance report for `period` (one objective's, or the whole plan's) from the plan
    /// as the daemon holds it: `indicators` and `tasks` in the plan's order, of any plan; only
    /// `plan`'s are reported.
    public static func assemble(plan: ReportedPlan, indicators: [IndicatorState], tasks: [TaskState], period: Period,
                                objective: String?, today: CalendarDate, graceDays: Int) throws -> PerformanceReport {
        try FigureRules.checkWithinPlan(period, firstYear: plan.firstYear, lastYear: plan.lastYear)
        if let objective, !plan.objectives.contains(where: { $0.code == objective }) {
            throw StoreError.notFound(kind: "objective", key: objective)
        }
        let firstYear = plan.firstYear
        let shown = indicators.filter { $0.planID == plan.id && (objective == nil || $0.objective == objective) }
        let lines = shown.map { indicator -> IndicatorLine in
            let unit = indicator.unit, frequency = indicator.frequency
            let reported = frequency == .annual ? period.year : (period.quarter == nil ? Period(startYear: period.startYear, quarter: 4) : period)
            let all = Performance.statuses(unit: unit, polarity: indicator.polarity, frequency: frequency, tolerance: indicator.tolerance,
                                           targets: indicator.targets, actuals: indicator.actuals, figures: indicator.figures,
                                           firstYear: plan.firstYear, lastYear: plan.lastYear)
            let status = all.first { $0.period == reported }
            let figure = status?.figure
            let due = figure == nil ? Performance.dueDate(of: reported, graceDays: graceDays) : nil
            var values: [Period: Double] = [:]
            for s in all { if let f = s.figure { values[s.period] = f.value } }
            // Baseline years before the plan; a quarterly count's shown as a quarter of the year, like its targets.
            let share = frequency == .quarterly && unit == .count ? 0.25 : 1
            let baseline = indicator.actuals.filter { $0.key < firstYear }.sorted { $0.key < $1.key }.map {
                Point(label: share == 1 ? $0.key.description : "\($0.key) (¼)", actual: $0.value * share, target: nil, baseline: true)
            }
            // The plan's periods so far; figures kept from before the plan are history, not this report's.
            let sofar = all.filter { $0.period <= reported && $0.period.year >= firstYear }.map {
                Point(label: $0.period.description, actual: $0.figure?.value, target: $0.target, baseline: false)
            }
            return IndicatorLine(
                code: indicator.code, title: indicator.title, category: indicator.category, objective: indicator.objective,
                unit: unit, polarity: indicator.polarity, frequency: frequency, ownerPost: indicator.ownerPost,
                period: reported, value: figure?.value, dueDate: due, overdue: due.map { today > $0 } ?? false,
                target: status?.target, rag: status?.rag ?? .grey, sincePrevious: status?.sincePrevious,
                sinceYearEarlier: status?.sinceYearEarlier,
                yearToDate: frequency == .quarterly ? Performance.yearToDate(at: reported, unit: unit, values: values) : nil,
                commentary: figure?.note, validated: figure?.validatedBy != nil, late: figure?.late ?? false,
                revision: figure?.revision, chart: baseline + sofar)
        }

        // Key tasks with slippage, latest note and risks.
        let shownTasks = tasks.filter { $0.planID == plan.id && (objective == nil || $0.objective == objective) }
        let taskLines = shownTasks.map { task -> TaskLine in
            let t = task.summary(today: today)
            return TaskLine(
                code: t.code, action: t.action, objective: t.objective, status: t.status, progress: t.progress, targetDate: t.targetDate,
                targetText: t.targetText, overdueDays: t.overdue ? t.targetDate.map { $0.days(until: today) } : nil,
                slippage: task.slippage, responsiblePosts: t.responsiblePosts, latestNote: task.latestNote)
        }
        let risks = shownTasks.flatMap { task in
            task.risks.map { RiskLine(task: task.code, threat: $0.threat, strategicRisks: $0.strategicRisks, mitigation: $0.mitigation) }
        }

        // Sections: each objective's CSIs and tasks, then the other categories.
        var sections: [Section] = []
        for row in plan.objectives where objective == nil || objective == row.code {
            sections.append(.init(key: row.code, title: row.title,
                                  indicators: lines.filter { $0.category == .csi && $0.objective == row.code },
                                  tasks: taskLines.filter { $0.objective == row.code }))
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
        for task in taskLines { byStatus[task.status.rawValue, default: 0] += 1 }
        byStatus["overdue"] = taskLines.filter { $0.overdueDays != nil }.count
        let exceptions = Exceptions(
            red: lines.filter { $0.rag == .red }.map(\.code),
            notSubmitted: lines.filter(\.overdue).map(\.code),
            overdueTasks: taskLines.filter { $0.overdueDays != nil }.map(\.code),
            slippedTasks: taskLines.filter { $0.slippage.times > 0 }.map(\.code))
        return PerformanceReport(
            plan: plan.code, planTitle: plan.title, council: plan.council, period: period, asAt: today, objective: objective,
            summary: .init(rag: rag, tasks: byStatus, indicators: lines.count, notSubmitted: exceptions.notSubmitted.count,
                           slippedTasks: exceptions.slippedTasks.count),
            exceptions: exceptions, sections: sections, risks: risks)
    }
}
