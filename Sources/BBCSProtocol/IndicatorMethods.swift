import BBCSCore

public struct IndicatorListRequest: RequestType {
    public static let method = "indicator.list"
    public static let summary = "Indicators, optionally filtered, each with per-period figures, RAG and direction of travel."
    public static let parameters = [
        ParameterInfo.plan, ParameterInfo.all,
        ParameterInfo("objective", "string", "objective code, e.g. CS1"),
        ParameterInfo("category", "string", "service_data, csi, kpi or mpi"),
        ParameterInfo("serviceArea", "string", "service area name"),
        ParameterInfo("ownerPost", "string", "owner post name (any spelling the plan uses)"),
    ]
    public static let access = Access.registered
    public var objective: String?
    public var category: IndicatorCategory?
    public var serviceArea: String?
    public var ownerPost: String?
    public var plan: String?
    /// Retired ones too.
    public var all: Bool?
    public init(objective: String? = nil, category: IndicatorCategory? = nil, serviceArea: String? = nil, ownerPost: String? = nil) {
        self.objective = objective; self.category = category; self.serviceArea = serviceArea; self.ownerPost = ownerPost
    }
    public struct Response: Codable, Sendable, Equatable {
        public var indicators: [IndicatorSummary]
        public init(indicators: [IndicatorSummary]) { self.indicators = indicators }
    }
}

public struct IndicatorShowRequest: RequestType {
    public static let method = "indicator.show"
    public static let summary = "One indicator: definition, baseline and targets, and per period its figure, RAG and direction of travel."
    public static let parameters = [ParameterInfo("code", "string", required: true, "indicator code, e.g. ComS_011 (aliases accepted)")]
    public static let access = Access.registered
    public var code: String
    public init(code: String) { self.code = code }
    public typealias Response = IndicatorDetail
}
