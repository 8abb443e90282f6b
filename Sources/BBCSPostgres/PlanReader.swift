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

    /// The overview of the plan with this id (what memory holds); counts are of what is current.
    static func overview(planID: Int, _ db: PGConnection) throws -> PlanOverview {
            let plan = try db.one(PlanRow.self, "\(PlanRow.columns) WHERE id = \(planID)")
            let counts = try db.one(PlanOverview.Counts.self, """
                SELECT (SELECT count(*) FROM objectives WHERE plan_id = \(plan.id)) AS objectives,
                       (SELECT count(*) FROM indicators WHERE plan_id = \(plan.id) AND retired_in IS NULL) AS indicators,
                       (SELECT count(*) FROM tasks WHERE plan_id = \(plan.id) AND retired_in IS NULL) AS tasks,
                       (SELECT count(*) FROM strategies WHERE plan_id = \(plan.id)) AS strategies,
                       (SELECT count(DISTINCT post_id) FROM (
                            SELECT owner_post_id AS post_id FROM indicators WHERE plan_id = \(plan.id) AND retired_in IS NULL
                            UNION SELECT tp.post_id FROM task_posts tp JOIN tasks t ON t.id = tp.task_id
                            WHERE t.plan_id = \(plan.id) AND t.retired_in IS NULL
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

    /// The plan's objectives with their service objectives and counts of what is current; what memory holds.
    static func objectives(planID: Int, _ db: PGConnection) throws -> [ObjectiveSummary] {
            try db.rows(ObjectiveSummary.self, """
                SELECT o.code, o.title,
                       coalesce((SELECT json_agg(json_build_object('serviceArea', sa.name, 'text', so.text) ORDER BY so.position)
                                 FROM service_objectives so JOIN service_areas sa ON sa.id = so.service_area_id
                                 WHERE so.objective_id = o.id), '[]') AS service_objectives,
                       (SELECT count(*) FROM indicators i WHERE i.objective_id = o.id AND i.retired_in IS NULL) AS indicator_count,
                       (SELECT count(*) FROM tasks t WHERE t.objective_id = o.id AND t.retired_in IS NULL) AS task_count
                FROM objectives o WHERE o.plan_id = \(planID) ORDER BY o.position
                """)
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

    /// The plan's strategies in its order; what memory holds.
    static func strategies(planID: Int, _ db: PGConnection) throws -> [PlanDocument.Strategy] {
            try db.rows(PlanDocument.Strategy.self, """
                SELECT s.name, s.purpose, s.renewal_text, \(isoDate("s.renewal_date")) AS renewal_date,
                       coalesce((SELECT json_agg(r.name ORDER BY r.position) FROM strategy_responsible r WHERE r.strategy_id = s.id),
                                '[]') AS responsible
                FROM strategies s WHERE s.plan_id = \(planID) ORDER BY s.position
                """)
    }

    /// The plan's risk register (its current tasks' risks); what memory holds.
    static func risks(planID: Int, _ db: PGConnection) throws -> RiskRegister {
            RiskRegister(
                strategicRisks: try db.rows(RiskRegister.StrategicRisk.self, """
                    SELECT sr.number, sr.title,
                           coalesce((SELECT json_agg(DISTINCT t.code) FROM task_risks tr JOIN tasks t ON t.id = tr.task_id
                                     WHERE t.plan_id = sr.plan_id AND t.retired_in IS NULL AND sr.number = ANY(tr.strategic_risks)), '[]') AS tasks
                    FROM strategic_risks sr WHERE sr.plan_id = \(planID) ORDER BY sr.number
                    """),
                keyStrategicRisks: try db.rows(PlanDocument.KeyStrategicRisk.self, """
                    SELECT risk, mitigation FROM key_strategic_risks WHERE plan_id = \(planID) ORDER BY position
                    """),
                taskRisks: try db.rows(RiskRegister.TaskRisk.self, """
                    SELECT t.code AS task, tr.threat, tr.strategic_risks, tr.mitigation
                    FROM task_risks tr JOIN tasks t ON t.id = tr.task_id
                    WHERE t.plan_id = \(planID) AND t.retired_in IS NULL ORDER BY t.position, tr.position
                    """))
    }

    public func posts() async throws -> [PostSummary] {
        try await pool.withConnection { db in
            try db.rows(PostSummary.self, """
                SELECT p.name,
                       coalesce((SELECT json_agg(alias ORDER BY alias) FROM post_aliases WHERE post_id = p.id), '[]') AS aliases,
                       (SELECT count(*) FROM indicators WHERE owner_post_id = p.id AND retired_in IS NULL) AS indicator_count,
                       (SELECT count(*) FROM task_posts tp JOIN tasks t ON t.id = tp.task_id
                        WHERE tp.post_id = p.id AND t.retired_in IS NULL) AS task_count,
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

/// The id of the indicator with this code or alias, ignoring case; the code may be
/// qualified with its plan (`PlanQualifiedCode`).
func resolveIndicator(_ code: String, _ db: PGConnection) throws -> Int {
    try findInPlan(code, kind: "indicator", table: "indicators", aliases: "indicator_aliases", aliasOf: "indicator_id", db)
}

/// The id of the task with this code or alias, ignoring case; the code may be qualified
/// with its plan.
func resolveTask(_ code: String, _ db: PGConnection) throws -> Int {
    try findInPlan(code, kind: "task", table: "tasks", aliases: "task_aliases", aliasOf: "task_id", db)
}

private struct FoundInPlan: Decodable {
    let id: Int
    let plan: String
    let byAlias: Bool
}

/// The row of `table` (indicators or tasks) whose code, or failing that one of its aliases,
/// is `text`'s code, in `text`'s plan if it names one; a code two plans share is refused
/// with the qualified codes to choose from.
private func findInPlan(_ text: String, kind: String, table: String, aliases: String, aliasOf: String, _ db: PGConnection) throws -> Int {
    let wanted = PlanQualifiedCode(text)
    let found = try db.rows(FoundInPlan.self, """
        SELECT x.id, p.code AS plan, false AS by_alias FROM \(identifier: table) x JOIN plans p ON p.id = x.plan_id
        WHERE lower(x.code) = lower(\(wanted.code)) AND (\(wanted.plan)::text IS NULL OR lower(p.code) = lower(\(wanted.plan)))
        UNION
        SELECT x.id, p.code, true FROM \(identifier: aliases) a JOIN \(identifier: table) x ON x.id = a.\(identifier: aliasOf)
        JOIN plans p ON p.id = x.plan_id
        WHERE lower(a.alias) = lower(\(wanted.code)) AND (\(wanted.plan)::text IS NULL OR lower(p.code) = lower(\(wanted.plan)))
        ORDER BY by_alias, plan
        """)
    let best = found.filter { $0.byAlias == found.first?.byAlias }
    guard let first = best.first else { throw StoreError.notFound(kind: kind, key: text) }
    guard best.count == 1 else { throw StoreError.ambiguous(kind: kind, code: wanted.code, plans: best.map(\.plan)) }
    return first.id
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
