import BBCSCore

public struct StrategyListRequest: RequestType {
    public static let method = "strategy.list"
    public static let summary = "Strategy and policy documents with renewal and responsible officer."
    public static let parameters = [ParameterInfo.plan]
    public static let access = Access.registered
    public var plan: String?
    public init() {}
    public struct Response: Codable, Sendable, Equatable {
        public var strategies: [PlanDocument.Strategy]
        public init(strategies: [PlanDocument.Strategy]) { self.strategies = strategies }
    }
}
