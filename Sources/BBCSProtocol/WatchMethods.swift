import BBCSCore

/// Turns the connection into a stream of events: the reply is followed by one ``EventLine``
/// per change, made through any daemon on the database, that the caller may read and the
/// filters let through, until the client closes the connection (or its writing side). A
/// watching connection reads no more requests: a line sent on it is answered with a last
/// ``EventLine`` carrying an error, and the connection closes.
public struct WatchSubscribeRequest: RequestType {
    public static let method = "watch.subscribe"
    public static let summary = "Follow changes as they happen: figures submitted, corrected and validated, targets set, tasks updated and rescheduled, reminders created; the reply is followed by one event line per change on the same connection."
    public static let parameters = [
        ParameterInfo("objective", "string", "only changes to indicators and tasks of this objective (e.g. CS1)"),
        ParameterInfo("owner", "string", "only changes to indicators this post owns and tasks it is responsible for (a name or alias)"),
        ParameterInfo("kinds", "strings", "only these kinds: " + WatchKind.allCases.map(\.rawValue).joined(separator: ", ")),
    ]
    public static let access = Access.registered

    public var objective: String?
    public var owner: String?
    /// Raw values of ``WatchKind``; the daemon refuses any other, naming it.
    public var kinds: [String]?

    public init(objective: String? = nil, owner: String? = nil, kinds: [String]? = nil) {
        self.objective = objective; self.owner = owner; self.kinds = kinds
    }

    public struct Response: Codable, Sendable, Equatable {
        public var subscribed: Bool
        /// The kinds that will be sent.
        public var kinds: [String]
        /// The objective's code, as the plan spells it, when filtered by one.
        public var objective: String?
        /// The post's own name, when filtered by one.
        public var owner: String?
        /// Events follow for changes after this seq.
        public var after: Int64

        public init(subscribed: Bool, kinds: [String], objective: String?, owner: String?, after: Int64) {
            self.subscribed = subscribed; self.kinds = kinds; self.objective = objective; self.owner = owner; self.after = after
        }
    }
}

/// The kinds of change a watcher may follow: every ``Change/Kind`` but the daemons' own
/// (directory, plan).
public enum WatchKind: String, Codable, Sendable, CaseIterable {
    case figureSubmitted = "figure_submitted"
    case figureCorrected = "figure_corrected"
    case figureValidated = "figure_validated"
    case targetSet = "target_set"
    case taskUpdated = "task_updated"
    case taskRescheduled = "task_rescheduled"
    case reminderCreated = "reminder_created"

    public init?(_ kind: Change.Kind) { self.init(rawValue: kind.rawValue) }

    /// Whether the change is about an indicator (its detail names `ownerPost`).
    public var isIndicatorKind: Bool { [.figureSubmitted, .figureCorrected, .figureValidated, .targetSet].contains(self) }
    /// Whether the change is about a task (its detail names `posts`).
    public var isTaskKind: Bool { [.taskUpdated, .taskRescheduled].contains(self) }

    /// The keys of `detail` a watcher is shown for this kind (Change.detail's contract,
    /// plus `previousValue` on corrections); anything else a writer puts there stays in
    /// the database.
    public var detailKeys: Set<String> {
        switch self {
        case .figureSubmitted, .figureValidated:
            ["indicator", "objective", "ownerPost", "period", "revision", "value", "late", "provisional", "forecast"]
        case .figureCorrected:
            ["indicator", "objective", "ownerPost", "period", "revision", "value", "previousValue", "late", "reason", "provisional", "forecast"]
        case .targetSet:
            ["indicator", "objective", "ownerPost", "period", "value", "tolerance"]
        case .taskUpdated, .taskRescheduled:
            ["task", "objective", "posts", "status", "progress", "targetDate", "oldDate"]
        case .reminderCreated:
            ["reminder", "reminderKind", "subject", "recipient", "dueDate", "step"]
        }
    }
}

/// One change as a watcher sees it.
public struct WatchEvent: Codable, Sendable, Equatable {
    /// Its place in the database's change sequence: events arrive in increasing seq.
    public var seq: Int64
    /// Europe/London local time, "2026-07-14T09:30:00".
    public var at: String
    /// A ``WatchKind`` raw value (kept as text, so a client older than the daemon still reads it).
    public var kind: String
    /// Who made it: a login, or "bbcsd".
    public var login: String?
    /// The change's own facts (see ``WatchKind/detailKeys``): codes, period, values, recipient.
    public var detail: JSONValue?

    public init(seq: Int64, at: String, kind: String, login: String?, detail: JSONValue?) {
        self.seq = seq; self.at = at; self.kind = kind; self.login = login; self.detail = detail
    }
}

/// One line of a watching connection after its reply: `{"event": {...}}`, or, last before the
/// daemon closes it, `{"event": null, "error": {...}}` (code `too_slow` for a watcher that
/// fell too far behind, `invalid_request` for a line sent on it, `unavailable` at shutdown).
public struct EventLine: Codable, Sendable, Equatable {
    public var event: WatchEvent?
    public var error: ResponseError?

    public init(event: WatchEvent) { self.event = event; self.error = nil }
    public init(closing error: ResponseError) { self.event = nil; self.error = error }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        // The key is always there, null on the closing line, so a reader can tell event lines at a glance.
        try container.encode(event, forKey: .event)
        try container.encodeIfPresent(error, forKey: .error)
    }
}
