import BBCSCore
import Foundation

/// Read queries over the plan. Every method runs on a pooled connection; lists come back in
/// the document's order.
public struct PlanReader: Sendable {
    let pool: PGPool

    public init(pool: PGPool) { self.pool = pool }

    /// The plan with `code`, or the one imported most recently.
    public func overview(code: String?) async throws -> PlanOverview {
        try await pool.withConnection { db in
            let rows = try db.query("""
                SELECT id, code, title, council, priority, priority_statement, vision, plan_values::text,
                       first_year, last_year, introduction, notes::text
                FROM plans WHERE $1::text IS NULL OR code = $1 ORDER BY imported_at DESC, id DESC LIMIT 1
                """, [code])
            guard rows.count == 1 else { throw StoreError.notFound(kind: "plan", key: code ?? "(none imported)") }
            let planID = try rows.int(0, 0)
            let counts = try db.query("""
                SELECT (SELECT count(*) FROM objectives WHERE plan_id = $1), (SELECT count(*) FROM indicators WHERE plan_id = $1),
                       (SELECT count(*) FROM tasks WHERE plan_id = $1), (SELECT count(*) FROM strategies WHERE plan_id = $1),
                       (SELECT count(DISTINCT post_id) FROM (
                            SELECT owner_post_id AS post_id FROM indicators WHERE plan_id = $1
                            UNION SELECT tp.post_id FROM task_posts tp JOIN tasks t ON t.id = tp.task_id WHERE t.plan_id = $1
                            UNION SELECT head_post_id FROM service_areas WHERE plan_id = $1 AND head_post_id IS NOT NULL) used)
                """, [planID])
            let budget = try db.query("""
                SELECT description, kind, comment, amounts::text FROM budget_lines WHERE plan_id = $1 ORDER BY position
                """, [planID])
            return PlanOverview(
                code: try rows.text(0, 1), title: try rows.text(0, 2), council: try rows.text(0, 3),
                priority: try rows.text(0, 4), priorityStatement: try rows.text(0, 5), vision: try rows.text(0, 6),
                values: try decodeJSON(rows.text(0, 7)), firstYear: try period(rows.text(0, 8)),
                lastYear: try period(rows.text(0, 9)), introduction: try rows.text(0, 10), notes: try decodeJSON(rows.text(0, 11)),
                counts: .init(objectives: try counts.int(0, 0), indicators: try counts.int(0, 1), tasks: try counts.int(0, 2),
                              strategies: try counts.int(0, 3), posts: try counts.int(0, 4)),
                budget: try budget.map { r in
                    PlanDocument.BudgetLine(description: try budget.text(r, 0), kind: try enumValue(budget.text(r, 1)),
                                            amounts: try decodeJSON(budget.text(r, 3)), comment: try budget.text(r, 2))
                })
        }
    }

    public func objectives() async throws -> [ObjectiveSummary] {
        try await pool.withConnection { db in
            let rows = try db.query("""
                SELECT o.code, o.title,
                       coalesce((SELECT json_agg(json_build_object('serviceArea', sa.name, 'text', so.text) ORDER BY so.position)
                                 FROM service_objectives so JOIN service_areas sa ON sa.id = so.service_area_id
                                 WHERE so.objective_id = o.id), '[]')::text,
                       (SELECT count(*) FROM indicators i WHERE i.objective_id = o.id),
                       (SELECT count(*) FROM tasks t WHERE t.objective_id = o.id)
                FROM objectives o JOIN plans p ON p.id = o.plan_id ORDER BY p.id, o.position
                """)
            return try rows.map { r in
                ObjectiveSummary(code: try rows.text(r, 0), title: try rows.text(r, 1),
                                 serviceObjectives: try decodeJSON(rows.text(r, 2)),
                                 indicatorCount: try rows.int(r, 3), taskCount: try rows.int(r, 4))
            }
        }
    }

    private static let indicatorColumns = """
        SELECT i.code, i.title, i.category, o.code, sa.name, i.unit, i.polarity, i.frequency, p.name, par.code, i.is_new,
               i.tolerance, i.id, i.comments, i.owner_from_document
        FROM indicators i
        JOIN service_areas sa ON sa.id = i.service_area_id
        JOIN posts p ON p.id = i.owner_post_id
        LEFT JOIN objectives o ON o.id = i.objective_id
        LEFT JOIN indicators par ON par.id = i.parent_id
        """

