import BBCSCore
import Foundation

/// Key task progress and target-date changes, each kept in the task's history, checked
/// against the task's responsible posts and audited in its own transaction.
public struct TaskStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) { self.pool = pool }

    /// Records progress: a new status and/or percentage, always with a note.
    public func update(code: String, status: TaskStatus?, progress: Int?, note: String, by actor: Actor) async throws -> TaskSummary {
        if let progress, !(0...100).contains(progress) {
            throw StoreError.invalid(param: "progress", "progress is a percentage from 0 to 100")
        }
        guard !note.allSatisfy(\.isWhitespace) else { throw StoreError.invalid(param: "note", "a task update needs a note") }
        return try await pool.transaction(confirming: actor) { db, actor in
            let task = try Self.load(code, actor, db)
            let newStatus = status ?? task.summary.status
            // Completing a task completes its work.
            let newProgress = progress ?? (newStatus == .completed ? 100 : task.summary.progress)
            let completedOn: CalendarDate? = newStatus == .completed ? (task.summary.completedOn ?? actor.today) : nil
            try db.execute("""
                UPDATE tasks SET status = \(newStatus), progress = \(newProgress), completed_on = \(completedOn)::date WHERE id = \(task.id)
                """)
            try db.execute("""
                INSERT INTO task_changes (task_id, kind, old_status, new_status, old_progress, new_progress, note, changed_by, changed_at)
                VALUES (\(task.id), 'update', \(task.summary.status), \(newStatus), \(task.summary.progress), \(newProgress), \(note),
                        \(actor.principal.login), \(timestamp(actor.recordedAt)))
                """)
            let after = try Self.summary(task.id, db, today: actor.today)
            try AuditLog.record(db, actor, object: after.code, before: task.summary, after: after,
                                message: "\(after.status.rawValue), \(after.progress)%")
            return after
        }
    }

    /// Moves the target date, keeping the old one and the reason.
    public func reschedule(code: String, to date: CalendarDate, reason: String, by actor: Actor) async throws -> TaskSummary {
        guard !reason.allSatisfy(\.isWhitespace) else { throw StoreError.invalid(param: "reason", "a new target date needs a reason") }
        return try await pool.transaction(confirming: actor) { db, actor in
            let task = try Self.load(code, actor, db)
            if task.summary.targetDate == date {
                throw StoreError.conflict("\(task.summary.code) is already due on \(date)", hint: nil)
            }
            try db.execute("UPDATE tasks SET target_date = \(date)::date WHERE id = \(task.id)")
            try db.execute("""
                INSERT INTO task_changes (task_id, kind, old_date, new_date, note, changed_by, changed_at)
                VALUES (\(task.id), 'reschedule', \(task.summary.targetDate)::date, \(date)::date, \(reason), \(actor.principal.login),
                        \(timestamp(actor.recordedAt)))
                """)
            let after = try Self.summary(task.id, db, today: actor.today)
            try AuditLog.record(db, actor, object: after.code, before: ["targetDate": task.summary.targetDate?.description],
                                after: ["targetDate": date.description], message: "target date \(task.summary.targetDate?.description ?? "none") → \(date): \(reason)")
            return after
        }
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

    /// The task with `code`, locked for the change, once the actor may change it.
    private static func load(_ code: String, _ actor: Actor, _ db: PGConnection) throws -> (id: Int, summary: TaskSummary) {
        let id = try resolveTask(code, db)
        try db.execute("SELECT 1 FROM tasks WHERE id = \(id) FOR UPDATE")
        let summary = try summary(id, db, today: actor.today)
        if let denial = Policy.mayChange(ownedBy: summary.responsiblePosts, what: "task \(summary.code)", actor.principal) {
            throw denial
        }
        return (id, summary)
    }

    static func summary(_ id: Int, _ db: PGConnection, today: CalendarDate) throws -> TaskSummary {
        try db.one(PlanReader.TaskRow.self, "\(PlanReader.TaskRow.columns) WHERE t.id = \(id)").summary(today: today)
    }
}
