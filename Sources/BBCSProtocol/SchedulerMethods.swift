import BBCSCore

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
