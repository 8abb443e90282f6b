import BBCSCore

public struct ReportRequest: RequestType {
    public static let method = "report.build"
    public static let summary = "The performance report for a period: summary, exceptions, indicators with charts' data, tasks and risks."
    public static let parameters = [
        ParameterInfo("period", "period", required: true, "\"2025/26 Q2\" or \"2025/26\""),
        ParameterInfo("objective", "string", "only this objective, e.g. CS1"),
    ]
    public static let access = Access.registered
    public var period: Period
    public var objective: String?
    public init(period: Period, objective: String? = nil) { self.period = period; self.objective = objective }
    public typealias Response = PerformanceReport
}
