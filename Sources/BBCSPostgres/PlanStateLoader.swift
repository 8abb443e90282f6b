import BBCSCore
import Foundation

/// Reads the state the daemon holds in memory (`IndicatorState`, `TaskState`,
/// `DirectoryState`): all of it at start, or the objects a change names.
public enum PlanStateLoader {
    /// Everything, with `ChangeLog.latest`, in one REPEATABLE READ snapshot: no change can
    /// fall between what is read and the seq it is read as of.
    public static func snapshot(_ db: PGConnection) throws -> PlanSnapshot {
        try db.repeatableRead {
            PlanSnapshot(seq: try ChangeLog.latest(db), indicators: try indicators(nil, db), tasks: try tasks(nil, db),
                         directory: try directory(db), plans: try plans(db), cycle: try cycle(db))
        }
    }

    /// What a batch of changes names, read again in one snapshot; nil parts were not asked for.
    public struct Reload: Sendable {
        public var indicators: [IndicatorState]?
        public var tasks: [TaskState]?
        public var directory: DirectoryState?
        public var cycle: CycleState?
    }

    /// The indicators and tasks with these ids (none asked when empty) and, if asked, the
    /// directory and the reporting cycle.
    public static func reload(indicatorIDs: [Int], taskIDs: [Int], directory withDirectory: Bool, cycle withCycle: Bool = false,
                              _ db: PGConnection) throws -> Reload {
        try db.repeatableRead {
            Reload(indicators: indicatorIDs.isEmpty ? nil : try indicators(indicatorIDs, db),
                   tasks: taskIDs.isEmpty ? nil : try tasks(taskIDs, db),
                   directory: withDirectory ? try directory(db) : nil,
                   cycle: withCycle ? try cycle(db) : nil)
        }
    }

    /// The reporting cycle: every round, newest period first, and every published report
    /// (without its documents), oldest first.
    public static func cycle(_ db: PGConnection) throws -> CycleState {
        CycleState(rounds: try db.rows(ReportingRound.self, """
            SELECT r.id, p.code AS plan, r.period, \(isoDate("r.deadline")) AS deadline, r.meeting, r.opened_by, \(londonTime("r.opened_at")) AS opened_at,
                   r.closed_by, \(londonTime("r.closed_at")) AS closed_at, r.close_reason, r.forced
            FROM rounds r JOIN plans p ON p.id = r.plan_id ORDER BY r.period DESC, r.id DESC
            """), published: try db.rows(Publication.self, """
            SELECT pr.number, p.code AS plan, r.period, r.meeting, pr.published_by, \(londonTime("pr.published_at")) AS published_at,
                   pr.json_sha256, pr.html_sha256, pr.risk_scores, pr.restatements,
                   coalesce((SELECT json_agg(json_build_object('indicator', i.code, 'period', f.period, 'revision', f.revision,
                                                               'value', f.value, 'provisional', f.provisional) ORDER BY i.plan_id, i.position, f.period)
                             FROM published_figures f JOIN indicators i ON i.id = f.indicator_id WHERE f.report_id = pr.id), '[]') AS figures
            FROM published_reports pr JOIN rounds r ON r.id = pr.round_id JOIN plans p ON p.id = r.plan_id ORDER BY pr.id
            """), reviews: Dictionary(grouping: try db.rows(Owned<Int, RiskReview>.self, """
            SELECT DISTINCT ON (rr.plan_id, rr.risk) rr.plan_id AS owner, rr.risk, rr.likelihood, rr.impact, rr.score, rr.band, rr.note, rr.reviewed_by AS "by",
                   \(londonTime("rr.reviewed_at")) AS "at"
            FROM risk_reviews rr ORDER BY rr.plan_id, rr.risk, rr.id DESC
            """), by: \.owner).mapValues { latest in
                Dictionary(latest.map { ($0.record.risk, $0.record) }, uniquingKeysWith: { first, _ in first })
            })
    }

    private struct Named: Decodable {
        let name: String
    }

