import BBCSCore

public struct PlanShowRequest: RequestType {
    public static let method = "plan.show"
    public static let summary = "The plan's title, vision, values, years, counts, budget and transcription notes."
    public static let parameters = [ParameterInfo.plan]
    public static let access = Access.registered
    public var plan: String?
    public init(plan: String? = nil) { self.plan = plan }
    public typealias Response = PlanOverview
}

public struct PlanImportRequest: RequestType {
    public static let method = "plan.import"
    public static let summary = "Load a plan data file in one transaction, auditing each row it changes; task dates and targets changed through bbcs stay and are reported; dryRun only lists the changes."
    public static let parameters = [
        ParameterInfo("content", "string", required: true, maxLength: .max, "the plan file's JSON text (Config/plans/FORMAT.md)"),
        ParameterInfo("source", "string", maxLength: 4096, "the file's name, for messages"),
        ParameterInfo("dryRun", "boolean", "list what the import would change and keep, writing nothing"),
    ]
    public static let access = Access.admin
    public static let mutates = true
    public var content: String
    public var source: String?
    public var dryRun: Bool?
    public init(content: String, source: String? = nil, dryRun: Bool? = nil) {
        self.content = content; self.source = source; self.dryRun = dryRun
    }
    public typealias Response = ImportSummary
}

public struct PlanHistoryRequest: RequestType {
    public static let method = "plan.history"
    public static let summary = "Every load of the plan's file that changed it: revision, file and its SHA-256, who, when, and what it added and retired."
    public static let parameters = [ParameterInfo.plan]
    public static let access = Access.registered
    public var plan: String?
    public init(plan: String? = nil) { self.plan = plan }
    public struct Response: Codable, Sendable, Equatable {
        public var plan: String
        /// Oldest first.
        public var revisions: [PlanRevision]
        public init(plan: String, revisions: [PlanRevision]) { self.plan = plan; self.revisions = revisions }
    }
}
