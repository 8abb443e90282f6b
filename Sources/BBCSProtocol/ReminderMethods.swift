import BBCSCore

public struct ReminderListRequest: RequestType {
    public static let method = "reminder.list"
    public static let summary = "The caller's reminders neither acknowledged nor superseded by a moved date (all with all); with failed, every reminder whose mail keeps failing (administrators)."
    public static let parameters = [
        ParameterInfo("all", "boolean", "include acknowledged and superseded reminders"),
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
    public static let parameters = [ParameterInfo("id", "integer", required: true, range: 1...Int(Int32.max), "the reminder's number")]
    public static let access = Access.registered
    public static let mutates = true
    public var id: Int
    public init(id: Int) { self.id = id }
    public typealias Response = Reminder
}
