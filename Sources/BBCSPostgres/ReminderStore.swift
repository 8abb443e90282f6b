import BBCSCore
import Foundation

/// Reminders: generated from tasks, figures and strategies on a day, each recorded once
/// under (kind, subject, recipient, step, due date); superseded when their date moves; read
/// and acknowledged in inboxes; mailed with retries.
public struct ReminderStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) { self.pool = pool }

    /// Arbitrary but fixed: serialises scheduler runs of every daemon on one database.
    static let lockKey = 0x6262_6373_7265_6d64  // "bbcsremd"

    private struct Recipient: Hashable {
        let login: String
        let email: String?
    }

    private struct Candidate {
        let step: ReminderStep
        let subject: String
        let text: ReminderText
        let posts: [Int]
    }

    /// A day's reminders: those due, and the date each subject's steps now count from, as
    /// one (kind, subject, date) for every kind its reminders take.
    private struct Schedule {
        var due: [Candidate] = []
        var kinds: [ReminderKind] = []
        var subjects: [String] = []
        var dates: [CalendarDate] = []

        mutating func track(_ subject: String, _ kinds: [ReminderKind], from date: CalendarDate) {
            self.kinds += kinds
            subjects += Array(repeating: subject, count: kinds.count)
            dates += Array(repeating: date, count: kinds.count)
        }
    }

    /// Records every reminder due on the actor's day that is not recorded yet, and marks
    /// superseded those whose date has moved; returns how many were new. `mail` marks them for
    /// the mail command where recipients have an address.
    public func generate(settings: ReminderSettings, mail: Bool, by actor: Actor) async throws -> Int {
        try await pool.keyedTransaction(confirming: actor) { db, actor, key in
            try db.execute("SELECT pg_advisory_xact_lock(\(Self.lockKey))")
            let today = actor.today
            let holders = try Self.holders(today, db)
            let postNames = try Self.postNames(db)
            let adminPost = try db.one(Int.self, "SELECT id FROM posts WHERE name = \(Policy.adminPost)")
            let admins = holders[adminPost] ?? []
            let schedule = try Self.schedule(today: today, settings: settings, db)

            // A reminder holds while its date is its subject's: one whose date moved is
            // superseded (unless acknowledged), one whose date came back holds again.
            let superseded = try db.execute("""
                UPDATE reminders r SET superseded_at = CASE WHEN r.due_date = c.due THEN NULL ELSE \(timestamp(actor.recordedAt)) END
                FROM unnest(\(schedule.kinds)::text[], \(schedule.subjects)::text[], \(schedule.dates)::date[]) AS c(kind, subject, due)
                WHERE r.kind = c.kind AND r.subject = c.subject AND r.acked_at IS NULL
                  AND ((r.due_date <> c.due AND r.superseded_at IS NULL) OR (r.due_date = c.due AND r.superseded_at IS NOT NULL))
                """).affectedRows

            var created: [JSONValue] = []
            for candidate in schedule.due {
                let holding = Set(candidate.posts.flatMap { holders[$0] ?? [] })
                var recipients = holding.map { ($0, false) }
                let text = holding.isEmpty ? candidate.text.unheld(posts: candidate.posts.compactMap { postNames[$0] }) : candidate.text
                if holding.isEmpty || candidate.step.escalate {
                    recipients += admins.subtracting(holding).map { ($0, true) }
                }
                for (recipient, escalated) in recipients {
                    let mailState: Reminder.MailState = mail && recipient.email != nil ? .pending : .none
                    let mailNextAt = mailState == .pending ? actor.at : nil
                    let inserted = try db.first(Int.self, """
                        INSERT INTO reminders (kind, subject, recipient, step, due_date, title, body, escalated, created_at,
                                               mail_state, mail_to, mail_next_at)
                        VALUES (\(candidate.step.kind), \(candidate.subject), \(recipient.login), \(candidate.step.step),
                                \(candidate.step.dueDate)::date, \((escalated ? text.escalated : text).title), \(text.body), \(escalated),
                                \(timestamp(actor.recordedAt)), \(mailState), \(recipient.email),
                                \(timestamp(mailNextAt)))
                        ON CONFLICT (kind, subject, recipient, step, due_date) DO NOTHING RETURNING id
                        """)
                    if let id = inserted { created.append(Self.change(id, candidate, to: recipient.login)) }
                }
            }
            if !created.isEmpty || superseded > 0 {
                try AuditLog.record(db, actor, object: nil, after: ["created": "\(created.count)", "superseded": "\(superseded)", "day": today.description],
                                    message: "\(created.count) reminders recorded, \(superseded) superseded or restored")
            }
            // Last, so the seqs are taken just before the commit (readers wait for a seq skipped over).
            try ChangeLog.record(db, .reminderCreated, login: actor.principal.login, details: created, key: key)
            return created.count
        }
    }

    /// What a watcher is shown of a reminder created (never the recipient's address).
    private static func change(_ id: Int, _ candidate: Candidate, to login: String) -> JSONValue {
        .object(["reminder": .number(Double(id)), "reminderKind": .string(candidate.step.kind.rawValue), "subject": .string(candidate.subject),
                 "recipient": .string(login), "dueDate": .string(candidate.step.dueDate.description), "step": .string(candidate.step.step)])
    }

    private struct TaskRow: Decodable {
        let code: String
        let action: String
        let targetDate: CalendarDate
        let postIDs: [Int]
    }

    private struct StrategyRow: Decodable {
        let name: String
        let renewalText: String
        let renewalDate: CalendarDate
        let postIDs: [Int]
    }

    private struct LoadedRow: Decodable {
        let code: String
        let loadedOn: CalendarDate
    }

    /// What calls for a reminder on `today` (open dated tasks, figures not submitted for
    /// ended periods, strategies with a renewal date), and the date each counts from.
    private static func schedule(today: CalendarDate, settings: ReminderSettings, _ db: PGConnection) throws -> Schedule {
        var schedule = Schedule()
        let tasks = try db.rows(TaskRow.self, """
            SELECT t.code, t.action, \(isoDate("t.target_date")) AS target_date,
                   coalesce((SELECT array_agg(tp.post_id ORDER BY tp.position) FROM task_posts tp WHERE tp.task_id = t.id), '{}') AS post_ids
            FROM tasks t
            WHERE t.target_date IS NOT NULL AND t.status NOT IN ('completed', 'deferred', 'cancelled') AND t.retired_in IS NULL
            ORDER BY t.plan_id, t.position
            """)
        for task in tasks {
            schedule.track(task.code, ReminderKind.ofTask, from: task.targetDate)
            guard let step = ReminderRules.task(target: task.targetDate, today: today, settings: settings) else { continue }
            schedule.due.append(Candidate(
                step: step, subject: task.code,
                text: .task(code: task.code, action: task.action, target: task.targetDate, kind: step.kind, today: today),
                posts: task.postIDs))
        }

        // The day each indicator's plan was first loaded (today for a plan loaded before that was recorded).
        let loaded = Dictionary(uniqueKeysWithValues: try db.rows(LoadedRow.self, """
            SELECT i.code, to_char(coalesce(pl.loaded_on, \(today)::date), 'YYYY-MM-DD') AS loaded_on
            FROM indicators i JOIN plans pl ON pl.id = i.plan_id
            """).map { ($0.code, $0.loadedOn) })
        for indicator in try UnfilledPeriods.load(where: "i.retired_in IS NULL", db) {
            let trackedFrom = settings.figuresTracked(loadedOn: loaded[indicator.code] ?? today)
            // Only an ended period can have been reminded.
            for p in indicator.periods where p.end < today {
                let subject = "\(indicator.code) \(p)"
                schedule.track(subject, ReminderKind.ofFigure, from: Performance.dueDate(of: p, graceDays: settings.figureGraceDays))
                guard let step = ReminderRules.figure(period: p, today: today, trackedFrom: trackedFrom, settings: settings) else { continue }
                schedule.due.append(Candidate(
                    step: step, subject: subject,
                    text: .figure(code: indicator.code, title: indicator.title, period: p, step: step, today: today),
                    posts: [indicator.ownerPostID]))
            }
        }

        // Open rounds chase the figures they still need by their deadline.
        let cycle = try PlanStateLoader.cycle(db)
        let indicators = try PlanStateLoader.indicators(nil, db)
        for plan in try PlanStateLoader.reportedPlans(db) {
            let owners = Dictionary(indicators.filter { $0.planID == plan.id }.map { ($0.code, $0.ownerPostID) }, uniquingKeysWith: { first, _ in first })
            for round in cycle.open(plan: plan.code) {
                for missing in RoundProgress(round: round, planID: plan.id, indicators: indicators).missing {
                    let subject = "\(missing.indicator) \(missing.period)"
                    schedule.track(subject, ReminderKind.ofRound, from: round.deadline)
                    guard let step = ReminderRules.round(deadline: round.deadline, today: today, settings: settings),
                          let owner = owners[missing.indicator] else { continue }
                    schedule.due.append(Candidate(
                        step: step, subject: subject,
                        text: .round(code: missing.indicator, title: missing.title, period: missing.period, meeting: round.meeting,
                                     deadline: round.deadline, today: today),
                        posts: [owner]))
                }
            }
        }

        let strategies = try db.rows(StrategyRow.self, """
            SELECT s.name, s.renewal_text, \(isoDate("s.renewal_date")) AS renewal_date,
                   coalesce((SELECT array_agg(r.post_id ORDER BY r.position) FROM strategy_responsible r
                             WHERE r.strategy_id = s.id AND r.post_id IS NOT NULL), '{}') AS post_ids
            FROM strategies s WHERE s.renewal_date IS NOT NULL ORDER BY s.plan_id, s.position
            """)
        for strategy in strategies {
            schedule.track(strategy.name, ReminderKind.ofStrategy, from: strategy.renewalDate)
            guard let step = ReminderRules.strategy(renewal: strategy.renewalDate, today: today, settings: settings) else { continue }
            schedule.due.append(Candidate(
                step: step, subject: strategy.name,
                text: .strategy(name: strategy.name, renewalText: strategy.renewalText, renewal: strategy.renewalDate, today: today),
                posts: strategy.postIDs))
        }
        return schedule
    }

    private struct HolderRow: Decodable {
        let postID: Int
        let login: String
        let email: String?
    }

    /// Active users holding each post on `today`, by post id.
    private static func holders(_ today: CalendarDate, _ db: PGConnection) throws -> [Int: Set<Recipient>] {
        let rows = try db.rows(HolderRow.self, """
            SELECT h.post_id, u.login, u.email FROM post_holders h JOIN users u ON u.id = h.user_id
            WHERE u.disabled_at IS NULL AND \(Directory.heldOn(today))
            """)
        var holders: [Int: Set<Recipient>] = [:]
        for row in rows { holders[row.postID, default: []].insert(Recipient(login: row.login, email: row.email)) }
        return holders
    }

    private struct PostRow: Decodable {
        let id: Int
        let name: String
    }

    private static func postNames(_ db: PGConnection) throws -> [Int: String] {
        Dictionary(uniqueKeysWithValues: try db.rows(PostRow.self, "SELECT id, name FROM posts").map { ($0.id, $0.name) })
    }

    // MARK: inbox

    private static let columns: PGQuery = """
        SELECT id, kind, subject, recipient, step, \(isoDate("due_date")) AS due_date, title, body, escalated,
               \(londonTime("created_at")) AS created_at, \(londonTime("acked_at")) AS acked_at,
               \(londonTime("superseded_at")) AS superseded_at,
               mail_state, mail_attempts, mail_last_error, \(londonTime("mail_sent_at")) AS mail_sent_at
        FROM reminders
        """

    /// The recipient's reminders, neither acknowledged nor superseded unless `all`, oldest due first.
    public func inbox(of login: String, all: Bool) async throws -> [Reminder] {
        try await pool.withConnection { db in
            try db.rows(Reminder.self, """
                \(Self.columns) WHERE recipient = \(login) AND (\(all) OR (acked_at IS NULL AND superseded_at IS NULL)) ORDER BY due_date, id
                """)
        }
    }

    /// Every reminder whose mail has failed at least once and not yet gone through (superseded
    /// ones are no longer sent).
    public func failingMail() async throws -> [Reminder] {
        try await pool.withConnection { db in
            try db.rows(Reminder.self, "\(Self.columns) WHERE \(Self.mailPending) AND mail_attempts > 0 ORDER BY id")
        }
    }

    /// How many reminders' mail is still to go (failing ones included).
    public func mailWaiting() async throws -> Int {
        try await pool.withConnection { db in try db.one(Int.self, "SELECT count(*) FROM reminders WHERE \(Self.mailPending)") }
    }

    /// Acknowledges one of the actor's own reminders. It records no change, so stores no request
    /// key: after an ambiguous COMMIT it runs again, and finds the reminder acknowledged.
    public func acknowledge(_ id: Int, by actor: Actor) async throws -> Reminder {
        try await pool.keyedTransaction(confirming: actor) { db, actor, _ in
            guard let before = try db.first(Reminder.self, """
                \(Self.columns) WHERE id = \(id) AND recipient = \(actor.principal.login) FOR UPDATE
                """) else {
                throw StoreError.notFound(kind: "reminder of yours numbered", key: "\(id)")
            }
            guard before.ackedAt == nil else { return before }
            try db.execute("UPDATE reminders SET acked_at = \(timestamp(actor.recordedAt)) WHERE id = \(id)")
            let after = try db.one(Reminder.self, "\(Self.columns) WHERE id = \(id)")
            try AuditLog.record(db, actor, object: "reminder \(id)", before: ["acked": false], after: ["acked": true], message: after.title)
            return after
        }
    }

    // MARK: mail

    /// Reminders whose mail is still to go: pending, and about a date that still holds.
    private static let mailPending: PGQuery = "mail_state = 'pending' AND superseded_at IS NULL"

    /// A reminder's mail, leased to one sender until `lease` has passed.
    public struct Mail: Sendable, Decodable {
        public let id: Int
        public let to: String
        public let title: String
        public let body: String
        public let attempts: Int
    }

    /// Takes up to `limit` mails due by `now` and leases them, so no other daemon sends them meanwhile.
    public func claimMail(now: Date, lease: Duration, limit: Int = 20) async throws -> [Mail] {
        try await pool.transaction { db in
            try db.rows(Mail.self, """
                UPDATE reminders SET mail_next_at = \(timestamp(now)) + make_interval(secs => \(Double(lease.components.seconds))::double precision)
                WHERE id IN (SELECT id FROM reminders WHERE \(Self.mailPending) AND mail_next_at <= \(timestamp(now))
                             ORDER BY mail_next_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING id, mail_to AS "to", title, body, mail_attempts AS attempts
                """)
        }
    }

    /// Records an attempt: sent, or failed with `error` and retried after a backoff that
    /// doubles from a minute up to an hour. A mail is never given up.
    public func recordAttempt(_ id: Int, error: String?, now: Date) async throws {
        try await pool.withConnection { db -> Void in
            if let error {
                try db.execute("""
                    UPDATE reminders SET mail_attempts = mail_attempts + 1, mail_last_error = \(error),
                           mail_next_at = \(timestamp(now)) + make_interval(mins => least(60, power(2, mail_attempts)::integer))
                    WHERE id = \(id)
                    """)
            } else {
                try db.execute("""
                    UPDATE reminders SET mail_state = 'sent', mail_attempts = mail_attempts + 1, mail_sent_at = \(timestamp(now)),
                           mail_next_at = NULL
                    WHERE id = \(id)
                    """)
            }
        }
    }
}