    /// Every plan's structure, as memory holds it.
    public static func plans(_ db: PGConnection) throws -> PlanSet {
        let history = Dictionary(grouping: try db.rows(Owned<Int, PlanRevision>.self, """
            SELECT plan_id AS owner, revision, source, sha256, loaded_by, \(londonTime("loaded_at")) AS loaded_at, changes, added,
                   retired, restored
            FROM plan_revisions ORDER BY id
            """), by: \.owner)
        return PlanSet(try reportedPlans(db).map { plan in
            PlanOutline(reported: plan,
                        objectives: Set(try db.rows(Named.self, "SELECT code AS name FROM objectives WHERE plan_id = \(plan.id)").map(\.name)),
                        serviceAreas: Set(try db.rows(Named.self, "SELECT name FROM service_areas WHERE plan_id = \(plan.id)").map(\.name)),
                        objectiveList: try PlanReader.objectives(planID: plan.id, db), strategies: try PlanReader.strategies(planID: plan.id, db),
                        risks: try PlanReader.risks(planID: plan.id, db), overview: try PlanReader.overview(planID: plan.id, db),
                        history: history[plan.id]?.map(\.record) ?? [])
        })
    }

    private struct PlanRow: Decodable {
        let id: Int
        let code: String
        let title: String
        let council: String
        let priority: String
        let firstYear: Period
        let lastYear: Period
        let objectives: [ReportedPlan.Objective]
    }

    /// Every plan's heading and objectives, in the order of their codes.
    static func reportedPlans(_ db: PGConnection) throws -> [ReportedPlan] {
        try db.rows(PlanRow.self, """
            SELECT p.id, p.code, p.title, p.council, p.priority, p.first_year, p.last_year,
                   coalesce((SELECT json_agg(json_build_object('code', o.code, 'title', o.title) ORDER BY o.position)
                             FROM objectives o WHERE o.plan_id = p.id), '[]') AS objectives
            FROM plans p ORDER BY p.code
            """).map {
            ReportedPlan(id: $0.id, code: $0.code, title: $0.title, council: $0.council, firstYear: $0.firstYear,
                         lastYear: $0.lastYear, objectives: $0.objectives, priority: $0.priority)
        }
    }

    private struct IndicatorRow: Decodable {
        let id: Int
        let planID: Int
        let position: Int
        let code: String
        let title: String
        let category: IndicatorCategory
        let objective: String?
        let serviceArea: String
        let unit: IndicatorUnit
        let polarity: Polarity
        let frequency: Frequency
        let ownerPostID: Int
        let ownerPost: String
        let parent: String?
        let isNew: Bool
        let tolerance: Double?
        let comments: String
        let ownerFromDocument: Bool
        let aliases: [String]
        let children: [String]
        let firstYear: Period
        let lastYear: Period
        let retiredIn: Int?
    }

