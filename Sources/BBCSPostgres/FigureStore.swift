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
        return try await pool.transaction { db in
            let indicator = try IndicatorFacts.forFigureChange(code, period: period, value: value, by: actor, db)
            if let current = try currentRevision(indicator.id, period, db) {
                throw StoreError.conflict("""
                    \(indicator.code) \(period) already has a figure (revision \(current.revision): \(FigureRules.format(current.value)) \
                    from \(current.submittedBy)); to change it, run: bbcsctl figure correct \(indicator.code) "\(period)" VALUE --reason TEXT
                    """, hint: "figure.correct")
            }
            let target = try indicator.target(for: period, db)
            let rag = Performance.rag(value: value, target: target, polarity: indicator.polarity, tolerance: indicator.tolerance)
            try FigureRules.checkNote(note, rag: rag, value: value, target: target)
            let late = actor.today > Performance.dueDate(of: period, graceDays: graceDays)
            try insertRevision(indicator, period, revision: 1, value: value, note: note, reason: nil, late: late, actor, db)
            let stored = try currentRevision(indicator.id, period, db)!
            try AuditLog.record(db, actor, object: indicator.code, after: stored,
                                message: "\(period): \(FigureRules.format(value))" + (late ? " (late)" : ""))
            return (indicator.code, try indicator.status(of: period, db))
        }
    }

    /// Stores a new revision of a period's figure. `revision` must be the current one.
    public func correct(code: String, period: Period, value: Double, reason: String, revision: Int, note: String?,
                        by actor: Actor) async throws -> (String, PeriodStatus) {
        try await pool.transaction { db in
            let indicator = try IndicatorFacts.forFigureChange(code, period: period, value: value, by: actor, db)
            guard !reason.allSatisfy(\.isWhitespace) else {
                throw StoreError.invalid(param: "reason", "a correction needs a reason")
            }
            guard let current = try currentRevision(indicator.id, period, db) else {
                throw StoreError.conflict("\(indicator.code) \(period) has no figure to correct; submit one with: bbcsctl figure submit",
                                          hint: "figure.submit")
            }
            guard current.revision == revision else {
                throw StoreError.conflict("""
                    revision \(revision) of \(indicator.code) \(period) is no longer current: revision \(current.revision) \
                    (\(FigureRules.format(current.value)) from \(current.submittedBy)) is; read bbcsctl figure history and retry
                    """, hint: "figure.history")
            }
            try insertRevision(indicator, period, revision: current.revision + 1, value: value, note: note ?? current.note,
                               reason: reason, late: current.late, actor, db)
            let stored = try currentRevision(indicator.id, period, db)!
            try AuditLog.record(db, actor, object: indicator.code, before: current, after: stored,
                                message: "\(period): \(FigureRules.format(current.value)) → \(FigureRules.format(value))")
            return (indicator.code, try indicator.status(of: period, db))
        }
    }

    /// Marks a period's current revision checked by the actor (an administrator).
    public func validate(code: String, period: Period, revision: Int?, by actor: Actor) async throws -> (String, PeriodStatus) {
        try await pool.transaction { db in
            let indicator = try IndicatorFacts.load(code, db)
            guard let current = try currentRevision(indicator.id, period, db) else {
                throw StoreError.notFound(kind: "figure of \(indicator.code) for", key: period.description)
            }
            if let revision, revision != current.revision {
                throw StoreError.conflict("revision \(revision) of \(indicator.code) \(period) is no longer current: revision \(current.revision) is",
                                          hint: "figure.history")
            }
            if current.validatedBy == nil {
                try db.query("""
                    INSERT INTO figure_validations (figure_id, validated_by, validated_at)
                    SELECT id, $4, to_timestamp($5::double precision) FROM figures WHERE indicator_id = $1 AND period = $2 AND revision = $3
                    """, [indicator.id, period.description, current.revision, actor.principal.login, actor.epochSeconds])
                let stored = try currentRevision(indicator.id, period, db)!
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
            let rows = try db.query(revisionQuery() + """
                 WHERE f.indicator_id = $1 AND ($2::text IS NULL OR f.period = $2) ORDER BY f.period, f.revision
                """, [indicator.id, period?.description])
            let revisions = try rows.map { try revision(rows, $0) }
            return (indicator.code, revisions.sorted { ($0.period, $0.revision) < ($1.period, $1.revision) })
        }
    }

    /// Figures owed by `posts` (every post's when nil) for periods begun by `today`, without a figure.
    public func due(posts: [String]?, today: CalendarDate) async throws -> [DueFigure] {
        let graceDays = self.graceDays()
        return try await pool.withConnection { db in
            let postIDs = try posts.map { try $0.map { try resolvePost($0, db) } }
            let rows = try db.query("""
                SELECT i.code, i.title, p.name, i.frequency, pl.first_year, pl.last_year,
                       coalesce((SELECT json_agg(DISTINCT f.period) FROM figures f WHERE f.indicator_id = i.id), '[]')::text
                FROM indicators i JOIN posts p ON p.id = i.owner_post_id JOIN plans pl ON pl.id = i.plan_id
                WHERE $1::bigint[] IS NULL OR i.owner_post_id = ANY($1::bigint[])
                ORDER BY i.plan_id, i.position
                """, [postIDs.map(pgArray)])
            var owed: [DueFigure] = []
            for r in 0..<rows.count {
                let filled = Set(try decodeJSON(rows.text(r, 6)) as [String])
                let periods = Performance.periods(frequency: try enumValue(rows.text(r, 3)), firstYear: try period(rows.text(r, 4)),
                                                  lastYear: try period(rows.text(r, 5)))
                for p in periods where p.start <= today && !filled.contains(p.description) {
                    let dueDate = Performance.dueDate(of: p, graceDays: graceDays)
                    owed.append(DueFigure(indicator: try rows.text(r, 0), title: try rows.text(r, 1), ownerPost: try rows.text(r, 2),
                                          period: p, dueDate: dueDate, overdue: today > dueDate, open: p.end > today))
                }
            }
            return owed.sorted { ($0.dueDate, $0.indicator) < ($1.dueDate, $1.indicator) }
        }
    }

    /// Sets a period's target (and optionally the indicator's tolerance), keeping the change.
    public func setTarget(code: String, period: Period, value: Double, tolerance: Double?, reason: String,
                          by actor: Actor) async throws -> (String, TargetChange) {
        try await pool.transaction { db in
            let indicator = try IndicatorFacts.load(code, db)
            try FigureRules.checkTargetPeriod(period, frequency: indicator.frequency, firstYear: indicator.firstYear, lastYear: indicator.lastYear)
            try FigureRules.checkValue(value, unit: indicator.unit)
            if let tolerance, !(tolerance >= 0 && tolerance <= 100) {
                throw StoreError.invalid(param: "tolerance", "tolerance is a percentage of target from 0 to 100")
            }
            guard !reason.allSatisfy(\.isWhitespace) else { throw StoreError.invalid(param: "reason", "a target change needs a reason") }
            let old = try db.query("""
                SELECT value FROM indicator_values WHERE indicator_id = $1 AND kind = 'target' AND period = $2 FOR UPDATE
                """, [indicator.id, period.description])
            let oldValue = old.count > 0 ? old.double(0, 0) : nil
            try db.query("""
                INSERT INTO indicator_values (indicator_id, kind, period, value, set_by_admin) VALUES ($1, 'target', $2, $3, true)
                ON CONFLICT (indicator_id, kind, period) DO UPDATE SET value = EXCLUDED.value, set_by_admin = true
                """, [indicator.id, period.description, value])
            if let tolerance {
                try db.query("UPDATE indicators SET tolerance = $2, tolerance_set_by_admin = true WHERE id = $1", [indicator.id, tolerance])
            }
            let newTolerance = tolerance ?? indicator.tolerance
            try db.query("""
                INSERT INTO target_changes (indicator_id, period, old_value, new_value, old_tolerance, new_tolerance, reason, changed_by, changed_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9::double precision))
                """, [indicator.id, period.description, oldValue, value, indicator.tolerance, newTolerance, reason,
                      actor.principal.login, actor.epochSeconds])
            try AuditLog.record(db, actor, object: indicator.code, before: ["value": oldValue, "tolerance": indicator.tolerance],
                                after: ["value": value, "tolerance": newTolerance], message: "target \(period): \(reason)")
            return (indicator.code, try Self.targetChanges(indicator.id, db).last!)
        }
    }

    /// Every change of an indicator's targets, oldest first.
    public func targetHistory(code: String) async throws -> (String, [TargetChange]) {
        try await pool.withConnection { db in
            let indicator = try IndicatorFacts.load(code, db)
            return (indicator.code, try Self.targetChanges(indicator.id, db))
        }
    }

    private static func targetChanges(_ indicatorID: Int, _ db: PGConnection) throws -> [TargetChange] {
        let rows = try db.query("""
            SELECT period, old_value, new_value, old_tolerance, new_tolerance, reason, changed_by,
                   to_char(changed_at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD"T"HH24:MI:SS')
            FROM target_changes WHERE indicator_id = $1 ORDER BY id
            """, [indicatorID])
        return try rows.map { r in
            TargetChange(period: try period(rows.text(r, 0)), oldValue: rows.double(r, 1), newValue: rows.double(r, 2) ?? 0,
                         oldTolerance: rows.double(r, 3), newTolerance: rows.double(r, 4), reason: try rows.text(r, 5),
                         changedBy: try rows.text(r, 6), changedAt: try rows.text(r, 7))
        }
    }

    private func insertRevision(_ indicator: IndicatorFacts, _ period: Period, revision: Int, value: Double, note: String?,
                                reason: String?, late: Bool, _ actor: Actor, _ db: PGConnection) throws {
        do {
            try db.query("""
                INSERT INTO figures (indicator_id, period, revision, value, note, reason, submitted_by, submitted_uid, submitted_at, late)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9::double precision), $10)
                """, [indicator.id, period.description, revision, value, note, reason, actor.principal.login,
                      actor.principal.uid, actor.epochSeconds, late])
        } catch let error as PGError where error.isConflict {
            throw StoreError.conflict("""
                someone else stored revision \(revision) of \(indicator.code) \(period) at the same moment; \
                read bbcsctl figure history and retry
                """, hint: "figure.history")
        }
    }

    private func currentRevision(_ indicatorID: Int, _ period: Period, _ db: PGConnection) throws -> FigureRevision? {
        let rows = try db.query(revisionQuery() + " WHERE f.indicator_id = $1 AND f.period = $2 ORDER BY f.revision DESC LIMIT 1",
                                [indicatorID, period.description])
        return rows.count == 0 ? nil : try revision(rows, 0)
    }
}

