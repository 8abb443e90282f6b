import BBCSCore

public struct TaskListRequest: RequestType {
    public static let method = "task.list"
    public static let summary = "Key tasks, optionally filtered; tasks whose target is a note are undated, never overdue."
    public static let parameters = [
        ParameterInfo.plan, ParameterInfo.all,
        ParameterInfo("post", "string", "a responsible post"),
        ParameterInfo("status", "string", "not_started, on_track, at_risk, off_track, completed, deferred or cancelled"),
        ParameterInfo("dueBefore", "date", "target date on or before, YYYY-MM-DD"),
        ParameterInfo("dueAfter", "date", "target date on or after, YYYY-MM-DD"),
        ParameterInfo("overdue", "boolean", "only open tasks past their target date"),
        ParameterInfo("dueWithin", "integer", range: 0...36_525, "only open tasks due from today to this many days ahead (at most 36525, a hundred years)"),
        ParameterInfo("mine", "boolean", "only tasks for which a post the caller holds is responsible"),
    ]
    public static let access = Access.registered
    public var post: String?
    public var status: TaskStatus?
    public var dueBefore: CalendarDate?
    public var dueAfter: CalendarDate?
    public var overdue: Bool?
    public var dueWithin: Int?
    public var mine: Bool?
    public var plan: String?
    /// Retired ones too.
    public var all: Bool?
    public init(post: String? = nil, status: TaskStatus? = nil, dueBefore: CalendarDate? = nil, dueAfter: CalendarDate? = nil,
                overdue: Bool? = nil, dueWithin: Int? = nil, mine: Bool? = nil) {
        self.post = post; self.status = status; self.dueBefore = dueBefore; self.dueAfter = dueAfter
        self.overdue = overdue; self.dueWithin = dueWithin; self.mine = mine
    }
    public struct Response: Codable, Sendable, Equatable {
        public var tasks: [TaskSummary]
        public init(tasks: [TaskSummary]) { self.tasks = tasks }
    }
}

public struct TaskShowRequest: RequestType {
    public static let method = "task.show"
    public static let summary = "One key task with its outcome, partners, budget comment, risks and slippage."
    public static let parameters = [ParameterInfo("code", "string", required: true, "task code, e.g. BCRPASB_27 (aliases accepted)")]
    public static let access = Access.registered
    public var code: String
    public init(code: String) { self.code = code }
    public typealias Response = TaskDetail
}

public struct TaskUpdateRequest: RequestType {
    public static let method = "task.update"
    public static let summary = "Record a task's progress: status and/or percentage done, with a note."
    public static let parameters = [
        ParameterInfo("code", "string", required: true, "task code"),
        ParameterInfo("status", "string", "not_started, on_track, at_risk, off_track, completed, deferred or cancelled"),
        ParameterInfo("progress", "integer", range: 0...100, "percentage done, 0 to 100 (completed sets 100 unless given)"),
        ParameterInfo("note", "string", required: true, maxLength: InputBounds.textLength, "what happened"),
    ]
    public static let access = Access.owner
    public static let mutates = true
    public var code: String
    public var status: TaskStatus?
    public var progress: Int?
    public var note: String
    public init(code: String, status: TaskStatus? = nil, progress: Int? = nil, note: String) {
        self.code = code; self.status = status; self.progress = progress; self.note = note
    }
    public typealias Response = TaskSummary
}

public struct TaskRescheduleRequest: RequestType {
    public static let method = "task.reschedule"
    public static let summary = "Move a task's target date; the old date and the reason stay in its history."
    public static let parameters = [
        ParameterInfo("code", "string", required: true, "task code"),
        ParameterInfo("date", "date", required: true, "the new target date, YYYY-MM-DD"),
        ParameterInfo("reason", "string", required: true, maxLength: InputBounds.textLength, "why it moves"),
    ]
    public static let access = Access.owner
    public static let mutates = true
    public var code: String
    public var date: CalendarDate
    public var reason: String
    public init(code: String, date: CalendarDate, reason: String) { self.code = code; self.date = date; self.reason = reason }
    public typealias Response = TaskSummary
}

public struct TaskHistoryRequest: RequestType {
    public static let method = "task.history"
    public static let summary = "A task's updates and target-date changes, oldest first, with its slippage."
    public static let parameters = [ParameterInfo("code", "string", required: true, "task code")]
    public static let access = Access.registered
    public var code: String
    public init(code: String) { self.code = code }
    public struct Response: Codable, Sendable, Equatable {
        public var task: TaskSummary
        public var changes: [TaskChange]
        public var slippage: Slippage
        public init(task: TaskSummary, changes: [TaskChange], slippage: Slippage) {
            self.task = task; self.changes = changes; self.slippage = slippage
        }
    }
}
