/// What reminders are about.
public enum ReminderKind: String, Codable, Sendable, CaseIterable {
    case taskDue = "task_due"
    case taskDueToday = "task_due_today"
    case taskOverdue = "task_overdue"
    case figureDue = "figure_due"
    case figureOverdue = "figure_overdue"
    case strategyRenewal = "strategy_renewal"
    /// A figure an open reporting round still needs, as its deadline nears or passes.
    case roundDue = "round_due"

    /// The kinds one task's reminders take (the subject is its code).
    public static let ofTask: [ReminderKind] = [.taskDue, .taskDueToday, .taskOverdue]
    /// The kinds one figure's reminders take (the subject is "CODE PERIOD").
    public static let ofFigure: [ReminderKind] = [.figureDue, .figureOverdue]
    /// The kinds one figure's round reminders take (the subject is "CODE PERIOD").
    public static let ofRound: [ReminderKind] = [.roundDue]
    /// The kinds one strategy's reminders take (the subject is its name).
    public static let ofStrategy: [ReminderKind] = [.strategyRenewal]
}

/// When reminders fall due: lead times before a date, weekly after it.
public struct ReminderSettings: Sendable, Equatable {
    /// Days before a task's target date to remind its officers (the day itself and every
    /// week after it are reminded too).
    public var taskLeadDays: [Int] = [28, 7, 1]
    /// Days overdue after which administrators are reminded as well.
    public var escalateAfterDays: Int = 14
    /// Days before an open round's deadline to remind the owners of figures it still needs
    /// (the day after it passes, once more, with the administrators).
    public var roundLeadDays: [Int] = [7, 1]
    /// Days before a strategy's renewal date to remind who answers for it.
    public var strategyLeadDays: [Int] = [90, 28]
    /// Days after a period ends before its figure is due.
    public var figureGraceDays: Int = 30
    /// Figures of periods that ended before this day are not chased; nil: from the day the
    /// plan was first loaded (see ``figuresTracked(loadedOn:)``).
    public var figuresTrackedFrom: CalendarDate?

    public init() {}

    /// The first day a period may end on and still have its figure chased, for a plan first
    /// loaded on `loadedOn`: go-live does not remind of every quarter before it.
    public func figuresTracked(loadedOn: CalendarDate) -> CalendarDate { figuresTrackedFrom ?? loadedOn }
}

/// The reminder a subject calls for on a day: its kind, its step, the date the step counts
/// from, and whether administrators hear of it too. (kind, subject, recipient, step, date)
/// is recorded once however often the scheduler runs; a subject whose date moves is
/// reminded afresh for the new date.
public struct ReminderStep: Sendable, Equatable {
    public var kind: ReminderKind
    public var step: String
    public var dueDate: CalendarDate
    public var escalate: Bool

    public init(kind: ReminderKind, step: String, dueDate: CalendarDate, escalate: Bool = false) {
        self.kind = kind; self.step = step; self.dueDate = dueDate; self.escalate = escalate
    }
}

/// Which reminder each subject calls for on `today`. Only the latest step that has come due
/// is named: a daemon that was down over a lead time catches up with one reminder, not a
/// burst of stale ones.
///
/// A recorded reminder holds while the date it counts from is still its subject's date
/// (``ReminderStep/dueDate``: a task's target, a figure's due date, a strategy's renewal).
/// Once the date moves, the reminder is superseded unless already acknowledged, and the new
/// date's steps are reminded; should the date move back, its reminders hold again.
public enum ReminderRules {
    /// A task with a target date, still open (not completed, deferred or cancelled).
    public static func task(target: CalendarDate, today: CalendarDate, settings: ReminderSettings) -> ReminderStep? {
        let daysLeft = today.days(until: target)
        if daysLeft > 0 {
            guard let lead = settings.taskLeadDays.filter({ $0 > 0 }).sorted().first(where: { $0 >= daysLeft }) else { return nil }
            return ReminderStep(kind: .taskDue, step: "\(lead)d", dueDate: target)
        }
        if daysLeft == 0 { return ReminderStep(kind: .taskDueToday, step: "today", dueDate: target) }
        return overdue(.taskOverdue, due: target, today: today, settings: settings)
    }