/// The SELECT of figure revisions with their validation, for a WHERE to follow;
/// `revision(_:_:)` reads its rows. With `currentOnly`, one row per indicator and period
/// (order by indicator_id, period, revision DESC so it is the latest).
func revisionQuery(currentOnly: Bool = false) -> String {
    """
    SELECT \(currentOnly ? "DISTINCT ON (f.indicator_id, f.period) " : "")f.period, f.revision, f.value, f.note, f.reason, f.submitted_by,
           to_char(f.submitted_at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD"T"HH24:MI:SS'), f.late, v.validated_by,
           to_char(v.validated_at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD"T"HH24:MI:SS'), f.indicator_id
    FROM figures f LEFT JOIN figure_validations v ON v.figure_id = f.id
    """
}

func revision(_ rows: PGResult, _ r: Int) throws -> FigureRevision {
    FigureRevision(period: try period(rows.text(r, 0)), revision: try rows.int(r, 1), value: rows.double(r, 2) ?? 0,
                   note: rows.string(r, 3), reason: rows.string(r, 4), submittedBy: try rows.text(r, 5),
                   submittedAt: try rows.text(r, 6), late: rows.bool(r, 7), validatedBy: rows.string(r, 8),
                   validatedAt: rows.string(r, 9))
}

/// What the figure rules and the status need to know about one indicator.
struct IndicatorFacts {
    let id: Int
    let code: String
    let unit: IndicatorUnit
    let polarity: Polarity
    let frequency: Frequency
    let tolerance: Double?
    let ownerPost: String
    let firstYear: Period
    let lastYear: Period

