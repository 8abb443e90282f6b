import BBCSCore
import Foundation

/// Reminders: generated from tasks, figures and strategies on a day, each recorded once
/// under (kind, subject, recipient, step); read and acknowledged in inboxes; mailed with
/// retries.
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
        let title: String
        let body: String
        let posts: [Int]
    }

    /// Records every reminder due on the actor's day that is not recorded yet; returns how
    /// many were new. `mail` marks them for the mail command where recipients have an address.
    public func generate(settings: ReminderSettings, mail: Bool, by actor: Actor) async throws -> Int {
        try await pool.transaction { db in
            try db.query("SELECT pg_advisory_xact_lock($1)", [Self.lockKey])
            let today = actor.today
            let holders = try Self.holders(today, db)
            let postNames = try Self.postNames(db)
            let adminPost = try db.query("SELECT id FROM posts WHERE name = $1", [Policy.adminPost]).int(0, 0)
            let admins = holders[adminPost] ?? []

            var created = 0
            for candidate in try Self.candidates(today: today, settings: settings, db) {
                let holding = Set(candidate.posts.flatMap { holders[$0] ?? [] })
                var recipients = holding.map { ($0, false) }
                var body = candidate.body
                if holding.isEmpty {
                    body += "\n\nNobody holds " + candidate.posts.compactMap { postNames[$0] }.joined(separator: " or ")
                        + " today, so this reminder goes to the administrators."
                }
                if holding.isEmpty || candidate.step.escalate {
                    recipients += admins.subtracting(holding).map { ($0, true) }
                }
                for (recipient, escalated) in recipients {
                    let inserted = try db.query("""
                        INSERT INTO reminders (kind, subject, recipient, step, due_date, title, body, escalated, created_at,
                                               mail_state, mail_to, mail_next_at)
                        VALUES ($1, $2, $3, $4, $5::date, $6, $7, $8, to_timestamp($9::double precision), $10, $11,
                                CASE WHEN $10 = 'pending' THEN to_timestamp($9::double precision) END)
                        ON CONFLICT (kind, subject, recipient, step) DO NOTHING
                        """, [candidate.step.kind.rawValue, candidate.subject, recipient.login, candidate.step.step,
                              candidate.step.dueDate.description, (escalated ? "[escalated] " : "") + candidate.title, body,
                              escalated, actor.epochSeconds, mail && recipient.email != nil ? "pending" : "none", recipient.email])
                    created += inserted.affectedRows
                }
            }
            if created > 0 {
                try AuditLog.record(db, actor, object: nil, after: ["created": "\(created)", "day": today.description],
                                    message: "\(created) reminders recorded")
            }
            return created
        }
    }

    /// What calls for a reminder on `today`: open dated tasks, figures not submitted for
    /// ended periods, strategies with a renewal date.
    private static func candidates(today: CalendarDate, settings: ReminderSettings, _ db: PGConnection) throws -> [Candidate] {
        var candidates: [Candidate] = []
        let tasks = try db.query("""
            SELECT t.code, t.action, to_char(t.target_date, 'YYYY-MM-DD'),
                   coalesce((SELECT array_agg(tp.post_id ORDER BY tp.position) FROM task_posts tp WHERE tp.task_id = t.id), '{}')::text
            FROM tasks t
            WHERE t.target_date IS NOT NULL AND t.status NOT IN ('completed', 'deferred', 'cancelled')
            ORDER BY t.plan_id, t.position
            """)
        for r in 0..<tasks.count {
            let code = try tasks.text(r, 0), action = try tasks.text(r, 1), target = try date(tasks.text(r, 2))
            guard let step = ReminderRules.task(target: target, today: today, settings: settings) else { continue }
            let days = abs(today.days(until: target))
            let title: String
            switch step.kind {
            case .taskDue: title = "\(code) is due in \(days) day\(days == 1 ? "" : "s") (\(target))"
            case .taskDueToday: title = "\(code) is due today (\(target))"
            default: title = "\(code) is \(days) day\(days == 1 ? "" : "s") overdue (due \(target))"
            }
            candidates.append(Candidate(
                step: step, subject: code, title: title,
                body: "Key task \(code): \(action)\n\nTarget date: \(target).\nRecord progress with: bbcsctl task update \(code) --status STATUS --progress PCT --note TEXT\nMove the date with: bbcsctl task reschedule \(code) YYYY-MM-DD --reason TEXT",
                posts: parseIntArray(tasks.string(r, 3))))
        }

        let indicators = try db.query("""
            SELECT i.code, i.title, i.frequency, i.owner_post_id, pl.first_year, pl.last_year,
                   coalesce((SELECT json_agg(DISTINCT f.period) FROM figures f WHERE f.indicator_id = i.id), '[]')::text
            FROM indicators i JOIN plans pl ON pl.id = i.plan_id ORDER BY i.plan_id, i.position
            """)
        for r in 0..<indicators.count {
            let code = try indicators.text(r, 0), title = try indicators.text(r, 1)
            let filled = Set(try decodeJSON(indicators.text(r, 6)) as [String])
            let periods = Performance.periods(frequency: try enumValue(indicators.text(r, 2)), firstYear: try period(indicators.text(r, 4)),
                                              lastYear: try period(indicators.text(r, 5)))
            for p in periods where !filled.contains(p.description) {
                guard let step = ReminderRules.figure(period: p, today: today, settings: settings) else { continue }
                let subject = "\(code) \(p)"
                let headline = step.kind == .figureDue
                    ? "\(subject) figure is due by \(step.dueDate)"
                    : "\(subject) figure is \(step.dueDate.days(until: today)) days overdue (due \(step.dueDate))"
                candidates.append(Candidate(
                    step: step, subject: subject, title: headline,
                    body: "Indicator \(code): \(title)\n\nPeriod \(p) ended \(p.end); its figure is due by \(step.dueDate).\nSubmit it with: bbcsctl figure submit \(code) \"\(p)\" VALUE --note TEXT",
                    posts: [try indicators.int(r, 3)]))
            }
        }

        let strategies = try db.query("""
            SELECT s.name, s.renewal_text, to_char(s.renewal_date, 'YYYY-MM-DD'),
                   coalesce((SELECT array_agg(r.post_id ORDER BY r.position) FROM strategy_responsible r
                             WHERE r.strategy_id = s.id AND r.post_id IS NOT NULL), '{}')::text
            FROM strategies s WHERE s.renewal_date IS NOT NULL ORDER BY s.plan_id, s.position
            """)
        for r in 0..<strategies.count {
            let name = try strategies.text(r, 0), renewal = try date(strategies.text(r, 2))
            guard let step = ReminderRules.strategy(renewal: renewal, today: today, settings: settings) else { continue }
            let days = today.days(until: renewal)
            candidates.append(Candidate(
                step: step, subject: name,
                title: days > 0 ? "\(name) is due for renewal in \(days) days (\(renewal))" : "\(name) was due for renewal on \(renewal)",
                body: "Strategy or policy: \(name)\nRenewal: \(try strategies.text(r, 1)) (\(renewal)).",
                posts: parseIntArray(strategies.string(r, 3))))
        }
        return candidates
    }

    /// Active users holding each post on `today`, by post id.
    private static func holders(_ today: CalendarDate, _ db: PGConnection) throws -> [Int: Set<Recipient>] {
        let rows = try db.query("""
            SELECT h.post_id, u.login, u.email FROM post_holders h JOIN users u ON u.id = h.user_id
            WHERE u.disabled_at IS NULL AND \(Directory.heldOn("h", "$1"))
            """, [today.description])
        var holders: [Int: Set<Recipient>] = [:]
        for r in 0..<rows.count {
            holders[try rows.int(r, 0), default: []].insert(Recipient(login: try rows.text(r, 1), email: rows.string(r, 2)))
        }
        return holders
    }

    private static func postNames(_ db: PGConnection) throws -> [Int: String] {
        let rows = try db.query("SELECT id, name FROM posts")
        return Dictionary(uniqueKeysWithValues: try rows.map { (try rows.int($0, 0), try rows.text($0, 1)) })
    }

    // MARK: inbox

    private static let columns = """
        SELECT id, kind, subject, recipient, step, to_char(due_date, 'YYYY-MM-DD'), title, body, escalated,
               to_char(created_at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD"T"HH24:MI:SS'),
               to_char(acked_at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD"T"HH24:MI:SS'),
               mail_state, mail_attempts, mail_last_error,
               to_char(mail_sent_at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD"T"HH24:MI:SS')
        FROM reminders
        """

    private static func reminder(_ rows: PGResult, _ r: Int) throws -> Reminder {
        Reminder(id: try rows.int(r, 0), kind: try enumValue(rows.text(r, 1)), subject: try rows.text(r, 2), recipient: try rows.text(r, 3),
                 step: try rows.text(r, 4), dueDate: try date(rows.text(r, 5)), title: try rows.text(r, 6), body: try rows.text(r, 7),
                 escalated: rows.bool(r, 8), createdAt: try rows.text(r, 9), ackedAt: rows.string(r, 10),
                 mailState: try enumValue(rows.text(r, 11)), mailAttempts: try rows.int(r, 12), mailLastError: rows.string(r, 13),
                 mailSentAt: rows.string(r, 14))
    }

    /// The recipient's reminders, not yet acknowledged unless `all`, oldest due first.
    public func inbox(of login: String, all: Bool) async throws -> [Reminder] {
        try await pool.withConnection { db in
            let rows = try db.query(Self.columns + " WHERE recipient = $1 AND ($2 OR acked_at IS NULL) ORDER BY due_date, id",
                                    [login, all])
            return try rows.map { try Self.reminder(rows, $0) }
        }
    }

    /// Every reminder whose mail has failed at least once and not yet gone through.
    public func failingMail() async throws -> [Reminder] {
        try await pool.withConnection { db in
            let rows = try db.query(Self.columns + " WHERE mail_state = 'pending' AND mail_attempts > 0 ORDER BY id")
            return try rows.map { try Self.reminder(rows, $0) }
        }
    }

    /// Acknowledges one of the actor's own reminders.
    public func acknowledge(_ id: Int, by actor: Actor) async throws -> Reminder {
        try await pool.transaction { db in
            let rows = try db.query(Self.columns + " WHERE id = $1 AND recipient = $2 FOR UPDATE", [id, actor.principal.login])
            guard rows.count == 1 else { throw StoreError.notFound(kind: "reminder of yours numbered", key: "\(id)") }
            let before = try Self.reminder(rows, 0)
            guard before.ackedAt == nil else { return before }
            try db.query("UPDATE reminders SET acked_at = to_timestamp($2::double precision) WHERE id = $1", [id, actor.epochSeconds])
            let after = try Self.reminder(db.query(Self.columns + " WHERE id = $1", [id]), 0)
            try AuditLog.record(db, actor, object: "reminder \(id)", before: ["acked": false], after: ["acked": true], message: after.title)
            return after
        }
    }

    // MARK: mail

    /// A reminder's mail, leased to one sender until `lease` has passed.
    public struct Mail: Sendable {
        public let id: Int
        public let to: String
        public let title: String
        public let body: String
        public let attempts: Int
    }

    /// Takes up to `limit` mails due by `now` and leases them, so no other daemon sends them meanwhile.
    public func claimMail(now: Date, lease: Duration, limit: Int = 20) async throws -> [Mail] {
        try await pool.transaction { db in
            let rows = try db.query("""
                UPDATE reminders SET mail_next_at = to_timestamp($1::double precision) + make_interval(secs => $2::double precision)
                WHERE id IN (SELECT id FROM reminders WHERE mail_state = 'pending' AND mail_next_at <= to_timestamp($1::double precision)
                             ORDER BY mail_next_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
                RETURNING id, mail_to, title, body, mail_attempts
                """, [now.timeIntervalSince1970, Double(lease.components.seconds), limit])
            return try rows.map { r in
                Mail(id: try rows.int(r, 0), to: try rows.text(r, 1), title: try rows.text(r, 2), body: try rows.text(r, 3),
                     attempts: try rows.int(r, 4))
            }
        }
    }

    /// Records an attempt: sent, or failed with `error` and retried after a backoff that
    /// doubles from a minute up to an hour. A mail is never given up.
    public func recordAttempt(_ id: Int, error: String?, now: Date) async throws {
        try await pool.withConnection { db -> Void in
            if let error {
                try db.query("""
                    UPDATE reminders SET mail_attempts = mail_attempts + 1, mail_last_error = $2,
                           mail_next_at = to_timestamp($3::double precision) + make_interval(mins => least(60, power(2, mail_attempts)::integer))
                    WHERE id = $1
                    """, [id, error, now.timeIntervalSince1970])
            } else {
                try db.query("""
                    UPDATE reminders SET mail_state = 'sent', mail_attempts = mail_attempts + 1, mail_sent_at = to_timestamp($2::double precision),
                           mail_next_at = NULL
                    WHERE id = $1
                    """, [id, now.timeIntervalSince1970])
            }
        }
    }
}
