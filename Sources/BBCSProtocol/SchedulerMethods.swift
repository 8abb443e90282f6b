import BBCSCore

public struct SchedulerRunRequest: RequestType {
    public static let method = "scheduler.run"
    public static let summary = "Run the reminder scheduler now: record what is due today and hand its mail to the delivery worker."
    public static let parameters: [ParameterInfo] = []
    public static let access = Access.admin
    public static let mutates = true
    public init() {}
    public struct Response: Codable, Sendable, Equatable {
        /// The day the scheduler judged by (Europe/London).
        public var day: CalendarDate
        /// Reminders this run recorded.
        public var created: Int
        /// Reminders whose mail is still to go (being sent, or failing and to be retried), by any daemon.
        public var mailWaiting: Int
        /// Mail this daemon's delivery worker has delivered since it started. Sending runs
        /// apart from the scheduler, so this run's own mail counts here once it has gone.
        public var mailed: Int
        /// Attempts of that worker that failed (each retried later), since it started.
        public var mailFailed: Int
        public init(day: CalendarDate, created: Int, mailWaiting: Int, mailed: Int, mailFailed: Int) {
            self.day = day; self.created = created; self.mailWaiting = mailWaiting; self.mailed = mailed; self.mailFailed = mailFailed
        }
    }
}
