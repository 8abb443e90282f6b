import BBCSCore

// Methods for key task progress, reminders and the scheduler.

public struct TaskUpdateRequest: RequestType {
    public static let method = "task.update"
    public static let summary = "Record a task's progress: status and/or percentage done, with a note."
    public static let parameters = [
        ParameterInfo("code", "string", required: true, "task code"),
        ParameterInfo("status", "string", "not_started, on_track, at_risk, off_track, completed, deferred or cancelled"),
        ParameterInfo("progress", "integer", "percentage done, 0 to 100 (completed sets 100 unless given)"),
        ParameterInfo("note", "string", required: true, "what happened"),
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
        ParameterInfo("reason", "string", required: true, "why it moves"),
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

public struct ReminderListRequest: RequestType {
    public static let method = "reminder.list"
    public static let summary = "The caller's reminders not yet acknowledged (all with all); with failed, every reminder whose mail keeps failing (administrators)."
    public static let parameters = [
        ParameterInfo("all", "boolean", "include acknowledged reminders"),
        ParameterInfo("failed", "boolean", "every recipient's reminders whose mail has failed and is being retried (administrators)"),
    ]
    public static let access = Access.registered
    public var all: Bool?
    public var failed: Bool?
    public init(all: Bool? = nil, failed: Bool? = nil) { self.all = all; self.failed = failed }
    public struct Response: Codable, Sendable, Equatable {
        public var reminders: [Reminder]
        public init(reminders: [Reminder]) { self.reminders = reminders }
    }
}

public struct ReminderAckRequest: RequestType {
    public static let method = "reminder.ack"
    public static let summary = "Acknowledge one of the caller's reminders."
    public static let parameters = [ParameterInfo("id", "integer", required: true, "the reminder's number")]
    public static let access = Access.registered
    public static let mutates = true
    public var id: Int
    public init(id: Int) { self.id = id }
    public typealias Response = Reminder
}

public struct SchedulerRunRequest: RequestType {
    public static let method = "scheduler.run"
    public static let summary = "Run the reminder scheduler now: record what is due today and send pending mail."
    public static let parameters: [ParameterInfo] = []
    public static let access = Access.admin
    public static let mutates = true
    public init() {}
    public struct Response: Codable, Sendable, Equatable {
        /// The day the scheduler judged by (Europe/London).
        public var day: CalendarDate
        public var created: Int
        public var mailed: Int
        public var mailFailed: Int
        public init(day: CalendarDate, created: Int, mailed: Int, mailFailed: Int) {
            self.day = day; self.created = created; self.mailed = mailed; self.mailFailed = mailFailed
        }
    }
}