    /// The indicators with `ids` (every indicator when nil), in the plan's order.
    public static func indicators(_ ids: [Int]?, _ db: PGConnection) throws -> [IndicatorState] {
        let rows = try db.rows(IndicatorRow.self, """
            SELECT i.id, i.plan_id, i.position, i.code, i.title, i.category, o.code AS objective, sa.name AS service_area,
                   i.unit, i.polarity, i.frequency, i.owner_post_id, p.name AS owner_post, par.code AS parent, i.is_new,
                   i.tolerance, i.comments, i.owner_from_document,
                   coalesce((SELECT json_agg(a.alias ORDER BY a.alias) FROM indicator_aliases a WHERE a.indicator_id = i.id), '[]') AS aliases,
                   coalesce((SELECT json_agg(c.code ORDER BY c.position) FROM indicators c WHERE c.parent_id = i.id), '[]') AS children,
                   pl.first_year, pl.last_year, i.retired_in
            FROM indicators i
            JOIN plans pl ON pl.id = i.plan_id
            JOIN service_areas sa ON sa.id = i.service_area_id
            JOIN posts p ON p.id = i.owner_post_id
            LEFT JOIN objectives o ON o.id = i.objective_id
            LEFT JOIN indicators par ON par.id = i.parent_id
            WHERE \(ids)::bigint[] IS NULL OR i.id = ANY(\(ids)::bigint[])
            ORDER BY i.plan_id, i.position
            """)
        let targets = try IndicatorStatuses.values(of: ids, kind: "target", db)
        let actuals = try IndicatorStatuses.values(of: ids, kind: "actual", db)
        var sources: [Int: [Period: TargetSource]] = [:]
        for row in try db.rows(Owned<Int, SourceRow>.self, """
            SELECT v.indicator_id AS owner, v.period, v.set_in_revision AS revision, c.changed_by AS set_by, c.reason,
                   \(londonTime("c.changed_at")) AS at
            FROM indicator_values v
            LEFT JOIN LATERAL (SELECT changed_by, reason, changed_at FROM target_changes
                               WHERE indicator_id = v.indicator_id AND period = v.period ORDER BY id DESC LIMIT 1) c ON v.set_by_admin
            WHERE v.kind = 'target' AND (\(ids)::bigint[] IS NULL OR v.indicator_id = ANY(\(ids)::bigint[]))
            """) {
            sources[row.owner, default: [:]][row.record.period] = row.record.source
        }
        var figures: [Int: [Period: FigureRevision]] = [:]
        for row in try db.rows(Owned<Int, FigureRevision>.self, """
            \(revisionQuery(currentOnly: true)) WHERE \(ids)::bigint[] IS NULL OR f.indicator_id = ANY(\(ids)::bigint[])
            ORDER BY f.indicator_id, f.period, f.revision DESC
            """) {
            figures[row.owner, default: [:]][row.record.period] = row.record
        }
        return rows.map { r in
            var state = IndicatorState(id: r.id, planID: r.planID, position: r.position, code: r.code, title: r.title, category: r.category,
                           objective: r.objective, serviceArea: r.serviceArea, unit: r.unit, polarity: r.polarity,
                           frequency: r.frequency, ownerPostID: r.ownerPostID, ownerPost: r.ownerPost, parent: r.parent,
                           isNew: r.isNew, tolerance: r.tolerance, comments: r.comments, ownerFromDocument: r.ownerFromDocument,
                           aliases: r.aliases, children: r.children, firstYear: r.firstYear, lastYear: r.lastYear,
                           targets: targets[r.id] ?? [:], actuals: actuals[r.id] ?? [:], figures: figures[r.id] ?? [:])
            state.targetSources = sources[r.id] ?? [:]
            state.retiredIn = r.retiredIn
            return state
        }
    }

    private struct TaskRow: Decodable {
        let id: Int
        let planID: Int
        let position: Int
        let code: String
        let objective: String
        let action: String
        let responsiblePostIDs: [Int]
        let responsiblePosts: [String]
        let targetDate: CalendarDate?
        let targetText: String
        let status: TaskStatus
        let progress: Int
        let isNew: Bool
        let outcome: String
        let budgetComment: String
        let completedOn: CalendarDate?
        let aliases: [String]
        let partners: [String]
        let risks: [PlanDocument.TaskRisk]
        let latestNote: String?
        let retiredIn: Int?
    }

