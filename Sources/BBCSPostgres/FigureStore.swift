import BBCSCore
import Foundation

/// Figures and targets: submission, correction as new revisions, validation, what is due,
/// and target changes, each checked against the permission policy and the figure rules
/// and audited in its own transaction.
public struct FigureStore: Sendable {
    let pool: PGPool
    /// Days after a period ends before its figure is due (and late after); read at each
    /// request, so a configuration reload applies at once.
    let graceDays: @Sendable () -> Int

    public init(pool: PGPool, graceDays: @escaping @Sendable () -> Int) {
        self.pool = pool
        self.graceDays = graceDays
    }

    /// Stores the first figure for a period.
    public func submit(code: String, period: Period, value: Double, note: String?, by actor: Actor) async throws -> (String, PeriodStatus) {
        let graceDays = self.graceDays()
        return try await pool.transaction(confirming: actor) { db, actor in
            let indicator = try IndicatorFacts.forFigureChange(code, period: period, value: value, by: actor, db)
            if let current = try currentRevision(indicator.id, period, db) {
                throw StoreError.conflict("""
                    \(indicator.code) \(period) already has a figure (revision \(current.revision): \(FigureRules.format(current.value)) \
                    from \(current.submittedBy))
                    """, hint: indicator.hint("figure.correct", period, revision: current.revision))
            }
            let target = try indicator.target(for: period, db)
            let rag = Performance.rag(value: value, target: target, polarity: indicator.polarity, tolerance: indicator.tolerance)
            try FigureRules.checkNote(note, rag: rag, value: value, target: target)
            let late = actor.today > Performance.dueDate(of: period, graceDays: graceDays)
            try insertRevision(indicator, period, revision: 1, value: value, note: note, reason: nil, late: late, actor, db)
            let stored = try storedRevision(indicator.id, period, db)
            try AuditLog.record(db, actor, object: indicator.code, after: stored,
                                message: "\(period): \(FigureRules.format(value))" + (late ? " (late)" : ""))
            return (indicator.code, try indicator.status(of: period, db))
        }
    }

    /// Stores a new revision of a period's figure. `revision` must be the current one.
    public func correct(code: String, period: Period, value: Double, reason: String, revision: Int, note: String?,
                        by actor: Actor) async throws -> (String, PeriodStatus) {
        try await pool.transaction(confirming: actor) { db, actor in
            let indicator = try IndicatorFacts.forFigureChange(code, period: period, value: value, by: actor, db)
            guard !reason.allSatisfy(\.isWhitespace) else {
                throw StoreError.invalid(param: "reason", "a correction needs a reason")
            }
            guard let current = try currentRevision(indicator.id, period, db) else {
                throw StoreError.conflict("\(indicator.code) \(period) has no figure to correct", hint: indicator.hint("figure.submit", period))
            }
            guard current.revision == revision else {
                throw StoreError.conflict("""
                    revision \(revision) of \(indicator.code) \(period) is no longer current: revision \(current.revision) \
                    (\(FigureRules.format(current.value)) from \(current.submittedBy)) is
                    """, hint: indicator.hint("figure.history", period))
            }
            let note = note ?? current.note
            let target = try indicator.target(for: period, db)
            let rag = Performance.rag(value: value, target: target, polarity: indicator.polarity, tolerance: indicator.tolerance)
            try FigureRules.checkNote(note, rag: rag, value: value, target: target)
            try insertRevision(indicator, period, revision: current.revision + 1, value: value, note: note,
                               reason: reason, late: current.late, actor, db)
            let stored = try storedRevision(indicator.id, period, db)
            try AuditLog.record(db, actor, object: indicator.code, before: current, after: stored,
                                message: "\(period): \(FigureRules.format(current.value)) → \(FigureRules.format(value))")
            return (indicator.code, try indicator.status(of: period, db))
        }
    }

    /// Marks a period's current revision checked by the actor (an administrator).
    public func validate(code: String, period: Period, revision: Int?, by actor: Actor) async throws -> (String, PeriodStatus) {
        try await pool.transaction(confirming: actor) { db, actor in
            let indicator = try IndicatorFacts.load(code, db)
            // A figure kept from before a re-import changed the indicator's frequency or the
            // plan's years is history: it can be read, not validated.
            try FigureRules.checkPeriod(period, frequency: indicator.frequency, firstYear: indicator.firstYear,
                                        lastYear: indicator.lastYear, endedBy: nil)
            guard let current = try currentRevision(indicator.id, period, db) else {
                throw StoreError.notFound(kind: "figure of \(indicator.code) for", key: period.description)
            }
            if let revision, revision != current.revision {
                throw StoreError.conflict("revision \(revision) of \(indicator.code) \(period) is no longer current: revision \(current.revision) is",
                                          hint: indicator.hint("figure.history", period))
            }
            if current.validatedBy == nil {
                try db.execute("""
                    INSERT INTO figure_validations (figure_id, validated_by, validated_at)
                    SELECT id, \(actor.principal.login), \(timestamp(actor.recordedAt)) FROM figures
                    WHERE indicator_id = \(indicator.id) AND period = \(period) AND revision = \(current.revision)
                    """)
                let stored = try storedRevision(indicator.id, period, db)
                try AuditLog.record(db, actor, object: indicator.code, before: current, after: stored,
                                    message: "\(period): revision \(current.revision) validated")
            }
            return (indicator.code, try indicator.status(of: period, db))
        }
    }