    public func indicators(_ filter: IndicatorFilter) async throws -> [IndicatorSummary] {
        try await pool.withConnection { db in
            if let objective = filter.objective,
               try db.query("SELECT 1 FROM objectives WHERE code = $1", [objective]).count == 0 {
                throw StoreError.notFound(kind: "objective", key: objective)
            }
            if let area = filter.serviceArea, try db.query("SELECT 1 FROM service_areas WHERE name = $1", [area]).count == 0 {
                throw StoreError.notFound(kind: "service area", key: area)
            }
            let postID = try filter.ownerPost.map { try resolvePost($0, db) }
            let rows = try db.query(Self.indicatorColumns + """
                 WHERE ($1::text IS NULL OR o.code = $1) AND ($2::text IS NULL OR i.category = $2)
                   AND ($3::text IS NULL OR sa.name = $3) AND ($4::bigint IS NULL OR i.owner_post_id = $4)
                 ORDER BY i.plan_id, i.position
                """, [filter.objective, filter.category?.rawValue, filter.serviceArea, postID])
            let ids = try rows.map { try rows.int($0, 12) }
            let statuses = try IndicatorStatuses.load(ids, db)
            return try rows.map { try indicatorSummary(rows, $0, periods: statuses[ids[$0]] ?? []) }
        }
    }

    public func indicator(code: String) async throws -> IndicatorDetail {
        try await pool.withConnection { db in
            let id = try resolveIndicator(code, db)
            let rows = try db.query(Self.indicatorColumns + " WHERE i.id = $1", [id])
            let aliases = try db.query("SELECT alias FROM indicator_aliases WHERE indicator_id = $1 ORDER BY alias", [id])
            let children = try db.query("SELECT code FROM indicators WHERE parent_id = $1 ORDER BY position", [id])
            let values = try db.query("SELECT kind, period, value FROM indicator_values WHERE indicator_id = $1", [id])
            var actuals: [String: Double] = [:], targets: [String: Double] = [:]
            for r in 0..<values.count {
                let value = values.double(r, 2) ?? 0
                if try values.text(r, 0) == "actual" { actuals[try values.text(r, 1)] = value } else { targets[try values.text(r, 1)] = value }
            }
            return IndicatorDetail(
                indicator: try indicatorSummary(rows, 0, periods: IndicatorStatuses.load([id], db)[id] ?? []),
                aliases: try aliases.map { try aliases.text($0, 0) },
                comments: try rows.text(0, 13), ownerFromDocument: rows.bool(0, 14),
                children: try children.map { try children.text($0, 0) },
                actuals: actuals, targets: targets)
        }
    }

    static let taskColumns = """
        SELECT t.code, o.code, t.action,
               (SELECT json_agg(p.name ORDER BY tp.position) FROM task_posts tp JOIN posts p ON p.id = tp.post_id
                WHERE tp.task_id = t.id)::text,
               to_char(t.target_date, 'YYYY-MM-DD'), t.target_text, t.status, t.progress, t.is_new,
               t.id, t.outcome, t.budget_comment, to_char(t.completed_on, 'YYYY-MM-DD')
        FROM tasks t JOIN objectives o ON o.id = t.objective_id
        """

    /// Tasks matching `filter`; "overdue" and "due within" are judged on `today`.
    public func tasks(_ filter: TaskFilter, today: CalendarDate) async throws -> [TaskSummary] {
        try await pool.withConnection { db in
            let postID = try filter.post.map { try resolvePost($0, db) }
            let anyOf = try filter.anyOfPosts.map { try $0.map { try resolvePost($0, db) } }
            let open = "t.status NOT IN ('completed', 'deferred', 'cancelled')"
            let rows = try db.query(Self.taskColumns + """
                 WHERE ($1::bigint IS NULL OR EXISTS (SELECT 1 FROM task_posts tp WHERE tp.task_id = t.id AND tp.post_id = $1))
                   AND ($2::text IS NULL OR t.status = $2)
                   AND ($3::date IS NULL OR t.target_date <= $3)
                   AND ($4::date IS NULL OR t.target_date >= $4)
                   AND (NOT $5::boolean OR (t.target_date < $6::date AND \(open)))
                   AND ($7::integer IS NULL OR (t.target_date BETWEEN $6::date AND $6::date + $7::integer AND \(open)))
                   AND ($8::bigint[] IS NULL OR EXISTS (SELECT 1 FROM task_posts tp WHERE tp.task_id = t.id AND tp.post_id = ANY($8::bigint[])))
                 ORDER BY t.plan_id, t.position
                """, [postID, filter.status?.rawValue, filter.dueBefore?.description, filter.dueAfter?.description,
                      filter.overdue, today.description, filter.dueWithinDays, anyOf.map(pgArray)])
            return try rows.map { try taskSummary(rows, $0, today: today) }
        }
    }

