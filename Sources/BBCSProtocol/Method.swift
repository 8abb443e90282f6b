import BBCSCore

/// A protocol method: the type is its parameters, with its name and result type beside it.
public protocol RequestType: Codable, Sendable {
    associatedtype Response: Codable & Sendable
    /// The method's name on the wire, e.g. "indicator.show".
    static var method: String { get }
    /// One sentence for `system.describe`.
    static var summary: String { get }
    /// The parameters, for `system.describe`.
    static var parameters: [ParameterInfo] { get }
    /// Who may call it, for `system.describe`.
    static var access: Access { get }
    /// Whether it changes what the daemon holds (and so is audited and logged at info).
    static var mutates: Bool { get }
}

extension RequestType {
    public static var mutates: Bool { false }
}

/// One parameter of a method, as `system.describe` lists it.
public struct ParameterInfo: Codable, Sendable, Equatable {
    public var name: String
    public var type: String
    public var required: Bool
    public var description: String
    public init(_ name: String, _ type: String, required: Bool = false, _ description: String) {
        self.name = name
        self.type = type
        self.required = required
        self.description = description
    }
}

/// A method as `system.describe` lists it.
public struct MethodInfo: Codable, Sendable, Equatable {
    public var name: String
    public var summary: String
    public var access: Access
    public var mutates: Bool
    public var params: [ParameterInfo]
    public init<R: RequestType>(_ type: R.Type) {
        name = R.method
        summary = R.summary
        access = R.access
        mutates = R.mutates
        params = R.parameters
    }
}

/// A method without parameters, or whose parameters are all optional, may be sent with
/// `params` left out; the server then reads it as `{}`.
public struct EmptyParams: Codable, Sendable, Equatable {
    public init() {}
}

/// Every method of the protocol, in the order `system.describe` lists them. The daemon's
/// method table registers exactly these (a test holds it to that).
public let builtinRequests: [any RequestType.Type] = [
    HelloRequest.self,
    PlanShowRequest.self,
    PlanImportRequest.self,
    ObjectiveListRequest.self,
    IndicatorListRequest.self,
    IndicatorShowRequest.self,
    TaskListRequest.self,
    TaskShowRequest.self,
    StrategyListRequest.self,
    RiskListRequest.self,
    PostListRequest.self,
    FigureSubmitRequest.self,
    FigureCorrectRequest.self,
    FigureHistoryRequest.self,
    FigureValidateRequest.self,
    FigureDueRequest.self,
    TargetSetRequest.self,
    TargetHistoryRequest.self,
    TaskUpdateRequest.self,
    TaskRescheduleRequest.self,
    TaskHistoryRequest.self,
    ReminderListRequest.self,
    ReminderAckRequest.self,
    SchedulerRunRequest.self,
    UserAddRequest.self,
    UserListRequest.self,
    UserDisableRequest.self,
    UserEnableRequest.self,
    PostAddRequest.self,
    PostGrantRequest.self,
    PostRevokeRequest.self,
    PostHoldersRequest.self,
    AuditListRequest.self,
    ReportRequest.self,
    DescribeRequest.self,
]