    /// Every revision of an indicator's figures (of one period if given), oldest first.
    public func history(code: String, period: Period?) async throws -> (String, [FigureRevision]) {
        try await pool.withConnection { db in
            let indicator = try IndicatorFacts.load(code, db)
            let revisions = try db.rows(FigureRevision.self, """
                \(revisionQuery()) WHERE f.indicator_id = \(indicator.id) AND (\(period)::text IS NULL OR f.period = \(period))
                ORDER BY f.period, f.revision
                """)
            // History is always readable: a period outside the plan's years is refused only
            // when nothing is stored there (figures kept from before a re-import stay).
            if let period, revisions.isEmpty {
                try FigureRules.checkWithinPlan(period, firstYear: indicator.firstYear, lastYear: indicator.lastYear)
            }
            return (indicator.code, revisions.sorted { ($0.period, $0.revision) < ($1.period, $1.revision) })
        }
    }

    /// Figures owed by `posts` (every post's when nil) for periods begun by `today`, without a figure.
    public func due(posts: [String]?, today: CalendarDate) async throws -> [DueFigure] {
        let graceDays = self.graceDays()
        return try await pool.withConnection { db in
            let postIDs = try posts.map { try $0.map { try resolvePost($0, db) } }
            let indicators = try UnfilledPeriods.load(where: """
                \(postIDs)::bigint[] IS NULL OR i.owner_post_id = ANY(\(postIDs)::bigint[])
                """, db)
            var owed: [DueFigure] = []
            for row in indicators {
                for p in row.periods where p.start <= today {
                    let dueDate = Performance.dueDate(of: p, graceDays: graceDays)
                    owed.append(DueFigure(indicator: row.code, title: row.title, ownerPost: row.ownerPost,
                                          period: p, dueDate: dueDate, overdue: today > dueDate, open: p.end >= today))
                }
            }
            return owed.sorted { ($0.dueDate, $0.indicator) < ($1.dueDate, $1.indicator) }
        }
    }

    /// Sets a period's target (and optionally the indicator's tolerance), keeping the change.
    public func setTarget(code: String, period: Period, value: Double, tolerance: Double?, reason: String,
                          by actor: Actor) async throws -> (String, TargetChange) {
        try await pool.transaction(confirming: actor) { db, actor in
            let indicator = try IndicatorFacts.load(code, db)
            try FigureRules.checkTargetPeriod(period, frequency: indicator.frequency, firstYear: indicator.firstYear, lastYear: indicator.lastYear)
            try FigureRules.checkValue(value, unit: indicator.unit)
            if let tolerance { try FigureRules.checkTolerance(tolerance) }
            guard !reason.allSatisfy(\.isWhitespace) else { throw StoreError.invalid(param: "reason", "a target change needs a reason") }
            let oldValue = try db.first(Double.self, """
                SELECT value FROM indicator_values WHERE indicator_id = \(indicator.id) AND kind = 'target' AND period = \(period) FOR UPDATE
                """)
            try db.execute("""
                INSERT INTO indicator_values (indicator_id, kind, period, value, set_by_admin) VALUES (\(indicator.id), 'target', \(period), \(value), true)
                ON CONFLICT (indicator_id, kind, period) DO UPDATE SET value = EXCLUDED.value, set_by_admin = true
                """)
            if let tolerance {
                try db.execute("UPDATE indicators SET tolerance = \(tolerance), tolerance_set_by_admin = true WHERE id = \(indicator.id)")
            }
            let newTolerance = tolerance ?? indicator.tolerance
            let change = try db.one(TargetChange.self, """
                INSERT INTO target_changes (indicator_id, period, old_value, new_value, old_tolerance, new_tolerance, reason, changed_by, changed_at)
                VALUES (\(indicator.id), \(period), \(oldValue), \(value), \(indicator.tolerance), \(newTolerance), \(reason),
                        \(actor.principal.login), \(timestamp(actor.recordedAt)))
                RETURNING \(Self.targetChangeColumns)
                """)
            try AuditLog.record(db, actor, object: indicator.code, before: ["value": oldValue, "tolerance": indicator.tolerance],
                                after: ["value": value, "tolerance": newTolerance], message: "target \(period): \(reason)")
            return (indicator.code, change)
        }
    }