    public func task(code: String, today: CalendarDate) async throws -> TaskDetail {
        try await pool.withConnection { db in
            let id = try resolveTask(code, db)
            let rows = try db.query(Self.taskColumns + " WHERE t.id = $1", [id])
            let changes = try TaskStore.changes(of: id, db)
            let aliases = try db.query("SELECT alias FROM task_aliases WHERE task_id = $1 ORDER BY alias", [id])
            let partners = try db.query("SELECT partner FROM task_partners WHERE task_id = $1 ORDER BY position", [id])
            let risks = try db.query("""
                SELECT threat, strategic_risks::text, mitigation FROM task_risks WHERE task_id = $1 ORDER BY position
                """, [id])
            return TaskDetail(
                task: try taskSummary(rows, 0, today: today),
                aliases: try aliases.map { try aliases.text($0, 0) },
                outcome: try rows.text(0, 10),
                partners: try partners.map { try partners.text($0, 0) },
                budgetComment: try rows.text(0, 11),
                risks: try risks.map { r in
                    PlanDocument.TaskRisk(threat: try risks.text(r, 0), strategicRisks: parseIntArray(risks.string(r, 1)),
                                          mitigation: try risks.text(r, 2))
                },
                slippage: Slippage(changes))
        }
    }

    public func strategies() async throws -> [PlanDocument.Strategy] {
        try await pool.withConnection { db in
            let rows = try db.query("""
                SELECT s.name, s.purpose, s.renewal_text, to_char(s.renewal_date, 'YYYY-MM-DD'),
                       (SELECT json_agg(r.name ORDER BY r.position) FROM strategy_responsible r WHERE r.strategy_id = s.id)::text
                FROM strategies s ORDER BY s.plan_id, s.position
                """)
            return try rows.map { r in
                PlanDocument.Strategy(name: try rows.text(r, 0), purpose: try rows.text(r, 1), renewalText: try rows.text(r, 2),
                                      renewalDate: rows.string(r, 3).flatMap(CalendarDate.init(iso:)),
                                      responsible: try decodeJSON(rows.string(r, 4) ?? "[]"))
            }
        }
    }

    public func risks() async throws -> RiskRegister {
        try await pool.withConnection { db in
            let strategic = try db.query("""
                SELECT sr.number, sr.title,
                       coalesce((SELECT json_agg(DISTINCT t.code) FROM task_risks tr JOIN tasks t ON t.id = tr.task_id
                                 WHERE t.plan_id = sr.plan_id AND sr.number = ANY(tr.strategic_risks)), '[]')::text
                FROM strategic_risks sr ORDER BY sr.plan_id, sr.number
                """)
            let key = try db.query("SELECT risk, mitigation FROM key_strategic_risks ORDER BY plan_id, position")
            let taskRisks = try db.query("""
                SELECT t.code, tr.threat, tr.strategic_risks::text, tr.mitigation
                FROM task_risks tr JOIN tasks t ON t.id = tr.task_id ORDER BY t.plan_id, t.position, tr.position
                """)
            return RiskRegister(
                strategicRisks: try strategic.map { r in
                    .init(number: try strategic.int(r, 0), title: strategic.string(r, 1), tasks: try decodeJSON(strategic.text(r, 2)))
                },
                keyStrategicRisks: try key.map { .init(risk: try key.text($0, 0), mitigation: try key.text($0, 1)) },
                taskRisks: try taskRisks.map { r in
                    .init(task: try taskRisks.text(r, 0), threat: try taskRisks.text(r, 1),
                          strategicRisks: parseIntArray(taskRisks.string(r, 2)), mitigation: try taskRisks.text(r, 3))
                })
        }
    }

