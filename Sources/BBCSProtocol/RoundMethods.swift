import BBCSCore

public struct RoundOpenRequest: RequestType {
    public static let method = "round.open"
    public static let summary = "Open the reporting round for a period: its figures wanted by a deadline, for a meeting."
    public static let parameters = [
        ParameterInfo.plan,
        ParameterInfo("period", "period", required: true, "the period reported, \"2025/26 Q2\" (or a year)"),
        ParameterInfo("deadline", "date", required: true, "the day the figures are wanted by, after the period ends"),
        ParameterInfo("meeting", "string", required: true, "the meeting reported to, e.g. \"Cabinet 2025-12-02\""),
    ]
    public static let access = Access.admin
    public static let mutates = true
    public var period: Period
    public var deadline: CalendarDate
    public var meeting: String
    public var plan: String?
    public init(period: Period, deadline: CalendarDate, meeting: String) {
        self.period = period; self.deadline = deadline; self.meeting = meeting
    }
    public typealias Response = ReportingRound
}

public struct RoundListRequest: RequestType {
    public static let method = "round.list"
    public static let summary = "Every reporting round, newest period first, open or closed."
    public static let parameters = [ParameterInfo.plan]
    public static let access = Access.registered
    public var plan: String?
    public init() {}
    public struct Response: Codable, Sendable, Equatable {
        public var rounds: [ReportingRound]
        public init(rounds: [ReportingRound]) { self.rounds = rounds }
    }
}

public struct RoundShowRequest: RequestType {
    public static let method = "round.show"
    public static let summary = "A round's completeness: figures wanted, submitted, validated, provisional and missing, by owner and service area."
    public static let parameters = [
        ParameterInfo.plan,
        ParameterInfo("period", "period", "the round's period (default: the open round of the newest period)"),
    ]
    public static let access = Access.registered
    public var period: Period?
    public var plan: String?
    public init(period: Period? = nil) { self.period = period }
    public typealias Response = RoundProgress
}

public struct RoundCloseRequest: RequestType {
    public static let method = "round.close"
    public static let summary = "Close a round; refused while figures are missing unless forced with a reason."
    public static let parameters = [
        ParameterInfo.plan,
        ParameterInfo("period", "period", required: true, "the round's period"),
        ParameterInfo("force", "boolean", "close even with figures missing (a reason is then required)"),
        ParameterInfo("reason", "string", maxLength: InputBounds.textLength, "why the round closes with figures missing"),
    ]
    public static let access = Access.admin
    public static let mutates = true
    public var period: Period
    public var force: Bool?
    public var reason: String?
    public var plan: String?
    public init(period: Period, force: Bool? = nil, reason: String? = nil) { self.period = period; self.force = force; self.reason = reason }
    public typealias Response = ReportingRound
}