    /// Every change of an indicator's targets, oldest first.
    public func targetHistory(code: String) async throws -> (String, [TargetChange]) {
        try await pool.withConnection { db in
            let indicator = try IndicatorFacts.load(code, db)
            return (indicator.code, try Self.targetChanges(indicator.id, db))
        }
    }

    private static let targetChangeColumns: PGQuery = """
        period, old_value, new_value, old_tolerance, new_tolerance, reason, changed_by, \(londonTime("changed_at")) AS changed_at
        """

    private static func targetChanges(_ indicatorID: Int, _ db: PGConnection) throws -> [TargetChange] {
        try db.rows(TargetChange.self, "SELECT \(targetChangeColumns) FROM target_changes WHERE indicator_id = \(indicatorID) ORDER BY id")
    }

    private func insertRevision(_ indicator: IndicatorFacts, _ period: Period, revision: Int, value: Double, note: String?,
                                reason: String?, late: Bool, _ actor: Actor, _ db: PGConnection) throws {
        do {
            try db.execute("""
                INSERT INTO figures (indicator_id, period, revision, value, note, reason, submitted_by, submitted_uid, submitted_at, late)
                VALUES (\(indicator.id), \(period), \(revision), \(value), \(note), \(reason), \(actor.principal.login),
                        \(actor.principal.uid), \(timestamp(actor.recordedAt)), \(late))
                """)
        } catch let error as PGError where error.isConflict {
            throw StoreError.conflict("someone else stored revision \(revision) of \(indicator.code) \(period) at the same moment",
                                      hint: indicator.hint("figure.history", period))
        }
    }

    private func currentRevision(_ indicatorID: Int, _ period: Period, _ db: PGConnection) throws -> FigureRevision? {
        try db.first(FigureRevision.self, """
            \(revisionQuery()) WHERE f.indicator_id = \(indicatorID) AND f.period = \(period) ORDER BY f.revision DESC LIMIT 1
            """)
    }

    /// The current revision just written in this transaction.
    private func storedRevision(_ indicatorID: Int, _ period: Period, _ db: PGConnection) throws -> FigureRevision {
        guard let stored = try currentRevision(indicatorID, period, db) else {
            throw PGError.unexpectedResult("the figure just stored is not there")
        }
        return stored
    }
}

/// The SELECT of figure revisions with their validation, for a WHERE to follow; its rows
/// decode as `FigureRevision`, or as `Owned<Int, FigureRevision>` with the indicator's id.
/// With `currentOnly`, one row per indicator and period (order by indicator_id, period,
/// revision DESC so it is the latest).
func revisionQuery(currentOnly: Bool = false) -> PGQuery {
    let distinct: PGQuery = currentOnly ? "DISTINCT ON (f.indicator_id, f.period) " : ""
    return """
        SELECT \(distinct)f.indicator_id AS owner, f.period, f.revision, f.value, f.note, f.reason, f.submitted_by,
               \(londonTime("f.submitted_at")) AS submitted_at, f.late, v.validated_by, \(londonTime("v.validated_at")) AS validated_at
        FROM figures f LEFT JOIN figure_validations v ON v.figure_id = f.id
        """
}

/// An indicator's periods over its plan that have no figure yet.
struct UnfilledPeriods: Decodable {
    let code: String
    let title: String
    let ownerPostID: Int
    let ownerPost: String
    let frequency: Frequency
    let firstYear: Period
    let lastYear: Period
    /// The periods with a figure.
    let filled: Set<String>

    /// The periods without one, in order.
    var periods: [Period] {
        Performance.periods(frequency: frequency, firstYear: firstYear, lastYear: lastYear).filter { !filled.contains($0.description) }
    }

    /// Every indicator matching `condition` (over `indicators i`), in the plan's order.
    static func load(where condition: PGQuery, _ db: PGConnection) throws -> [UnfilledPeriods] {
        try db.rows(UnfilledPeriods.self, """
            SELECT i.code, i.title, i.owner_post_id, p.name AS owner_post, i.frequency, pl.first_year, pl.last_year,
                   coalesce((SELECT json_agg(DISTINCT f.period) FROM figures f WHERE f.indicator_id = i.id), '[]') AS filled
            FROM indicators i JOIN posts p ON p.id = i.owner_post_id JOIN plans pl ON pl.id = i.plan_id
            WHERE \(condition) ORDER BY i.plan_id, i.position
            """)
    }
}

/// What the figure rules and the status need to know about one indicator.
struct IndicatorFacts: Decodable {
    let id: Int
    let code: String
    let unit: IndicatorUnit
    let polarity: Polarity
    let frequency: Frequency
    let tolerance: Double?
    let ownerPost: String
    let firstYear: Period
    let lastYear: Period

