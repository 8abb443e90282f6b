import BBCSCore

public struct AuditListRequest: RequestType {
    public static let method = "audit.list"
    public static let summary = "The audit trail, newest first: every change and every refused attempt."
    public static let parameters = [
        ParameterInfo("object", "string", "an indicator code, login or post"),
        ParameterInfo("user", "string", "who acted"),
        ParameterInfo("since", "date", "on or after this day, YYYY-MM-DD (Europe/London)"),
        ParameterInfo("limit", "integer", range: 1...10_000, "most rows, 1 to 10000 (default 100)"),
    ]
    public static let access = Access.admin
    public var object: String?
    public var user: String?
    public var since: CalendarDate?
    public var limit: Int?
    public init(object: String? = nil, user: String? = nil, since: CalendarDate? = nil, limit: Int? = nil) {
        self.object = object; self.user = user; self.since = since; self.limit = limit
    }
    public struct Response: Codable, Sendable, Equatable {
        public var entries: [AuditEntry]
        public init(entries: [AuditEntry]) { self.entries = entries }
    }
}
