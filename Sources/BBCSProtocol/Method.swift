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

/// One parameter of a method, as `system.describe` lists it, with the bounds the daemon
/// holds it to before any handler runs (`RequestType.checkBounds`).
public struct ParameterInfo: Codable, Sendable, Equatable {
    /// The plan a list, report or round is of; every such method takes it.
    public static let plan = ParameterInfo("plan", "string", "plan code; when left out, default_plan or the only plan")
    /// A list's retired entries as well as its current ones.
    public static let all = ParameterInfo("all", "boolean", "list retired entries too")
    public var name: String
    public var type: String
    public var required: Bool
    public var description: String
    /// Longest text, in Unicode scalars (strings; nil for no limit but the line's).
    public var maxLength: Int?
    /// Smallest and largest value (integers).
    public var minimum: Int?
    public var maximum: Int?

    /// A string is a name or code of at most `InputBounds.nameLength` unless `maxLength`
    /// says otherwise (`.max` for none); an integer fits PostgreSQL's integer unless `range`
    /// says otherwise.
    public init(_ name: String, _ type: String, required: Bool = false, maxLength: Int? = nil, range: ClosedRange<Int>? = nil,
                _ description: String) {
        self.name = name
        self.type = type
        self.required = required
        self.description = description
        if type == "string" {
            let length = maxLength ?? InputBounds.nameLength
            self.maxLength = length == .max ? nil : length
        }
        if type == "integer" {
            let range = range ?? Int(Int32.min)...Int(Int32.max)
            minimum = range.lowerBound
            maximum = range.upperBound
        }
    }

    /// Why `value`, sent for this parameter, is beyond its bounds (a sentence), or nil.
    /// Values of the wrong type are left to the parameter's own decoding to name.
    public func problem(with value: JSONValue) -> String? {
        let about = "parameter \"\(name)\""
        switch (type, value) {
        case ("date", .string(let text)):
            return CalendarDate(iso: text).flatMap(InputBounds.problem(date:)).map { "\(about) \($0)" }
        case (_, .string(let text)):
            return InputBounds.problem(text: text, maxLength: maxLength).map { "\(about) \($0)" }
        case ("integer", .number(let number)):
            guard let minimum, let maximum, number < Double(minimum) || number > Double(maximum) else { return nil }
            return "\(about) must be a whole number from \(minimum) to \(maximum)"
        default:
            return nil
        }
    }
}

extension RequestType {
    /// Refuses parameters beyond their declared bounds (`ParameterInfo`) as `invalid_params`
    /// naming the first, so no text with a NUL, no name too long to index, no date PostgreSQL
    /// lacks and no integer wider than its column reaches a handler or SQL.
    public static func checkBounds(_ params: JSONValue?) throws(ResponseError) {
        guard case .object(let sent) = params else { return }
        for parameter in parameters {
            guard let value = sent[parameter.name], let problem = parameter.problem(with: value) else { continue }
            throw ResponseError(.invalidParams, problem, data: ["param": parameter.name])
        }
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
    PlanHistoryRequest.self,
    ObjectiveListRequest.self,
    IndicatorListRequest.self,
    IndicatorShowRequest.self,
    TaskListRequest.self,
    TaskShowRequest.self,
    StrategyListRequest.self,
    RiskListRequest.self,
    RiskRegisterRequest.self,
    RiskReviewRequest.self,
    RiskHistoryRequest.self,
    PostListRequest.self,
    FigureSubmitRequest.self,
    FigureCorrectRequest.self,
    FigureHistoryRequest.self,
    FigureValidateRequest.self,
    FigureDueRequest.self,
    FigureImportRequest.self,
    RoundOpenRequest.self,
    RoundListRequest.self,
    RoundShowRequest.self,
    RoundCloseRequest.self,
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
    ReportCorporateRequest.self,
    ReportPublishRequest.self,
    ReportShowRequest.self,
    ReportListRequest.self,
    WatchSubscribeRequest.self,
    HealthRequest.self,
    MetricsRequest.self,
    SiteBuildRequest.self,
    DescribeRequest.self,
]

/// A request about one plan (`ParameterInfo.plan`): lists, reports, rounds and the risk register.
public protocol PlanScoped {
    var plan: String? { get set }
}

extension PlanShowRequest: PlanScoped {}
extension PlanHistoryRequest: PlanScoped {}
extension ObjectiveListRequest: PlanScoped {}
extension IndicatorListRequest: PlanScoped {}
extension TaskListRequest: PlanScoped {}
extension StrategyListRequest: PlanScoped {}
extension RiskListRequest: PlanScoped {}
extension RiskRegisterRequest: PlanScoped {}
extension RiskReviewRequest: PlanScoped {}
extension RiskHistoryRequest: PlanScoped {}
extension RoundOpenRequest: PlanScoped {}
extension RoundListRequest: PlanScoped {}
extension RoundShowRequest: PlanScoped {}
extension RoundCloseRequest: PlanScoped {}
extension ReportRequest: PlanScoped {}
extension ReportPublishRequest: PlanScoped {}
extension ReportListRequest: PlanScoped {}