    static func load(_ code: String, _ db: PGConnection) throws -> IndicatorFacts {
        let id = try resolveIndicator(code, db)
        let rows = try db.query("""
            SELECT i.code, i.unit, i.polarity, i.frequency, i.tolerance, p.name, pl.first_year, pl.last_year
            FROM indicators i JOIN posts p ON p.id = i.owner_post_id JOIN plans pl ON pl.id = i.plan_id WHERE i.id = $1
            """, [id])
        return IndicatorFacts(id: id, code: try rows.text(0, 0), unit: try enumValue(rows.text(0, 1)),
                              polarity: try enumValue(rows.text(0, 2)), frequency: try enumValue(rows.text(0, 3)),
                              tolerance: rows.double(0, 4), ownerPost: try rows.text(0, 5),
                              firstYear: try period(rows.text(0, 6)), lastYear: try period(rows.text(0, 7)))
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
        try IndicatorStatuses.load([id], db)[id]!.first { $0.period == period }!
    }
}

/// Targets, actuals and current figures turned into per-period statuses.
enum IndicatorStatuses {
    /// Statuses of the indicators with `ids` (every indicator when nil), keyed by id; with
    /// `since`, figures of earlier years are left out (a report needs no older history).
    static func load(_ ids: [Int]?, since: Period? = nil, _ db: PGConnection) throws -> [Int: [PeriodStatus]] {
        let idArray = ids.map(pgArray)
        let indicators = try db.query("""
            SELECT i.id, i.unit, i.polarity, i.frequency, i.tolerance, pl.first_year, pl.last_year
            FROM indicators i JOIN plans pl ON pl.id = i.plan_id WHERE $1::bigint[] IS NULL OR i.id = ANY($1::bigint[])
            """, [idArray])
        let targets = try values(of: ids, kind: "target", db)
        let actuals = try values(of: ids, kind: "actual", db)
        let figureRows = try db.query(revisionQuery(currentOnly: true) + """
             WHERE ($1::bigint[] IS NULL OR f.indicator_id = ANY($1::bigint[])) AND ($2::text IS NULL OR f.period >= $2)
             ORDER BY f.indicator_id, f.period, f.revision DESC
            """, [idArray, since?.year.description])
        var figures: [Int: [Period: FigureRevision]] = [:]
        for r in 0..<figureRows.count {
            let figure = try revision(figureRows, r)
            figures[try figureRows.int(r, 10), default: [:]][figure.period] = figure
        }
        var statuses: [Int: [PeriodStatus]] = [:]
        for r in 0..<indicators.count {
            let id = try indicators.int(r, 0)
            statuses[id] = Performance.statuses(
                unit: try enumValue(indicators.text(r, 1)), polarity: try enumValue(indicators.text(r, 2)),
                frequency: try enumValue(indicators.text(r, 3)), tolerance: indicators.double(r, 4),
                targets: targets[id] ?? [:], actuals: actuals[id] ?? [:], figures: figures[id] ?? [:],
                firstYear: try period(indicators.text(r, 5)), lastYear: try period(indicators.text(r, 6)))
        }
        return statuses
    }

    /// The plan's (or an administrator's) values of `kind` ("target" or "actual") by period.
    static func values(of ids: [Int]?, kind: String, _ db: PGConnection) throws -> [Int: [Period: Double]] {
        let rows = try db.query("""
            SELECT indicator_id, period, value FROM indicator_values
            WHERE kind = $2 AND ($1::bigint[] IS NULL OR indicator_id = ANY($1::bigint[]))
            """, [ids.map(pgArray), kind])
        var values: [Int: [Period: Double]] = [:]
        for r in 0..<rows.count {
            values[try rows.int(r, 0), default: [:]][try period(rows.text(r, 1))] = rows.double(r, 2)
        }
        return values
    }
}