    /// The tasks with `ids` (every task when nil), in the plan's order.
    public static func tasks(_ ids: [Int]?, _ db: PGConnection) throws -> [TaskState] {
        let rows = try db.rows(TaskRow.self, """
            SELECT t.id, t.plan_id, t.position, t.code, o.code AS objective, t.action,
                   coalesce((SELECT json_agg(tp.post_id ORDER BY tp.position) FROM task_posts tp WHERE tp.task_id = t.id), '[]')
                       AS responsible_post_ids,
                   coalesce((SELECT json_agg(p.name ORDER BY tp.position) FROM task_posts tp JOIN posts p ON p.id = tp.post_id
                             WHERE tp.task_id = t.id), '[]') AS responsible_posts,
                   \(isoDate("t.target_date")) AS target_date, t.target_text, t.status, t.progress, t.is_new,
                   t.outcome, t.budget_comment, \(isoDate("t.completed_on")) AS completed_on,
                   coalesce((SELECT json_agg(a.alias ORDER BY a.alias) FROM task_aliases a WHERE a.task_id = t.id), '[]') AS aliases,
                   coalesce((SELECT json_agg(tpa.partner ORDER BY tpa.position) FROM task_partners tpa WHERE tpa.task_id = t.id), '[]')
                       AS partners,
                   coalesce((SELECT json_agg(json_build_object('threat', tr.threat, 'strategicRisks', tr.strategic_risks,
                                                               'mitigation', tr.mitigation) ORDER BY tr.position)
                             FROM task_risks tr WHERE tr.task_id = t.id), '[]') AS risks,
                   (SELECT c.note FROM task_changes c WHERE c.task_id = t.id AND c.kind = 'update' ORDER BY c.id DESC LIMIT 1)
                       AS latest_note, t.retired_in
            FROM tasks t JOIN objectives o ON o.id = t.objective_id
            WHERE \(ids)::bigint[] IS NULL OR t.id = ANY(\(ids)::bigint[])
            ORDER BY t.plan_id, t.position
            """)
        var changes: [String: [TaskChange]] = [:]
        for row in try TaskStore.changes(where: "c.kind = 'reschedule' AND (\(ids)::bigint[] IS NULL OR c.task_id = ANY(\(ids)::bigint[]))", db) {
            changes[row.owner, default: []].append(row.record)
        }
        return rows.map { r in
            var state = TaskState(id: r.id, planID: r.planID, position: r.position, code: r.code, objective: r.objective, action: r.action,
                      responsiblePostIDs: r.responsiblePostIDs, responsiblePosts: r.responsiblePosts, targetDate: r.targetDate,
                      targetText: r.targetText, status: r.status, progress: r.progress, isNew: r.isNew, outcome: r.outcome,
                      budgetComment: r.budgetComment, completedOn: r.completedOn, aliases: r.aliases, partners: r.partners,
                      risks: r.risks, slippage: Slippage(changes[r.code] ?? []), latestNote: r.latestNote)
            state.retiredIn = r.retiredIn
            return state
        }
    }

    /// Where one target came from, as the loader reads it.
    private struct SourceRow: Decodable {
        let period: Period
        let revision: Int?
        let setBy: String?
        let reason: String?
        let at: String?
        var source: TargetSource { TargetSource(revision: revision, setBy: setBy, reason: reason, at: at) }
    }

    private struct UserRow: Decodable {
        let id: Int
        let login: String
        let disabled: Bool
    }

    private struct HoldingRow: Decodable {
        let id: Int
        let userID: Int
        let postID: Int
        let post: String
        let validFrom: CalendarDate
        let validUntil: CalendarDate?
        let revoked: Bool
    }

    private struct PostKey: Decodable {
        let key: String
        let id: Int
    }

    /// Every user with every holding, and every post with its names.
    public static func directory(_ db: PGConnection) throws -> DirectoryState {
        var holdings: [Int: [DirectoryState.Holding]] = [:]
        for h in try db.rows(HoldingRow.self, """
            SELECT h.id, h.user_id, h.post_id, p.name AS post, \(isoDate("h.valid_from")) AS valid_from,
                   \(isoDate("h.valid_until")) AS valid_until, h.revoked_at IS NOT NULL AS revoked
            FROM post_holders h JOIN posts p ON p.id = h.post_id ORDER BY h.id
            """) {
            holdings[h.userID, default: []].append(.init(id: h.id, postID: h.postID, post: h.post, from: h.validFrom,
                                                         until: h.validUntil, revoked: h.revoked))
        }
        var users: [String: DirectoryState.User] = [:]
        for u in try db.rows(UserRow.self, "SELECT id, login, disabled_at IS NOT NULL AS disabled FROM users") {
            users[u.login] = .init(id: u.id, login: u.login, disabled: u.disabled, holdings: holdings[u.id] ?? [])
        }
        var posts: [Int: String] = [:], keys: [String: Int] = [:]
        for p in try db.rows(PostKey.self, "SELECT name AS key, id FROM posts") {
            posts[p.id] = p.key
            keys[p.key.lowercased()] = p.id
        }
        for a in try db.rows(PostKey.self, "SELECT alias AS key, post_id AS id FROM post_aliases") where keys[a.key.lowercased()] == nil {
            keys[a.key.lowercased()] = a.id
        }
        return DirectoryState(users: users, posts: posts, postKeys: keys)
    }
}

extension PGConnection {
    /// Runs `body` in one read-only REPEATABLE READ transaction: every statement sees the same snapshot.
    func repeatableRead<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        defer { if isHealthy { _ = try? execute("ROLLBACK") } }
        return try body()
    }
}