    public func posts() async throws -> [PostSummary] {
        try await pool.withConnection { db in
            let rows = try db.query("""
                SELECT p.name,
                       coalesce((SELECT json_agg(alias ORDER BY alias) FROM post_aliases WHERE post_id = p.id), '[]')::text,
                       (SELECT count(*) FROM indicators WHERE owner_post_id = p.id),
                       (SELECT count(*) FROM task_posts WHERE post_id = p.id),
                       coalesce((SELECT json_agg(name ORDER BY position) FROM service_areas WHERE head_post_id = p.id), '[]')::text
                FROM posts p ORDER BY p.name
                """)
            return try rows.map { r in
                PostSummary(name: try rows.text(r, 0), aliases: try decodeJSON(rows.text(r, 1)), indicatorCount: try rows.int(r, 2),
                            taskCount: try rows.int(r, 3), headOf: try decodeJSON(rows.text(r, 4)))
            }
        }
    }
}

/// The post with this name or alias, ignoring case: its id and its own name.
func findPost(_ name: String, _ db: PGConnection) throws -> (id: Int, name: String)? {
    try find(name, table: "posts", column: "name", aliases: "post_aliases", aliasOf: "post_id", db)
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

/// The row of `table` whose `column` (or one of its aliases) is `key`, ignoring case: its id
/// and its own `column`. Table and column names come from code, never from input.
private func find(_ key: String, table: String, column: String, aliases: String, aliasOf: String,
                  _ db: PGConnection) throws -> (id: Int, name: String)? {
    let rows = try db.query("""
        SELECT id, \(column) FROM \(table) WHERE lower(\(column)) = lower($1)
        UNION ALL SELECT x.id, x.\(column) FROM \(aliases) a JOIN \(table) x ON x.id = a.\(aliasOf) WHERE lower(a.alias) = lower($1)
        LIMIT 1
        """, [key])
    return rows.count == 1 ? (try rows.int(0, 0), try rows.text(0, 1)) : nil
}

private func indicatorSummary(_ rows: PGResult, _ r: Int, periods: [PeriodStatus]) throws -> IndicatorSummary {
    IndicatorSummary(code: try rows.text(r, 0), title: try rows.text(r, 1), category: try enumValue(rows.text(r, 2)),
                     objective: rows.string(r, 3), serviceArea: try rows.text(r, 4), unit: try enumValue(rows.text(r, 5)),
                     polarity: try enumValue(rows.text(r, 6)), frequency: try enumValue(rows.text(r, 7)),
                     ownerPost: try rows.text(r, 8), parent: rows.string(r, 9), isNew: rows.bool(r, 10),
                     tolerance: rows.double(r, 11), periods: periods)
}

func taskSummary(_ rows: PGResult, _ r: Int, today: CalendarDate) throws -> TaskSummary {
    let target = rows.string(r, 4).flatMap(CalendarDate.init(iso:))
    let status: TaskStatus = try enumValue(rows.text(r, 6))
    return TaskSummary(code: try rows.text(r, 0), objective: try rows.text(r, 1), action: try rows.text(r, 2),
                       responsiblePosts: try decodeJSON(rows.string(r, 3) ?? "[]"), targetDate: target,
                       targetText: try rows.text(r, 5), status: status, progress: try rows.int(r, 7), isNew: rows.bool(r, 8),
                       overdue: !status.isClosed && target.map { $0 < today } == true,
                       completedOn: rows.string(r, 12).flatMap(CalendarDate.init(iso:)))
}

func decodeJSON<T: Decodable>(_ text: String) throws -> T {
    do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
        throw PGError.unexpectedResult("stored JSON does not decode as \(T.self): \(error)")
    }
}

func enumValue<T: RawRepresentable>(_ text: String) throws -> T where T.RawValue == String {
    guard let value = T(rawValue: text) else { throw PGError.unexpectedResult("\"\(text)\" is not a \(T.self)") }
    return value
}

func period(_ text: String) throws -> Period {
    guard let period = Period(text) else { throw PGError.unexpectedResult("\"\(text)\" is not a period") }
    return period
}
