import BBCSCore

public struct ReportRequest: RequestType {
    public static let method = "report.build"
    public static let summary = "The performance report for a period: summary, exceptions, indicators with charts' data, tasks and risks."
    public static let parameters = [
        ParameterInfo.plan,
        ParameterInfo("period", "period", required: true, "\"2025/26 Q2\" or \"2025/26\""),
        ParameterInfo("objective", "string", "only this objective, e.g. CS1"),
    ]
    public static let access = Access.registered
    public var period: Period
    public var objective: String?
    public var plan: String?
    public init(period: Period, objective: String? = nil) { self.period = period; self.objective = objective }
    public typealias Response = PerformanceReport
}

public struct ReportCorporateRequest: RequestType {
    public static let method = "report.corporate"
    public static let summary = "The council-wide summary of a period across every plan, by Corporate Plan priority: exceptions first, then RAG counts and overdue tasks."
    public static let parameters = [ParameterInfo("period", "period", required: true, "\"2025/26 Q2\" or \"2025/26\"")]
    public static let access = Access.registered
    public var period: Period
    public init(period: Period) { self.period = period }
    public typealias Response = CorporateReport
}

public struct ReportPublishRequest: RequestType {
    public static let method = "report.publish"
    public static let summary = "Freeze a round's report for its meeting: JSON and HTML kept byte for byte with their SHA-256, under a citable number."
    public static let parameters = [
        ParameterInfo.plan,
        ParameterInfo("round", "period", required: true, "the round's period, e.g. \"2025/26 Q2\""),
    ]
    public static let access = Access.admin
    public static let mutates = true
    public var round: Period
    public var plan: String?
    public init(round: Period) { self.round = round }
    public typealias Response = Publication
}

public struct ReportShowRequest: RequestType {
    public static let method = "report.show"
    public static let summary = "A published report exactly as it was frozen, with the restatements of its figures since."
    public static let parameters = [
        ParameterInfo("number", "string", required: true, "the report's number, e.g. CS-2025/26-Q2-1"),
    ]
    public static let access = Access.registered
    public var number: String
    public init(number: String) { self.number = number }
    public struct Response: Codable, Sendable, Equatable {
        public var publication: Publication
        /// The report's JSON and HTML, byte for byte as published.
        public var json: String
        public var html: String
        /// Corrections since of the figures it showed.
        public var restatements: [Restatement]
        public init(publication: Publication, json: String, html: String, restatements: [Restatement]) {
            self.publication = publication; self.json = json; self.html = html; self.restatements = restatements
        }
    }
}

public struct ReportListRequest: RequestType {
    public static let method = "report.list"
    public static let summary = "Every published report, oldest first, with its meeting, publisher and digests."
    public static let parameters = [ParameterInfo.plan]
    public static let access = Access.registered
    public var plan: String?
    public init() {}
    public struct Response: Codable, Sendable, Equatable {
        public var reports: [Publication]
        public init(reports: [Publication]) { self.reports = reports }
    }
}
