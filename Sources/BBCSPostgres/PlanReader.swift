import BBCSCore
import Foundation

/// Read queries over the plan. Every method runs on a pooled connection; lists come back in
/// the document's order.
public struct PlanReader: Sendable {
    let pool: PGPool

    public init(pool: PGPool) { self.pool = pool }

    /// A plan's own row.
    struct PlanRow: Decodable {
        let id: Int
        let code: String
        let title: String
        let council: String
        let priority: String
        let priorityStatement: String
        let vision: String
        let planValues: [PlanDocument.Value]
        let firstYear: Period
        let lastYear: Period
        let introduction: String
        let notes: [String]

        /// The SELECT of plans, for a WHERE or ORDER BY to follow.
        static let columns: PGQuery = """
            SELECT id, code, title, council, priority, priority_statement, vision, plan_values, first_year, last_year, introduction, notes
            FROM plans
            """
    }

    private struct BudgetRow: Decodable {
        let description: String
        let kind: BudgetKind
        let comment: String
        let amounts: [String: String?]
    }

    /// The plan with `code`, or the one imported most recently.
    public func overview(code: String?) async throws -> PlanOverview {
        try await pool.withConnection { db in try Self.overview(code: code, db) }
    }

    /// The overview of the plan with `code`, or of the one imported most recently (what memory holds).
    static func overview(code: String?, _ db: PGConnection) throws -> PlanOverview {
            guard let plan = try db.first(PlanRow.self, """
                \(PlanRow.columns) WHERE \(code)::text IS NULL OR code = \(code) ORDER BY imported_at DESC, id DESC LIMIT 1
                """) else {
                throw StoreError.notFound(kind: "plan", key: code ?? "(none imported)")
            }
            let counts = try db.one(PlanOverview.Counts.self, """
                SELECT (SELECT count(*) FROM objectives WHERE plan_id = \(plan.id)) AS objectives,
                       (SELECT count(*) FROM indicators WHERE plan_id = \(plan.id)) AS indicators,
                       (SELECT count(*) FROM tasks WHERE plan_id = \(plan.id)) AS tasks,
                       (SELECT count(*) FROM strategies WHERE plan_id = \(plan.id)) AS strategies,
                       (SELECT count(DISTINCT post_id) FROM (
                            SELECT owner_post_id AS post_id FROM indicators WHERE plan_id = \(plan.id)
                            UNION SELECT tp.post_id FROM task_posts tp JOIN tasks t ON t.id = tp.task_id WHERE t.plan_id = \(plan.id)
                            UNION SELECT head_post_id FROM service_areas WHERE plan_id = \(plan.id) AND head_post_id IS NOT NULL) used) AS posts
                """)
            // Amounts are read as text: a number stored by hand beyond a Double (1e400) is
            // infinity to Double(_:), where a JSON decoder refuses the whole line.
            let budget = try db.rows(BudgetRow.self, """
                SELECT description, kind, comment,
                       (SELECT coalesce(jsonb_object_agg(key, value #>> '{}'), '{}') FROM jsonb_each(amounts)) AS amounts
                FROM budget_lines WHERE plan_id = \(plan.id) ORDER BY position
                """).map { row in
                    PlanDocument.BudgetLine(description: row.description, kind: row.kind,
                                            amounts: row.amounts.mapValues { $0.flatMap(Double.init) }, comment: row.comment)
                }
            return PlanOverview(
                code: plan.code, title: plan.title, council: plan.council, priority: plan.priority,
                priorityStatement: plan.priorityStatement, vision: plan.vision, values: plan.planValues, firstYear: plan.firstYear,
                lastYear: plan.lastYear, introduction: plan.introduction, notes: plan.notes, counts: counts, budget: budget)
    }

    public func objectives() async throws -> [ObjectiveSummary] {
        try await pool.withConnection { db in try Self.objectives(db) }
    }

    /// Every objective with its service objectives and counts; what memory holds too.
    static func objectives(_ db: PGConnection) throws -> [ObjectiveSummary] {
            try db.rows(ObjectiveSummary.self, """
                SELECT o.code, o.title,
                       coalesce((SELECT json_agg(json_build_object('serviceArea', sa.name, 'text', so.text) ORDER BY so.position)
                                 FROM service_objectives so JOIN service_areas sa ON sa.id = so.service_area_id
                                 WHERE so.objective_id = o.id), '[]') AS service_objectives,
                       (SELECT count(*) FROM indicators i WHERE i.objective_id = o.id) AS indicator_count,
                       (SELECT count(*) FROM tasks t WHERE t.objective_id = o.id) AS task_count
                FROM objectives o JOIN plans p ON p.id = o.plan_id ORDER BY p.id, o.position
                """)
    }

