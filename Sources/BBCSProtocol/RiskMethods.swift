import BBCSCore

public struct RiskListRequest: RequestType {
    public static let method = "risk.list"
    public static let summary = "Strategic risks cited, key strategic risks, and each task's threats."
    public static let parameters = [ParameterInfo.plan]
    public static let access = Access.registered
    public var plan: String?
    public init() {}
    public typealias Response = RiskRegister
}

public struct RiskRegisterRequest: RequestType {
    public static let method = "risk.register"
    public static let summary = "The scored risk register: every risk with its id, linked tasks and latest score on the council's matrix."
    public static let parameters = [ParameterInfo.plan]
    public static let access = Access.registered
    public var plan: String?
    public init() {}
    public struct Response: Codable, Sendable, Equatable {
        public var matrix: RiskMatrix
        public var risks: [RiskEntry]
        public init(matrix: RiskMatrix, risks: [RiskEntry]) { self.matrix = matrix; self.risks = risks }
    }
}

public struct RiskReviewRequest: RequestType {
    public static let method = "risk.review"
    public static let summary = "Score a risk likelihood x impact on the council's matrix, with a note: holders of a linked task's post and administrators."
    public static let parameters = [
        ParameterInfo.plan,
        ParameterInfo("risk", "string", required: true, "the risk's id: SR3, KSR1 or BCRPASB_29/R1 (risk.register lists them)"),
        ParameterInfo("likelihood", "integer", required: true, range: 1...10, "1 to the matrix's size"),
        ParameterInfo("impact", "integer", required: true, range: 1...10, "1 to the matrix's size"),
        ParameterInfo("note", "string", required: true, maxLength: InputBounds.textLength, "what changed, or why the score stands"),
    ]
    public static let access = Access.owner
    public static let mutates = true
    public var risk: String
    public var likelihood: Int
    public var impact: Int
    public var note: String
    public var plan: String?
    public init(risk: String, likelihood: Int, impact: Int, note: String) {
        self.risk = risk; self.likelihood = likelihood; self.impact = impact; self.note = note
    }
    public typealias Response = RiskReview
}

public struct RiskHistoryRequest: RequestType {
    public static let method = "risk.history"
    public static let summary = "Every review of a risk, oldest first."
    public static let parameters = [ParameterInfo.plan, ParameterInfo("risk", "string", required: true, "the risk's id")]
    public static let access = Access.registered
    public var risk: String
    public var plan: String?
    public init(risk: String) { self.risk = risk }
    public struct Response: Codable, Sendable, Equatable {
        public var risk: String
        public var reviews: [RiskReview]
        public init(risk: String, reviews: [RiskReview]) { self.risk = risk; self.reviews = reviews }
    }
}
