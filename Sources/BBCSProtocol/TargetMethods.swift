import BBCSCore

public struct TargetSetRequest: RequestType {
    public static let method = "target.set"
    public static let summary = "Set an indicator's target for a period, and optionally its tolerance, with a reason."
    public static let parameters = [
        ParameterInfo("code", "string", required: true, "indicator code"),
        ParameterInfo("period", "period", required: true, "a year of the plan, or a quarter of a quarterly indicator"),
        ParameterInfo("value", "number", required: true, "the target, from 0"),
        ParameterInfo("tolerance", "number", "amber band as a percentage of target, 0 to 100 (default 5)"),
        ParameterInfo("reason", "string", required: true, maxLength: InputBounds.textLength, "why the target changed"),
    ]
    public static let access = Access.admin
    public static let mutates = true
    public var code: String
    public var period: Period
    public var value: Double
    public var tolerance: Double?
    public var reason: String
    public init(code: String, period: Period, value: Double, tolerance: Double? = nil, reason: String) {
        self.code = code; self.period = period; self.value = value; self.tolerance = tolerance; self.reason = reason
    }
    public struct Response: Codable, Sendable, Equatable {
        public var indicator: String
        public var change: TargetChange
        public init(indicator: String, change: TargetChange) { self.indicator = indicator; self.change = change }
    }
}

public struct TargetHistoryRequest: RequestType {
    public static let method = "target.history"
    public static let summary = "Every change of an indicator's targets and tolerance since the plan was loaded."
    public static let parameters = [ParameterInfo("code", "string", required: true, "indicator code")]
    public static let access = Access.registered
    public var code: String
    public init(code: String) { self.code = code }
    public struct Response: Codable, Sendable, Equatable {
        public var indicator: String
        public var changes: [TargetChange]
        public init(indicator: String, changes: [TargetChange]) { self.indicator = indicator; self.changes = changes }
    }
}
