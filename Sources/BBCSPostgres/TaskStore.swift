import BBCSCore
import Foundation

/// Key task progress and target-date changes as the use cases decided them, each written in
/// one guarded statement with its history, audit and change rows; the task's history.
public struct TaskStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) { self.pool = pool }

    /// The task with `id` as the database has it now.
    public func state(id: Int) async throws -> TaskState {
        try await pool.withConnection { db in try Self.state(id: id, db) }
    }

    private static func state(id: Int, _ db: PGConnection) throws -> TaskState {
        guard let state = try PlanStateLoader.tasks([id], db).first else { throw StoreError.notFound(kind: "task", key: "\(id)") }
        return state
    }

    /// Writes a task's update or new target date in one statement, with its history, audit
    /// and change rows, if the database still holds what the decision saw: the actor active
    /// and holding one of the task's responsible posts (or admin) today, and the task's
    /// status, progress and target date as they were.
    public func write(_ decision: TaskDecision, by actor: Actor) async throws -> GuardedWrite {
        let d = decision, old = decision.expected, new = decision.after, c = decision.change, p = actor.principal
        // The UPDATE's WHERE is judged again on the row as a concurrent change left it.
        let query = { @Sendable (key: RequestKey) -> PGQuery in
            """
            WITH caller AS (\(actor.guardQuery(holdingAnyOf: d.responsiblePostIDs))),
            written AS (
                UPDATE tasks SET status = \(new.status)::text, progress = \(new.progress)::integer,
                                 completed_on = \(new.completedOn)::date, target_date = \(new.targetDate)::date
                WHERE id = \(d.taskID)::bigint AND status = \(old.status)::text AND progress = \(old.progress)::integer
                  AND target_date IS NOT DISTINCT FROM \(old.targetDate)::date AND EXISTS (SELECT 1 FROM caller)
                RETURNING id),
            history AS (
                INSERT INTO task_changes (task_id, kind, old_status, new_status, old_progress, new_progress, old_date, new_date, note,
                                          changed_by, changed_at)
                SELECT id, \(c.kind)::text, \(c.oldStatus)::text, \(c.newStatus)::text, \(c.oldProgress)::integer,
                       \(c.newProgress)::integer, \(c.oldDate)::date, \(c.newDate)::date, \(c.note)::text, \(p.login)::text,
                       \(timestamp(actor.recordedAt))
                FROM written),
            audited AS (\(AuditLog.insert(actor, d.audit, from: "written"))),
            change AS (\(ChangeLog.insert(d.kind, indicatorID: "NULL::bigint", taskID: "\(d.taskID)::bigint", login: p.login,
                                          detail: "\(jsonText(d.detail))::jsonb", from: "written")) RETURNING seq)
            \(GuardResult.select(storing: key))
            """
        }
        return try await pool.guardedWrite(query)
    }

    /// The task and its history, oldest first, with its slippage.
    public func history(code: String, today: CalendarDate) async throws -> (TaskSummary, [TaskChange]) {
        try await pool.withConnection { db in
            let id = try resolveTask(code, db)
            return (try Self.summary(id, db, today: today), try Self.changes(of: id, db))
        }
    }

    static func changes(of taskID: Int, _ db: PGConnection) throws -> [TaskChange] {
        try changes(where: "c.task_id = \(taskID)", db).map(\.record)
    }

    /// Task changes matching `condition` (over `task_changes c` and `tasks t`), oldest first,
    /// each owned by its task's code.
    static func changes(where condition: PGQuery, _ db: PGConnection) throws -> [Owned<String, TaskChange>] {
        try db.rows(Owned<String, TaskChange>.self, """
            SELECT t.code AS owner, c.kind, c.old_status, c.new_status, c.old_progress, c.new_progress,
                   \(isoDate("c.old_date")) AS old_date, \(isoDate("c.new_date")) AS new_date, c.note, c.changed_by,
                   \(londonTime("c.changed_at")) AS changed_at
            FROM task_changes c JOIN tasks t ON t.id = c.task_id WHERE \(condition) ORDER BY c.id
            """)
    }

    static func summary(_ id: Int, _ db: PGConnection, today: CalendarDate) throws -> TaskSummary {
        try db.one(PlanReader.TaskRow.self, "\(PlanReader.TaskRow.columns) WHERE t.id = \(id)").summary(today: today)
    }
}
