/// One change any daemon made, as the `changes` table keeps it: what the daemons' memories
/// catch up from and what watchers are shown.
public struct Change: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case figureSubmitted = "figure_submitted"
        case figureCorrected = "figure_corrected"
        case figureValidated = "figure_validated"
        case targetSet = "target_set"
        case taskUpdated = "task_updated"
        case taskRescheduled = "task_rescheduled"
        case reminderCreated = "reminder_created"
        /// A reporting round was opened or closed.
        case roundOpened = "round_opened"
        case roundClosed = "round_closed"
        /// A round's report was published (frozen).
        case reportPublished = "report_published"
        /// A risk was scored.
        case riskReviewed = "risk_reviewed"
        /// Users, posts or who holds them changed.
        case directory
        /// A plan import changed the plan: everything is read again.
        case plan

        /// A kind this daemon does not know (a newer daemon's, or a row written by hand) reads as
        /// `plan`: everything is read again, rather than the whole sequence stopping at that row.
        public init(from decoder: any Decoder) throws {
            let raw = try decoder.singleValueContainer().decode(String.self)
            self = Kind(rawValue: raw) ?? .plan
        }
    }

    /// Its place in the database's change sequence.
    public var seq: Int64
    /// Europe/London local time, "2026-07-14T09:30:00".
    public var at: String
    public var kind: Kind
    public var indicatorID: Int?
    public var taskID: Int?
    /// Who made it: a login, or "bbcsd".
    public var login: String?
    /// What a watcher is shown: the indicator's or task's code, period, values, the reminder's
    /// recipient. Never an e-mail address.
    public var detail: JSONValue?

    public init(seq: Int64, at: String, kind: Kind, indicatorID: Int? = nil, taskID: Int? = nil, login: String? = nil,
                detail: JSONValue? = nil) {
        self.seq = seq; self.at = at; self.kind = kind; self.indicatorID = indicatorID; self.taskID = taskID
        self.login = login; self.detail = detail
    }
}
