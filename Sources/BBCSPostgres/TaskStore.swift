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
        return try await pool.transaction { db in
            let task = try Self.load(code, actor, db)
            let newStatus = status ?? task.summary.status
            // Completing a task completes its work.
            let newProgress = progress ?? (newStatus == .completed ? 100 : task.summary.progress)
            let completedOn: CalendarDate? = newStatus == .completed ? (task.summary.completedOn ?? actor.today) : nil
            try db.query("UPDATE tasks SET status = $2, progress = $3, completed_on = $4::date WHERE id = $1",
                         [task.id, newStatus.rawValue, newProgress, completedOn?.description])
            try db.query("""
                INSERT INTO task_changes (task_id, kind, old_status, new_status, old_progress, new_progress, note, changed_by, changed_at)
                VALUES ($1, 'update', $2, $3, $4, $5, $6, $7, to_timestamp($8::double precision))
                """, [task.id, task.summary.status.rawValue, newStatus.rawValue, task.summary.progress, newProgress, note,
                      actor.principal.login, actor.epochSeconds])
            let after = try Self.summary(task.id, db, today: actor.today)
            try AuditLog.record(db, actor, object: after.code, before: task.summary, after: after,
                                message: "\(after.status.rawValue), \(after.progress)%")
            return after
        }
    }

    /// Moves the target date, keeping the old one and the reason.
    public func reschedule(code: String, to date: CalendarDate, reason: String, by actor: Actor) async throws -> TaskSummary {
        guard !reason.allSatisfy(\.isWhitespace) else { throw StoreError.invalid(param: "reason", "a new target date needs a reason") }
        return try await pool.transaction { db in
            let task = try Self.load(code, actor, db)
            if task.summary.targetDate == date {
                throw StoreError.conflict("\(task.summary.code) is already due on \(date)", hint: nil)
            }
            try db.query("UPDATE tasks SET target_date = $2::date WHERE id = $1", [task.id, date.description])
            try db.query("""
                INSERT INTO task_changes (task_id, kind, old_date, new_date, note, changed_by, changed_at)
                VALUES ($1, 'reschedule', $2::date, $3::date, $4, $5, to_timestamp($6::double precision))
                """, [task.id, task.summary.targetDate?.description, date.description, reason, actor.principal.login, actor.epochSeconds])
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
        try changes(where: "c.task_id = $1", [taskID], db).map(\.change)
    }

    /// Task changes matching `condition` (over `task_changes c` and `tasks t`), oldest first,
    /// each with its task's code.
    static func changes(where condition: String, _ parameters: [any PGParameter], _ db: PGConnection) throws
        -> [(task: String, change: TaskChange)] {
        let rows = try db.query("""
            SELECT c.kind, c.old_status, c.new_status, c.old_progress, c.new_progress, to_char(c.old_date, 'YYYY-MM-DD'),
                   to_char(c.new_date, 'YYYY-MM-DD'), c.note, c.changed_by,
                   to_char(c.changed_at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD"T"HH24:MI:SS'), t.code
            FROM task_changes c JOIN tasks t ON t.id = c.task_id WHERE \(condition) ORDER BY c.id
            """, parameters)
        return try rows.map { r in
            (try rows.text(r, 10),
             TaskChange(kind: try enumValue(rows.text(r, 0)), oldStatus: try rows.string(r, 1).map(enumValue),
                        newStatus: try rows.string(r, 2).map(enumValue), oldProgress: rows.string(r, 3).flatMap { Int($0) },
                        newProgress: rows.string(r, 4).flatMap { Int($0) }, oldDate: rows.string(r, 5).flatMap(CalendarDate.init(iso:)),
                        newDate: rows.string(r, 6).flatMap(CalendarDate.init(iso:)), note: try rows.text(r, 7),
                        changedBy: try rows.text(r, 8), changedAt: try rows.text(r, 9)))
        }
    }

    /// The task with `code`, locked for the change, once the actor may change it.
    private static func load(_ code: String, _ actor: Actor, _ db: PGConnection) throws -> (id: Int, summary: TaskSummary) {
        let id = try resolveTask(code, db)
        try db.query("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", [id])
        let summary = try summary(id, db, today: actor.today)
        if let denial = Policy.mayChange(ownedBy: summary.responsiblePosts, what: "task \(summary.code)", actor.principal) {
            throw denial
        }
        return (id, summary)
    }

    static func summary(_ id: Int, _ db: PGConnection, today: CalendarDate) throws -> TaskSummary {
        let rows = try db.query(PlanReader.taskColumns + " WHERE t.id = $1", [id])
        return try taskSummary(rows, 0, today: today)
    }
}