    /// An indicator as the lists, its detail and the report show it, without its periods.
    struct IndicatorRow: Decodable {
        let id: Int
        let code: String
        let title: String
        let category: IndicatorCategory
        let objective: String?
        let serviceArea: String
        let unit: IndicatorUnit
        let polarity: Polarity
        let frequency: Frequency
        let ownerPost: String
        let parent: String?
        let isNew: Bool
        let tolerance: Double?
        let comments: String
        let ownerFromDocument: Bool

        func summary(periods: [PeriodStatus]) -> IndicatorSummary {
            IndicatorSummary(code: code, title: title, category: category, objective: objective, serviceArea: serviceArea, unit: unit,
                             polarity: polarity, frequency: frequency, ownerPost: ownerPost, parent: parent, isNew: isNew,
                             tolerance: tolerance, periods: periods)
        }

        /// The SELECT of indicators, for a WHERE over `indicators i` to follow.
        static let columns: PGQuery = """
            SELECT i.id, i.code, i.title, i.category, o.code AS objective, sa.name AS service_area, i.unit, i.polarity, i.frequency,
                   p.name AS owner_post, par.code AS parent, i.is_new, i.tolerance, i.comments, i.owner_from_document
            FROM indicators i
            JOIN service_areas sa ON sa.id = i.service_area_id
            JOIN posts p ON p.id = i.owner_post_id
            LEFT JOIN objectives o ON o.id = i.objective_id
            LEFT JOIN indicators par ON par.id = i.parent_id
            """
    }

    public func indicators(_ filter: IndicatorFilter) async throws -> [IndicatorSummary] {
        try await pool.withConnection { db in
            if let objective = filter.objective, try !db.exists("SELECT 1 FROM objectives WHERE code = \(objective)") {
                throw StoreError.notFound(kind: "objective", key: objective)
            }
            if let area = filter.serviceArea, try !db.exists("SELECT 1 FROM service_areas WHERE name = \(area)") {
                throw StoreError.notFound(kind: "service area", key: area)
            }
            let postID = try filter.ownerPost.map { try resolvePost($0, db) }
            let rows = try db.rows(IndicatorRow.self, """
                \(IndicatorRow.columns)
                WHERE (\(filter.objective)::text IS NULL OR o.code = \(filter.objective))
                  AND (\(filter.category)::text IS NULL OR i.category = \(filter.category))
                  AND (\(filter.serviceArea)::text IS NULL OR sa.name = \(filter.serviceArea))
                  AND (\(postID)::bigint IS NULL OR i.owner_post_id = \(postID))
                ORDER BY i.plan_id, i.position
                """)
            let statuses = try IndicatorStatuses.load(rows.map(\.id), db)
            return rows.map { $0.summary(periods: statuses[$0.id] ?? []) }
        }
    }

    private struct ValueRow: Decodable {
        let kind: String
        let period: String
        let value: Double
    }

    public func indicator(code: String) async throws -> IndicatorDetail {
        try await pool.withConnection { db in
            let id = try resolveIndicator(code, db)
            let row = try db.one(IndicatorRow.self, "\(IndicatorRow.columns) WHERE i.id = \(id)")
            let aliases = try db.rows(String.self, "SELECT alias FROM indicator_aliases WHERE indicator_id = \(id) ORDER BY alias")
            let children = try db.rows(String.self, "SELECT code FROM indicators WHERE parent_id = \(id) ORDER BY position")
            let values = try db.rows(ValueRow.self, "SELECT kind, period, value FROM indicator_values WHERE indicator_id = \(id)")
            var actuals: [String: Double] = [:], targets: [String: Double] = [:]
            for value in values {
                if value.kind == "actual" { actuals[value.period] = value.value } else { targets[value.period] = value.value }
            }
            return IndicatorDetail(
                indicator: row.summary(periods: try IndicatorStatuses.load([id], db)[id] ?? []),
                aliases: aliases, comments: row.comments, ownerFromDocument: row.ownerFromDocument, children: children,
                actuals: actuals, targets: targets)
        }
    }

