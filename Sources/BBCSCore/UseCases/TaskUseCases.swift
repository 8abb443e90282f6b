/// A task change decided: the task's new status, progress and target date, what the database
/// must still hold (the task as the decision saw it), and its history, audit and change records.
public struct TaskDecision: Sendable, Equatable {
    public var kind: Change.Kind
    public var taskID: Int
    public var code: String
    /// The responsible posts (with the admin post) the caller must still hold today.
    public var responsiblePostIDs: [Int]
    /// The task as the database must still have it.
    public var expected: TaskState
    /// The task after the change: its row is written, and the reply computed from it.
    public var after: TaskState
    /// The history row.
    public var change: TaskChange
    public var audit: AuditRecord
    public var detail: JSONValue
}

/// Recording a task's progress and moving its target date: holders of one of its responsible
/// posts and administrators, always with a note or a reason.
public enum TaskUseCases {
    /// A new status and/or percentage, with a note; completing a task completes its work.
    public static func update(_ principal: Principal, _ task: TaskState, status: TaskStatus?, progress: Int?, note: String,
                              at time: ChangeTime) throws -> TaskDecision {
        if let progress, !(0...100).contains(progress) {
            throw StoreError.invalid(param: "progress", "progress is a percentage from 0 to 100")
        }
        try requireText(note, param: "note", "a task update needs a note")
        try checkPermission(principal, task)
        var after = task
        after.status = status ?? task.status
        after.progress = progress ?? (after.status == .completed ? 100 : task.progress)
        after.completedOn = after.status == .completed ? (task.completedOn ?? time.today) : nil
        after.latestNote = note
        let change = TaskChange(kind: .update, oldStatus: task.status, newStatus: after.status, oldProgress: task.progress,
                                newProgress: after.progress, oldDate: nil, newDate: nil, note: note, changedBy: principal.login,
                                changedAt: time.recordedText)
        let before = task.summary(today: time.today), summary = after.summary(today: time.today)
        return decision(.taskUpdated, task, after, change, today: time.today, audit: AuditRecord(
            object: task.code, before: JSONValue(encoding: before), after: JSONValue(encoding: summary),
            message: "\(after.status.rawValue), \(after.progress)%"))
    }

    /// A new target date, keeping the old one and the reason.
    public static func reschedule(_ principal: Principal, _ task: TaskState, to date: CalendarDate, reason: String,
                                  at time: ChangeTime) throws -> TaskDecision {
        try requireText(reason, param: "reason", "a new target date needs a reason")
        try checkPermission(principal, task)
        if task.targetDate == date { throw StoreError.conflict("\(task.code) is already due on \(date)", hint: nil) }
        var after = task
        after.targetDate = date
        let change = TaskChange(kind: .reschedule, oldStatus: nil, newStatus: nil, oldProgress: nil, newProgress: nil,
                                oldDate: task.targetDate, newDate: date, note: reason, changedBy: principal.login,
                                changedAt: time.recordedText)
        if let old = task.targetDate, date > old {
            after.slippage = Slippage(times: task.slippage.times + 1, days: task.slippage.days + old.days(until: date))
        }
        return decision(.taskRescheduled, task, after, change, today: time.today, audit: AuditRecord(
            object: task.code, before: .object(["targetDate": task.targetDate.map { .string($0.description) } ?? .null]),
            after: .object(["targetDate": .string(date.description)]),
            message: "target date \(task.targetDate?.description ?? "none") → \(date): \(reason)"))
    }

    private static func checkPermission(_ principal: Principal, _ task: TaskState) throws {
        if let denial = Policy.mayChange(ownedBy: task.responsiblePosts, what: "task \(task.code)", principal) { throw denial }
    }

    private static func decision(_ kind: Change.Kind, _ task: TaskState, _ after: TaskState, _ change: TaskChange, today: CalendarDate,
                                 audit: AuditRecord) -> TaskDecision {
        var detail: [String: JSONValue] = [
            "task": .string(task.code), "objective": .string(task.objective), "posts": .array(task.responsiblePosts.map(JSONValue.string)),
            "status": .string(after.status.rawValue), "progress": .number(Double(after.progress)),
            "targetDate": after.targetDate.map { .string($0.description) } ?? .null,
        ]
        if kind == .taskRescheduled { detail["oldDate"] = task.targetDate.map { .string($0.description) } ?? .null }
        return TaskDecision(kind: kind, taskID: task.id, code: task.code, responsiblePostIDs: task.responsiblePostIDs, expected: task,
                            after: after, change: change, audit: audit, detail: .object(detail))
    }
}
