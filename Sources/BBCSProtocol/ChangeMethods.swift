import BBCSCore

// Methods that change figures, targets, users and posts, and the audit trail that records them.

// MARK: figures

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
        ParameterInfo("value", "number", required: true, "counts: whole numbers from 0; percentages: from 0"),
        ParameterInfo("note", "string", "commentary; required when the figure is red"),
    ]
    public static let access = Access.owner
    public static let mutates = true
    public var code: String
    public var period: Period
    public var value: Double
    public var note: String?
    public init(code: String, period: Period, value: Double, note: String? = nil) {
        self.code = code; self.period = period; self.value = value; self.note = note
    }
    public typealias Response = FigureResult
}

public struct FigureCorrectRequest: RequestType {
    public static let method = "figure.correct"
    public static let summary = "Correct a period's figure: a new revision with a reason; the old one stays in the history."
    public static let parameters = [
        ParameterInfo("code", "string", required: true, "indicator code"),
        ParameterInfo("period", "period", required: true, "the period corrected"),
        ParameterInfo("value", "number", required: true, "the corrected value"),
        ParameterInfo("reason", "string", required: true, "why the figure changed"),
        ParameterInfo("revision", "integer", required: true, "the current revision being corrected; a stale one is a conflict"),
        ParameterInfo("note", "string", "new commentary; the previous revision's is kept when left out"),
    ]
    public static let access = Access.owner
    public static let mutates = true
    public var code: String
    public var period: Period
    public var value: Double
    public var reason: String
    public var revision: Int
    public var note: String?
    public init(code: String, period: Period, value: Double, reason: String, revision: Int, note: String? = nil) {
        self.code = code; self.period = period; self.value = value; self.reason = reason; self.revision = revision; self.note = note
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
        ParameterInfo("revision", "integer", "the revision checked; a conflict when it is no longer current"),
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

// MARK: targets

public struct TargetSetRequest: RequestType {
    public static let method = "target.set"
    public static let summary = "Set an indicator's target for a period, and optionally its tolerance, with a reason."
    public static let parameters = [
        ParameterInfo("code", "string", required: true, "indicator code"),
        ParameterInfo("period", "period", required: true, "a year of the plan, or a quarter of a quarterly indicator"),
        ParameterInfo("value", "number", required: true, "the target, from 0"),
        ParameterInfo("tolerance", "number", "amber band as a percentage of target, 0 to 100 (default 5)"),
        ParameterInfo("reason", "string", required: true, "why the target changed"),
    ]
    public static let access = Access.admin
    public static let mutates = true
    public var code: String
    public var period: Period
    public var value: Double
    public var tolerance: Double?
    public var reason: String
    public init(code: String, period: Period, value: Double, tolerance: Double? = nil, reason: String) {
        self.code = code; self.period = period; self.value = value; self.tolerance = tolerance; self.reason = reason
    }
    public struct Response: Codable, Sendable, Equatable {
        public var indicator: String
        public var change: TargetChange
        public init(indicator: String, change: TargetChange) { self.indicator = indicator; self.change = change }
    }
}

public struct TargetHistoryRequest: RequestType {
    public static let method = "target.history"
    public static let summary = "Every change of an indicator's targets and tolerance since the plan was loaded."
    public static let parameters = [ParameterInfo("code", "string", required: true, "indicator code")]
    public static let access = Access.registered
    public var code: String
    public init(code: String) { self.code = code }
    public struct Response: Codable, Sendable, Equatable {
        public var indicator: String
        public var changes: [TargetChange]
        public init(indicator: String, changes: [TargetChange]) { self.indicator = indicator; self.changes = changes }
    }
}

// MARK: users and posts

public struct UserAddRequest: RequestType {
    public static let method = "user.add"
    public static let summary = "Register a Unix account as a bbcs user."
    public static let parameters = [
        ParameterInfo("login", "string", required: true, "the Unix login; the account must exist on the daemon's host"),
        ParameterInfo("name", "string", "full name (default: the account's GECOS name)"),
        ParameterInfo("email", "string", "where reminders are mailed"),
    ]
    public static let access = Access.admin
    public static let mutates = true
    public var login: String
    public var name: String?
    public var email: String?
    public init(login: String, name: String? = nil, email: String? = nil) { self.login = login; self.name = name; self.email = email }
    public typealias Response = UserSummary
}

public struct UserListRequest: RequestType {
    public static let method = "user.list"
    public static let summary = "Registered users with the posts they hold."
    public static let parameters: [ParameterInfo] = []
    public static let access = Access.registered
    public init() {}
    public struct Response: Codable, Sendable, Equatable {
        public var users: [UserSummary]
        public init(users: [UserSummary]) { self.users = users }
    }
}

public struct UserDisableRequest: RequestType {
    public static let method = "user.disable"
    public static let summary = "Disable a user: kept for history, with no rights. The last administrator cannot be disabled."
    public static let parameters = [ParameterInfo("login", "string", required: true, "the user")]
    public static let access = Access.admin
    public static let mutates = true
    public var login: String
    public init(login: String) { self.login = login }
    public typealias Response = UserSummary
}

public struct UserEnableRequest: RequestType {
    public static let method = "user.enable"
    public static let summary = "Give a disabled user their rights back."
    public static let parameters = [ParameterInfo("login", "string", required: true, "the user")]
    public static let access = Access.admin
    public static let mutates = true
    public var login: String
    public init(login: String) { self.login = login }
    public typealias Response = UserSummary
}

public struct PostAddRequest: RequestType {
    public static let method = "post.add"
    public static let summary = "Create a post."
    public static let parameters = [ParameterInfo("name", "string", required: true, "the post's name, e.g. \"Licensing Manager\"")]
    public static let access = Access.admin
    public static let mutates = true
    public var name: String
    public init(name: String) { self.name = name }
    public typealias Response = PostSummary
}

public struct PostGrantRequest: RequestType {
    public static let method = "post.grant"
    public static let summary = "Let a user hold a post, optionally for a time (cover ends by itself)."
    public static let parameters = [
        ParameterInfo("login", "string", required: true, "the user"),
        ParameterInfo("post", "string", required: true, "the post (any spelling the plan uses)"),
        ParameterInfo("from", "date", "first day held, YYYY-MM-DD (default today)"),
        ParameterInfo("until", "date", "last day held, YYYY-MM-DD (default: open-ended)"),
    ]
    public static let access = Access.admin
    public static let mutates = true
    public var login: String
    public var post: String
    public var from: CalendarDate?
    public var until: CalendarDate?
    public init(login: String, post: String, from: CalendarDate? = nil, until: CalendarDate? = nil) {
        self.login = login; self.post = post; self.from = from; self.until = until
    }
    public typealias Response = PostHolding
}

public struct PostRevokeRequest: RequestType {
    public static let method = "post.revoke"
    public static let summary = "End a user's holdings of a post. The last administrator cannot be removed."
    public static let parameters = [
        ParameterInfo("login", "string", required: true, "the user"),
        ParameterInfo("post", "string", required: true, "the post"),
    ]
    public static let access = Access.admin
    public static let mutates = true
    public var login: String
    public var post: String
    public init(login: String, post: String) { self.login = login; self.post = post }
    public struct Response: Codable, Sendable, Equatable {
        /// The holdings ended.
        public var revoked: [PostHolding]
        public init(revoked: [PostHolding]) { self.revoked = revoked }
    }
}

public struct PostHoldersRequest: RequestType {
    public static let method = "post.holders"
    public static let summary = "Who holds a post: today's holders, and with all, past and future cover too."
    public static let parameters = [
        ParameterInfo("post", "string", required: true, "the post"),
        ParameterInfo("all", "boolean", "include ended, future and revoked holdings"),
    ]
    public static let access = Access.registered
    public var post: String
    public var all: Bool?
    public init(post: String, all: Bool? = nil) { self.post = post; self.all = all }
    public struct Response: Codable, Sendable, Equatable {
        public var post: String
        public var holders: [PostHolding]
        public init(post: String, holders: [PostHolding]) { self.post = post; self.holders = holders }
    }
}

// MARK: audit

public struct AuditListRequest: RequestType {
    public static let method = "audit.list"
    public static let summary = "The audit trail, newest first: every change and every refused attempt."
    public static let parameters = [
        ParameterInfo("object", "string", "an indicator code, login or post"),
        ParameterInfo("user", "string", "who acted"),
        ParameterInfo("since", "date", "on or after this day, YYYY-MM-DD (Europe/London)"),
        ParameterInfo("limit", "integer", "most rows, 1 to 10000 (default 100)"),
    ]
    public static let access = Access.admin
    public var object: String?
    public var user: String?
    public var since: CalendarDate?
    public var limit: Int?
    public init(object: String? = nil, user: String? = nil, since: CalendarDate? = nil, limit: Int? = nil) {
        self.object = object; self.user = user; self.since = since; self.limit = limit
    }
    public struct Response: Codable, Sendable, Equatable {
        public var entries: [AuditEntry]
        public init(entries: [AuditEntry]) { self.entries = entries }
    }
}
