import BBCSCore

public struct RiskListRequest: RequestType {
    public static let method = "risk.list"
    public static let summary = "Strategic risks cited, key strategic risks, and each task's threats."
    public static let parameters: [ParameterInfo] = []
    public static let access = Access.registered
    public init() {}
    public typealias Response = RiskRegister
}
