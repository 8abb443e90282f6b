extension PerformanceReport {
    /// The performance report for `period` (one objective's, or the whole plan's) from the plan
    /// as the daemon holds it: `indicators` and `tasks` in the plan's order, of any plan; only
    /// `plan`'s are reported.
    /// `cycle` gives the round of the period, the restatements since the last publication and
    /// the scores that publication showed; `register` the risks, scored by `cycle`'s reviews.
    public static func assemble(plan: ReportedPlan, indicators: [IndicatorState], tasks: [TaskState], period: Period,
                                objective: String?, today: CalendarDate, graceDays: Int, cycle: CycleState = CycleState(),
                                register: RiskRegister = RiskRegister(strategicRisks: [], keyStrategicRisks: [], taskRisks: [])) throws -> PerformanceReport {
        try FigureRules.checkWithinPlan(period, firstYear: plan.firstYear, lastYear: plan.lastYear)
        if let objective, !plan.objectives.contains(where: { $0.code == objective }) {
            throw StoreError.notFound(kind: "objective", key: objective)
        }
        let firstYear = plan.firstYear
        let shown = indicators.filter { $0.planID == plan.id && !$0.isRetired && (objective == nil || $0.objective == objective) }
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
                revision: figure?.revision, provisional: figure?.provisional ?? false, forecast: figure?.forecast,
                annualTarget: status?.annualTarget, forecastRAG: status?.forecastRAG, chart: baseline + sofar)
        }

        // Key tasks with slippage, latest note and risks.
        let shownTasks = tasks.filter { $0.planID == plan.id && !$0.isRetired && (objective == nil || $0.objective == objective) }
        let taskLines = shownTasks.map { task -> TaskLine in
            let t = task.summary(today: today)
            return TaskLine(
                code: t.code, action: t.action, objective: t.objective, status: t.status, progress: t.progress, targetDate: t.targetDate,
                targetText: t.targetText, overdueDays: t.overdue ? t.targetDate.map { $0.days(until: today) } : nil,
                slippage: task.slippage, responsiblePosts: t.responsiblePosts, latestNote: task.latestNote)
        }
        // The register's risks linked to the tasks shown (all of them for the whole plan), those
        // of overdue tasks first, each against the score the previous published report showed.
        let publications = cycle.publications(plan: plan.code)
        let previous = publications.last?.riskScores ?? [:]
        let shownCodes = Set(taskLines.map(\.code)), overdue = Set(taskLines.filter { $0.overdueDays != nil }.map(\.code))
        let entries = RiskEntry.register(risks: register, tasks: tasks, planID: plan.id, reviews: cycle.reviews(of: plan.id))
            .filter { objective == nil || $0.tasks.contains(where: shownCodes.contains) }
        let riskLines = entries.map { RiskLine($0, previousScore: previous[$0.id], linkedToOverdueTask: $0.tasks.contains(where: overdue.contains)) }
        let risks = riskLines.filter(\.linkedToOverdueTask) + riskLines.filter { !$0.linkedToOverdueTask }

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

        var rag: [String: Int] = [:], forecastRAG: [String: Int] = [:]
        for line in lines {
            rag[line.rag.rawValue, default: 0] += 1
            if let forecast = line.forecastRAG { forecastRAG[forecast.rawValue, default: 0] += 1 }
        }
        var byStatus: [String: Int] = [:]
        for task in taskLines { byStatus[task.status.rawValue, default: 0] += 1 }
        byStatus["overdue"] = taskLines.filter { $0.overdueDays != nil }.count
        let exceptions = Exceptions(
            red: lines.filter { $0.rag == .red }.map(\.code),
            notSubmitted: lines.filter(\.overdue).map(\.code),
            overdueTasks: taskLines.filter { $0.overdueDays != nil }.map(\.code),
            slippedTasks: taskLines.filter { $0.slippage.times > 0 }.map(\.code),
            risksUp: risks.filter { $0.movement == .up }.map(\.id))
        return PerformanceReport(
            plan: plan.code, planTitle: plan.title, council: plan.council, period: period, asAt: today, objective: objective,
            summary: .init(rag: rag, tasks: byStatus, indicators: lines.count, notSubmitted: exceptions.notSubmitted.count,
                           slippedTasks: exceptions.slippedTasks.count, provisional: lines.filter(\.provisional).count,
                           forecastRAG: forecastRAG),
            exceptions: exceptions, sections: sections, risks: risks,
            round: cycle.round(plan: plan.code, period: period).map(RoundLine.init),
            restatements: CycleState.restatements(of: publications, indicators: indicators, unlisted: true))
    }
}