    /// The SELECT of the facts, for a WHERE over `indicators i` to follow.
    static let columns: PGQuery = """
        SELECT i.id, i.code, i.unit, i.polarity, i.frequency, i.tolerance, p.name AS owner_post, pl.first_year, pl.last_year
        FROM indicators i JOIN posts p ON p.id = i.owner_post_id JOIN plans pl ON pl.id = i.plan_id
        """

    static func load(_ code: String, _ db: PGConnection) throws -> IndicatorFacts {
        try db.one(IndicatorFacts.self, "\(columns) WHERE i.id = \(try resolveIndicator(code, db))")
    }

    /// `method` with this indicator's code and `period` (and `revision` if given) as its parameters.
    func hint(_ method: String, _ period: Period, revision: Int? = nil) -> Hint {
        var parameters = ["code": code, "period": period.description]
        parameters["revision"] = revision.map(String.init)
        return Hint(method, parameters)
    }

    /// The indicator, once the actor may change its figures (permission first, so a refusal
    /// reveals nothing about the input) and `period` and `value` suit it.
    static func forFigureChange(_ code: String, period: Period, value: Double, by actor: Actor, _ db: PGConnection) throws -> IndicatorFacts {
        let indicator = try load(code, db)
        if let denial = Policy.mayChange(ownedBy: [indicator.ownerPost], what: "figures of \(indicator.code)", actor.principal) {
            throw denial
        }
        try FigureRules.checkPeriod(period, frequency: indicator.frequency, firstYear: indicator.firstYear,
                                    lastYear: indicator.lastYear, endedBy: actor.today)
        try FigureRules.checkValue(value, unit: indicator.unit)
        return indicator
    }

    func target(for period: Period, _ db: PGConnection) throws -> Double? {
        Performance.target(for: period, unit: unit, targets: try IndicatorStatuses.values(of: [id], kind: "target", db)[id] ?? [:])?.value
    }

    func status(of period: Period, _ db: PGConnection) throws -> PeriodStatus {
        guard let status = try IndicatorStatuses.load([id], db)[id]?.first(where: { $0.period == period }) else {
            throw PGError.unexpectedResult("no status for a period of the indicator")
        }
        return status
    }
}

private struct IndicatorValue: Decodable {
    let indicatorID: Int
    let period: Period
    let value: Double
}

/// Targets, actuals and current figures turned into per-period statuses.
enum IndicatorStatuses {
    /// Statuses of the indicators with `ids` (every indicator when nil), keyed by id; with
    /// `since`, figures of earlier years are left out (a report needs no older history).
    static func load(_ ids: [Int]?, since: Period? = nil, _ db: PGConnection) throws -> [Int: [PeriodStatus]] {
        let indicators = try db.rows(IndicatorFacts.self, """
            \(IndicatorFacts.columns) WHERE \(ids)::bigint[] IS NULL OR i.id = ANY(\(ids)::bigint[])
            """)
        let targets = try values(of: ids, kind: "target", db)
        let actuals = try values(of: ids, kind: "actual", db)
        let current = try db.rows(Owned<Int, FigureRevision>.self, """
            \(revisionQuery(currentOnly: true))
            WHERE (\(ids)::bigint[] IS NULL OR f.indicator_id = ANY(\(ids)::bigint[])) AND (\(since?.year)::text IS NULL OR f.period >= \(since?.year))
            ORDER BY f.indicator_id, f.period, f.revision DESC
            """)
        var figures: [Int: [Period: FigureRevision]] = [:]
        for row in current { figures[row.owner, default: [:]][row.record.period] = row.record }
        var statuses: [Int: [PeriodStatus]] = [:]
        for indicator in indicators {
            let id = indicator.id
            statuses[id] = Performance.statuses(
                unit: indicator.unit, polarity: indicator.polarity, frequency: indicator.frequency, tolerance: indicator.tolerance,
                targets: targets[id] ?? [:], actuals: actuals[id] ?? [:], figures: figures[id] ?? [:],
                firstYear: indicator.firstYear, lastYear: indicator.lastYear)
        }
        return statuses
    }

    /// The plan's (or an administrator's) values of `kind` ("target" or "actual") by period.
    static func values(of ids: [Int]?, kind: String, _ db: PGConnection) throws -> [Int: [Period: Double]] {
        let rows = try db.rows(IndicatorValue.self, """
            SELECT indicator_id, period, value FROM indicator_values
            WHERE kind = \(kind) AND (\(ids)::bigint[] IS NULL OR indicator_id = ANY(\(ids)::bigint[]))
            """)
        var values: [Int: [Period: Double]] = [:]
        for row in rows { values[row.indicatorID, default: [:]][row.period] = row.value }
        return values
    }
}
