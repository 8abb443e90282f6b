import BBCSCore

public struct ObjectiveListRequest: RequestType {
    public static let method = "objective.list"
    public static let summary = "The plan's objectives with their service-level objectives."
    public static let parameters = [ParameterInfo.plan]
    public static let access = Access.registered
    public var plan: String?
    public init() {}
    public struct Response: Codable, Sendable, Equatable {
        public var objectives: [ObjectiveSummary]
        public init(objectives: [ObjectiveSummary]) { self.objectives = objectives }
    }
}