    /// A figure not yet submitted for a period: due once the period has ended, overdue
    /// weekly after its due date; never for a period that ended before `trackedFrom`
    /// (``ReminderSettings/figuresTracked(loadedOn:)``).
    public static func figure(period: Period, today: CalendarDate, trackedFrom: CalendarDate, settings: ReminderSettings) -> ReminderStep? {
        guard today > period.end, period.end >= trackedFrom else { return nil }
        let due = Performance.dueDate(of: period, graceDays: settings.figureGraceDays)
        if today <= due { return ReminderStep(kind: .figureDue, step: "due", dueDate: due) }
        return overdue(.figureOverdue, due: due, today: today, settings: settings)
    }

    /// A figure an open round still needs, by the round's deadline: at each lead time, and
    /// once the day after the deadline (escalated to the administrators).
    public static func round(deadline: CalendarDate, today: CalendarDate, settings: ReminderSettings) -> ReminderStep? {
        let daysLeft = today.days(until: deadline)
        if daysLeft < 0 { return ReminderStep(kind: .roundDue, step: "missed", dueDate: deadline, escalate: true) }
        guard let lead = settings.roundLeadDays.filter({ $0 >= 0 }).sorted().first(where: { $0 >= daysLeft }) else { return nil }
        return ReminderStep(kind: .roundDue, step: "\(lead)d", dueDate: deadline)
    }

    /// A strategy or policy document with a renewal date.
    public static func strategy(renewal: CalendarDate, today: CalendarDate, settings: ReminderSettings) -> ReminderStep? {
        let daysLeft = today.days(until: renewal)
        if daysLeft <= 0 { return ReminderStep(kind: .strategyRenewal, step: "due", dueDate: renewal) }
        guard let lead = settings.strategyLeadDays.filter({ $0 > 0 }).sorted().first(where: { $0 >= daysLeft }) else { return nil }
        return ReminderStep(kind: .strategyRenewal, step: "\(lead)d", dueDate: renewal)
    }

    /// Week 1 is the first to seventh day overdue, week 2 the eighth to fourteenth, ...
    static func overdue(_ kind: ReminderKind, due: CalendarDate, today: CalendarDate, settings: ReminderSettings) -> ReminderStep {
        let days = due.days(until: today)
        return ReminderStep(kind: kind, step: "week-\((days - 1) / 7 + 1)", dueDate: due, escalate: days > settings.escalateAfterDays)
    }
}

/// The words of a reminder, as it is stored with each recipient's copy and mailed.
public struct ReminderText: Sendable, Equatable {
    public var title: String
    public var body: String

    public init(title: String, body: String) {
        self.title = title
        self.body = body
    }

    /// A key task due in some days, due today or overdue (`kind` from `ReminderRules.task`).
    public static func task(code: String, action: String, target: CalendarDate, kind: ReminderKind, today: CalendarDate) -> ReminderText {
        let days = abs(today.days(until: target))
        let title: String
        switch kind {
        case .taskDue: title = "\(code) is due in \(days) day\(days == 1 ? "" : "s") (\(target))"
        case .taskDueToday: title = "\(code) is due today (\(target))"
        default: title = "\(code) is \(days) day\(days == 1 ? "" : "s") overdue (due \(target))"
        }
        return ReminderText(
            title: title,
            body: "Key task \(code): \(action)\n\nTarget date: \(target).\nRecord progress with: bbcsctl task update \(code) --status STATUS --progress PCT --note TEXT\nMove the date with: bbcsctl task reschedule \(code) YYYY-MM-DD --reason TEXT")
    }

    /// An indicator's figure for `period`, due or overdue (`step` from `ReminderRules.figure`).
    public static func figure(code: String, title: String, period: Period, step: ReminderStep, today: CalendarDate) -> ReminderText {
        let subject = "\(code) \(period)"
        return ReminderText(
            title: step.kind == .figureDue
                ? "\(subject) figure is due by \(step.dueDate)"
                : "\(subject) figure is \(step.dueDate.days(until: today)) days overdue (due \(step.dueDate))",
            body: "Indicator \(code): \(title)\n\nPeriod \(period) ended \(period.end); its figure is due by \(step.dueDate).\nSubmit it with: bbcsctl figure submit \(code) \"\(period)\" VALUE --note TEXT")
    }

    /// A figure the open round for `meeting` still needs by `deadline`.
    public static func round(code: String, title: String, period: Period, meeting: String, deadline: CalendarDate,
                             today: CalendarDate) -> ReminderText {
        let subject = "\(code) \(period)"
        let days = today.days(until: deadline)
        return ReminderText(
            title: days < 0 ? "\(subject) figure missed the round's deadline of \(deadline) for \(meeting)"
                            : "\(subject) figure is wanted by \(deadline) for \(meeting)",
            body: "Indicator \(code): \(title)\n\nThe reporting round for \(period) closes on \(deadline) and reports to \(meeting); its figure is not in yet.\nSubmit it with: bbcsctl figure submit \(code) \"\(period)\" VALUE --note TEXT")
    }