    /// A key task as the lists, its detail and the report show it.
    struct TaskRow: Decodable {
        let id: Int
        let code: String
        let objective: String
        let action: String
        let responsiblePosts: [String]
        let targetDate: CalendarDate?
        let targetText: String
        let status: TaskStatus
        let progress: Int
        let isNew: Bool
        let outcome: String
        let budgetComment: String
        let completedOn: CalendarDate?

        /// The task as lists show it; "overdue" is judged on `today`.
        func summary(today: CalendarDate) -> TaskSummary {
            TaskSummary(code: code, objective: objective, action: action, responsiblePosts: responsiblePosts, targetDate: targetDate,
                        targetText: targetText, status: status, progress: progress, isNew: isNew,
                        overdue: !status.isClosed && targetDate.map { $0 < today } == true, completedOn: completedOn)
        }

        /// The SELECT of tasks, for a WHERE over `tasks t` to follow.
        static let columns: PGQuery = """
            SELECT t.id, t.code, o.code AS objective, t.action,
                   coalesce((SELECT json_agg(p.name ORDER BY tp.position) FROM task_posts tp JOIN posts p ON p.id = tp.post_id
                             WHERE tp.task_id = t.id), '[]') AS responsible_posts,
                   \(isoDate("t.target_date")) AS target_date, t.target_text, t.status, t.progress, t.is_new,
                   t.outcome, t.budget_comment, \(isoDate("t.completed_on")) AS completed_on
            FROM tasks t JOIN objectives o ON o.id = t.objective_id
            """
    }

    /// Tasks matching `filter`; "overdue" and "due within" are judged on `today`.
    public func tasks(_ filter: TaskFilter, today: CalendarDate) async throws -> [TaskSummary] {
        try await pool.withConnection { db in
            let postID = try filter.post.map { try resolvePost($0, db) }
            let anyOf = try filter.anyOfPosts.map { try $0.map { try resolvePost($0, db) } }
            let open: PGQuery = "t.status NOT IN ('completed', 'deferred', 'cancelled')"
            return try db.rows(TaskRow.self, """
                \(TaskRow.columns)
                WHERE (\(postID)::bigint IS NULL
                       OR EXISTS (SELECT 1 FROM task_posts tp WHERE tp.task_id = t.id AND tp.post_id = \(postID)))
                  AND (\(filter.status)::text IS NULL OR t.status = \(filter.status))
                  AND (\(filter.dueBefore)::date IS NULL OR t.target_date <= \(filter.dueBefore)::date)
                  AND (\(filter.dueAfter)::date IS NULL OR t.target_date >= \(filter.dueAfter)::date)
                  AND (NOT \(filter.overdue)::boolean OR (t.target_date < \(today)::date AND \(open)))
                  AND (\(filter.dueWithinDays)::integer IS NULL
                       OR (t.target_date BETWEEN \(today)::date AND \(today)::date + \(filter.dueWithinDays)::integer AND \(open)))
                  AND (\(anyOf)::bigint[] IS NULL
                       OR EXISTS (SELECT 1 FROM task_posts tp WHERE tp.task_id = t.id AND tp.post_id = ANY(\(anyOf)::bigint[])))
                ORDER BY t.plan_id, t.position
                """).map { $0.summary(today: today) }
        }
    }

    public func task(code: String, today: CalendarDate) async throws -> TaskDetail {
        try await pool.withConnection { db in
            let id = try resolveTask(code, db)
            let row = try db.one(TaskRow.self, "\(TaskRow.columns) WHERE t.id = \(id)")
            let changes = try TaskStore.changes(of: id, db)
            return TaskDetail(
                task: row.summary(today: today),
                aliases: try db.rows(String.self, "SELECT alias FROM task_aliases WHERE task_id = \(id) ORDER BY alias"),
                outcome: row.outcome,
                partners: try db.rows(String.self, "SELECT partner FROM task_partners WHERE task_id = \(id) ORDER BY position"),
                budgetComment: row.budgetComment,
                risks: try db.rows(PlanDocument.TaskRisk.self, """
                    SELECT threat, strategic_risks, mitigation FROM task_risks WHERE task_id = \(id) ORDER BY position
                    """),
                slippage: Slippage(changes))
        }
    }

    public func strategies() async throws -> [PlanDocument.Strategy] {
        try await pool.withConnection { db in try Self.strategies(db) }
    }

