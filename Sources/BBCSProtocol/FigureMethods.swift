import BBCSCore

/// A figure as stored, with the status it gives its period.
public struct FigureResult: Codable, Sendable, Equatable {
    public var indicator: String
    public var status: PeriodStatus
    public init(indicator: String, status: PeriodStatus) { self.indicator = indicator; self.status = status }
}

public struct FigureSubmitRequest: RequestType {
    public static let method = "figure.submit"
    public static let summary = "Submit the first figure for a period; a note is required when the figure is red."
    public static let parameters = [
        ParameterInfo("code", "string", required: true, "indicator code"),
        ParameterInfo("period", "period", required: true, "\"2025/26\" for annual indicators, \"2025/26 Q2\" for quarterly"),
        ParameterInfo("value", "number", required: true, "counts: whole numbers from 0 to 2^53 - 1; percentages: from 0 to 1000000"),
        ParameterInfo("note", "string", maxLength: InputBounds.textLength, "commentary; required when the figure is red"),
        ParameterInfo("provisional", "boolean", "an estimate to be confirmed (a provisional out-turn); reports mark it"),
        ParameterInfo("forecast", "number", "quarterly indicators: the forecast year-end outturn, judged against the year's target"),
    ]
    public static let access = Access.owner
    public static let mutates = true
    public var code: String
    public var period: Period
    public var value: Double
    public var note: String?
    public var provisional: Bool?
    public var forecast: Double?
    public init(code: String, period: Period, value: Double, note: String? = nil, provisional: Bool? = nil, forecast: Double? = nil) {
        self.code = code; self.period = period; self.value = value; self.note = note; self.provisional = provisional; self.forecast = forecast
    }
    public typealias Response = FigureResult
}

public struct FigureCorrectRequest: RequestType {
    public static let method = "figure.correct"
    public static let summary = "Correct a period's figure: a new revision with a reason; the old one stays in the history."
    public static let parameters = [
        ParameterInfo("code", "string", required: true, "indicator code"),
        ParameterInfo("period", "period", required: true, "the period corrected"),
        ParameterInfo("value", "number", "the corrected value; left out, the current one (to change only the marks)"),
        ParameterInfo("reason", "string", required: true, maxLength: InputBounds.textLength, "why the figure changed"),
        ParameterInfo("revision", "integer", required: true, range: 1...Int(Int32.max), "the current revision being corrected; a stale one is a conflict"),
        ParameterInfo("note", "string", maxLength: InputBounds.textLength, "new commentary; the previous revision's is kept when left out"),
        ParameterInfo("provisional", "boolean", "false finalises a provisional figure, true marks it provisional; left out, kept"),
        ParameterInfo("forecast", "number", "a new year-end forecast (quarterly indicators); left out, kept"),
    ]
    public static let access = Access.owner
    public static let mutates = true
    public var code: String
    public var period: Period
    public var value: Double?
    public var reason: String
    public var revision: Int
    public var note: String?
    public var provisional: Bool?
    public var forecast: Double?
    public init(code: String, period: Period, value: Double?, reason: String, revision: Int, note: String? = nil,
                provisional: Bool? = nil, forecast: Double? = nil) {
        self.code = code; self.period = period; self.value = value; self.reason = reason; self.revision = revision; self.note = note
        self.provisional = provisional; self.forecast = forecast
    }
    public typealias Response = FigureResult
}

public struct FigureHistoryRequest: RequestType {
    public static let method = "figure.history"
    public static let summary = "Every revision of an indicator's figures, oldest first."
    public static let parameters = [
        ParameterInfo("code", "string", required: true, "indicator code"),
        ParameterInfo("period", "period", "only this period"),
    ]
    public static let access = Access.registered
    public var code: String
    public var period: Period?
    public init(code: String, period: Period? = nil) { self.code = code; self.period = period }
    public struct Response: Codable, Sendable, Equatable {
        public var indicator: String
        public var revisions: [FigureRevision]
        public init(indicator: String, revisions: [FigureRevision]) { self.indicator = indicator; self.revisions = revisions }
    }
}

public struct FigureValidateRequest: RequestType {
    public static let method = "figure.validate"
    public static let summary = "Mark a period's current revision checked; a later correction clears the mark."
    public static let parameters = [
        ParameterInfo("code", "string", required: true, "indicator code"),
        ParameterInfo("period", "period", required: true, "the period"),
        ParameterInfo("revision", "integer", range: 1...Int(Int32.max), "the revision checked; a conflict when it is no longer current"),
    ]
    public static let access = Access.admin
    public static let mutates = true
    public var code: String
    public var period: Period
    public var revision: Int?
    public init(code: String, period: Period, revision: Int? = nil) { self.code = code; self.period = period; self.revision = revision }
    public typealias Response = FigureResult
}

public struct FigureDueRequest: RequestType {
    public static let method = "figure.due"
    public static let summary = "Figures owed for the current and past periods, with due dates: by the caller's posts unless asked otherwise."
    public static let parameters = [
        ParameterInfo("post", "string", "this post's instead of the caller's"),
        ParameterInfo("all", "boolean", "every post's"),
    ]
    public static let access = Access.registered
    public var post: String?
    public var all: Bool?
    public init(post: String? = nil, all: Bool? = nil) { self.post = post; self.all = all }
    public struct Response: Codable, Sendable, Equatable {
        /// The posts whose figures are listed.
        public var posts: [String]
        public var figures: [DueFigure]
        public init(posts: [String], figures: [DueFigure]) { self.posts = posts; self.figures = figures }
    }
}

public struct FigureImportRequest: RequestType {
    public static let method = "figure.import"
    public static let summary = "Submit and correct many figures from CSV in one transaction, each line by the rules of figure.submit and figure.correct; all or nothing."
    public static let parameters = [
        ParameterInfo("content", "string", required: true, maxLength: .max,
                      "CSV: a header, then code, period, value and optionally note, forecast, provisional, reason"),
        ParameterInfo("dryRun", "boolean", "decide every line and answer what would be written, writing nothing"),
    ]
    public static let access = Access.owner
    public static let mutates = true
    public var content: String
    public var dryRun: Bool?
    public init(content: String, dryRun: Bool? = nil) { self.content = content; self.dryRun = dryRun }
    public struct Response: Codable, Sendable, Equatable {
        public var dryRun: Bool
        public var submitted: Int
        public var corrected: Int
        public var unchanged: Int
        public var lines: [ImportedFigure]
        public init(dryRun: Bool, lines: [ImportedFigure]) {
            self.dryRun = dryRun; self.lines = lines
            submitted = lines.filter { $0.action == .submitted }.count
            corrected = lines.filter { $0.action == .corrected }.count
            unchanged = lines.filter { $0.action == .unchanged }.count
        }
    }
}