    /// A strategy or policy document whose renewal date approaches or has passed.
    public static func strategy(name: String, renewalText: String, renewal: CalendarDate, today: CalendarDate) -> ReminderText {
        let days = today.days(until: renewal)
        return ReminderText(
            title: days > 0 ? "\(name) is due for renewal in \(days) days (\(renewal))" : "\(name) was due for renewal on \(renewal)",
            body: "Strategy or policy: \(name)\nRenewal: \(renewalText) (\(renewal)).")
    }

    /// The text when nobody holds any of `posts` today, so the administrators hear instead.
    public func unheld(posts: [String]) -> ReminderText {
        ReminderText(title: title, body: body + "\n\nNobody holds " + posts.joined(separator: " or ")
                     + " today, so this reminder goes to the administrators.")
    }

    /// An administrator's copy of a reminder that escalated past its recipients.
    public var escalated: ReminderText { ReminderText(title: "[escalated] " + title, body: body) }
}

/// One reminder in an inbox.
public struct Reminder: Codable, Sendable, Equatable {
    public enum MailState: String, Codable, Sendable {
        /// No mail command configured, or the recipient has no address.
        case none
        /// Waiting for its first or next attempt.
        case pending
        case sent
    }
    public var id: Int
    public var kind: ReminderKind
    public var subject: String
    public var recipient: String
    public var step: String
    public var dueDate: CalendarDate
    public var title: String
    public var body: String
    /// Sent to an administrator because the responsible post has no holder or it is long overdue.
    public var escalated: Bool
    public var createdAt: String
    public var ackedAt: String?
    /// When its date moved before it was acknowledged: out of the inbox and not mailed, kept
    /// for `all`.
    public var supersededAt: String?
    public var mailState: MailState
    public var mailAttempts: Int
    public var mailLastError: String?
    public var mailSentAt: String?

    public init(id: Int, kind: ReminderKind, subject: String, recipient: String, step: String, dueDate: CalendarDate, title: String,
                body: String, escalated: Bool, createdAt: String, ackedAt: String?, supersededAt: String? = nil, mailState: MailState,
                mailAttempts: Int, mailLastError: String?, mailSentAt: String?) {
        self.id = id; self.kind = kind; self.subject = subject; self.recipient = recipient; self.step = step
        self.dueDate = dueDate; self.title = title; self.body = body; self.escalated = escalated; self.createdAt = createdAt
        self.ackedAt = ackedAt; self.supersededAt = supersededAt; self.mailState = mailState; self.mailAttempts = mailAttempts
        self.mailLastError = mailLastError; self.mailSentAt = mailSentAt
    }
}

/// One entry of a task's history: a progress update or a change of target date.
public struct TaskChange: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case update, reschedule }
    public var kind: Kind
    public var oldStatus: TaskStatus?
    public var newStatus: TaskStatus?
    public var oldProgress: Int?
    public var newProgress: Int?
    public var oldDate: CalendarDate?
    public var newDate: CalendarDate?
    public var note: String
    public var changedBy: String
    public var changedAt: String

    public init(kind: Kind, oldStatus: TaskStatus?, newStatus: TaskStatus?, oldProgress: Int?, newProgress: Int?,
                oldDate: CalendarDate?, newDate: CalendarDate?, note: String, changedBy: String, changedAt: String) {
        self.kind = kind; self.oldStatus = oldStatus; self.newStatus = newStatus; self.oldProgress = oldProgress
        self.newProgress = newProgress; self.oldDate = oldDate; self.newDate = newDate; self.note = note
        self.changedBy = changedBy; self.changedAt = changedAt
    }
}

/// A task's slippage: how often its target date moved later, and by how many days in all.
public struct Slippage: Codable, Sendable, Equatable {
    public var times: Int
    public var days: Int
    public init(times: Int, days: Int) { self.times = times; self.days = days }

    public init(_ changes: [TaskChange]) {
        var times = 0, days = 0
        for change in changes where change.kind == .reschedule {
            guard let old = change.oldDate, let new = change.newDate, new > old else { continue }
            times += 1
            days += old.days(until: new)
        }
        self.init(times: times, days: days)
    }
}

extension TaskStatus {
    /// Completed, deferred and cancelled tasks are neither overdue nor reminded.
    public var isClosed: Bool { self == .completed || self == .deferred || self == .cancelled }
}