    /// Every strategy in the plan's order; what memory holds too.
    static func strategies(_ db: PGConnection) throws -> [PlanDocument.Strategy] {
            try db.rows(PlanDocument.Strategy.self, """
                SELECT s.name, s.purpose, s.renewal_text, \(isoDate("s.renewal_date")) AS renewal_date,
                       coalesce((SELECT json_agg(r.name ORDER BY r.position) FROM strategy_responsible r WHERE r.strategy_id = s.id),
                                '[]') AS responsible
                FROM strategies s ORDER BY s.plan_id, s.position
                """)
    }

    public func risks() async throws -> RiskRegister {
        try await pool.withConnection { db in try Self.risks(db) }
    }

    /// The risk register; what memory holds too.
    static func risks(_ db: PGConnection) throws -> RiskRegister {
            RiskRegister(
                strategicRisks: try db.rows(RiskRegister.StrategicRisk.self, """
                    SELECT sr.number, sr.title,
                           coalesce((SELECT json_agg(DISTINCT t.code) FROM task_risks tr JOIN tasks t ON t.id = tr.task_id
                                     WHERE t.plan_id = sr.plan_id AND sr.number = ANY(tr.strategic_risks)), '[]') AS tasks
                    FROM strategic_risks sr ORDER BY sr.plan_id, sr.number
                    """),
                keyStrategicRisks: try db.rows(PlanDocument.KeyStrategicRisk.self, """
                    SELECT risk, mitigation FROM key_strategic_risks ORDER BY plan_id, position
                    """),
                taskRisks: try db.rows(RiskRegister.TaskRisk.self, """
                    SELECT t.code AS task, tr.threat, tr.strategic_risks, tr.mitigation
                    FROM task_risks tr JOIN tasks t ON t.id = tr.task_id ORDER BY t.plan_id, t.position, tr.position
                    """))
    }

    public func posts() async throws -> [PostSummary] {
        try await pool.withConnection { db in
            try db.rows(PostSummary.self, """
                SELECT p.name,
                       coalesce((SELECT json_agg(alias ORDER BY alias) FROM post_aliases WHERE post_id = p.id), '[]') AS aliases,
                       (SELECT count(*) FROM indicators WHERE owner_post_id = p.id) AS indicator_count,
                       (SELECT count(*) FROM task_posts WHERE post_id = p.id) AS task_count,
                       coalesce((SELECT json_agg(name ORDER BY position) FROM service_areas WHERE head_post_id = p.id), '[]') AS head_of
                FROM posts p ORDER BY p.name
                """)
        }
    }
}

/// The post with this name or alias, ignoring case: its id and its own name.
func findPost(_ name: String, _ db: PGConnection) throws -> (id: Int, name: String)? {
    try find(name, table: "posts", column: "name", aliases: "post_aliases", aliasOf: "post_id", db).map { ($0.id, $0.name) }
}

/// The id of the post with this name or alias.
func resolvePost(_ name: String, _ db: PGConnection) throws -> Int {
    guard let post = try findPost(name, db) else { throw StoreError.notFound(kind: "post", key: name) }
    return post.id
}

/// The id of the indicator with this code or alias, ignoring case.
func resolveIndicator(_ code: String, _ db: PGConnection) throws -> Int {
    guard let found = try find(code, table: "indicators", column: "code", aliases: "indicator_aliases", aliasOf: "indicator_id", db) else {
        throw StoreError.notFound(kind: "indicator", key: code)
    }
    return found.id
}

/// The id of the task with this code or alias, ignoring case.
func resolveTask(_ code: String, _ db: PGConnection) throws -> Int {
    guard let found = try find(code, table: "tasks", column: "code", aliases: "task_aliases", aliasOf: "task_id", db) else {
        throw StoreError.notFound(kind: "task", key: code)
    }
    return found.id
}

private struct Found: Decodable {
    let id: Int
    let name: String
}

/// The row of `table` whose `column` (or one of its aliases) is `key`, ignoring case: its id
/// and its own `column`. Table and column names come from code, never from input.
private func find(_ key: String, table: String, column: String, aliases: String, aliasOf: String, _ db: PGConnection) throws -> Found? {
    try db.first(Found.self, """
        SELECT id, \(identifier: column) AS name FROM \(identifier: table) WHERE lower(\(identifier: column)) = lower(\(key))
        UNION ALL
        SELECT x.id, x.\(identifier: column) FROM \(identifier: aliases) a JOIN \(identifier: table) x ON x.id = a.\(identifier: aliasOf)
        WHERE lower(a.alias) = lower(\(key))
        LIMIT 1
        """)
}
