import BBCSCore
import Foundation

/// Figures and targets: new revisions, validations and target changes as the use cases
/// decided them, each written in one guarded statement with its audit and change rows; their
/// histories and what is due.
public struct FigureStore: Sendable {
    let pool: PGPool
    /// Days after a period ends before its figure is due (and late after); read at each
    /// request, so a configuration reload applies at once.
    let graceDays: @Sendable () -> Int

    public init(pool: PGPool, graceDays: @escaping @Sendable () -> Int) {
        self.pool = pool
        self.graceDays = graceDays
    }

    /// The indicator with `id` as the database has it now.
    public func state(id: Int) async throws -> IndicatorState {
        try await pool.withConnection { db in try Self.state(id: id, db) }
    }

    private static func state(id: Int, _ db: PGConnection) throws -> IndicatorState {
        guard let state = try PlanStateLoader.indicators([id], db).first else { throw StoreError.notFound(kind: "indicator", key: "\(id)") }
        return state
    }

    /// Writes a figure's new revision (submit, correct) or its validation in one statement,
    /// with its audit and change rows, if the database still holds what the decision saw: the
    /// actor active and holding the owner post (or admin) today, the indicator's owner and
    /// frequency, and the period's current revision.
    public func write(_ decision: FigureDecision, by actor: Actor) async throws -> GuardedWrite {
        try await pool.guardedWrite { key in Self.statement(decision, by: actor, storing: key) }
    }

    /// Writes every decision of a figures import in one transaction, in three statements
    /// whatever their number: the caller confirmed and judged again for each line, then every
    /// figure's indicator (owner, frequency) and current revision checked against what its
    /// first decision saw, then the revisions, audit rows and change rows inserted from one
    /// JSON document. All or none: a line the caller may no longer write, a figure changed
    /// meanwhile (or a revision another writer takes at the same moment: a unique violation)
    /// refuses the whole file. The seq of the last change.
    public func writeAll(_ decisions: [(line: Int, decision: FigureDecision)], by actor: Actor) async throws -> Int64? {
        guard !decisions.isEmpty else { return nil }
        // The first decision of each figure names the revision the database must still have;
        // the later ones follow from it inside this transaction.
        var seen = Set<String>()
        let rows = decisions.enumerated().map { n, item -> JSONValue in
            let d = item.decision, r = d.revision
            let first = seen.insert("\(d.indicatorID)\u{0}\(d.period)").inserted
            func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
            return .object([
                "n": .number(Double(n)), "line": .number(Double(item.line)), "indicator_id": .number(Double(d.indicatorID)),
                "period": .string(d.period.description), "frequency": .string(d.frequency.rawValue),
                "owner_post_id": .number(Double(d.after.ownerPostID)), "expected": first ? .number(Double(d.expectedRevision)) : .null,
                "revision": .number(Double(r.revision)), "value": .number(r.value), "note": text(r.note), "reason": text(r.reason),
                "late": .bool(r.late), "provisional": .bool(r.provisional), "forecast": r.forecast.map(JSONValue.number) ?? .null,
                "kind": .string(d.kind.rawValue), "detail": d.detail, "object": .string(AuditLog.bounded(d.audit.object, bytes: 200)),
                "before": d.audit.before ?? .null, "after": d.audit.after ?? .null, "message": text(d.audit.message),
            ])
        }
        let document = jsonText(JSONValue.array(rows))
        return try await pool.keyedTransaction(confirming: actor) { db, actor, key in
            let p = actor.principal
            for (line, d) in decisions {
                if let denial = Policy.mayChange(ownedBy: [d.after.ownerPost], what: "figures of \(d.code)", p) {
                    throw Denial("line \(line): \(denial.message); nothing was imported", missing: denial.missing)
                }
            }
            if let stale = try db.first(StaleLine.self, """
                SELECT r.line, i.code, r.period
                FROM jsonb_to_recordset(\(document)::jsonb) AS r(line integer, indicator_id bigint, period text, frequency text,
                                                                 owner_post_id bigint, expected integer)
                JOIN indicators i ON i.id = r.indicator_id
                WHERE i.frequency <> r.frequency OR i.owner_post_id <> r.owner_post_id
                   OR (r.expected IS NOT NULL AND r.expected <> coalesce(
                       (SELECT max(f.revision) FROM figures f WHERE f.indicator_id = r.indicator_id AND f.period = r.period), 0))
                ORDER BY r.line LIMIT 1
                """) {
                throw StoreError.conflict("line \(stale.line): \(stale.code) \(stale.period) changed while the file was imported; nothing was imported",
                                          hint: Hint("figure.history", ["code": stale.code, "period": stale.period]))
            }
            return try db.one(Int64.self, """
                WITH r AS (
                    SELECT * FROM jsonb_to_recordset(\(document)::jsonb) AS r(n integer, indicator_id bigint, period text, revision integer,
                        value numeric, note text, reason text, late boolean, provisional boolean, forecast numeric, kind text, detail jsonb,
                        object text, before jsonb, after jsonb, message text)),
                written AS (
                    INSERT INTO figures (indicator_id, period, revision, value, note, reason, submitted_by, submitted_uid, submitted_at, late,
                                         provisional, forecast)
                    SELECT indicator_id, period, revision, value, note, reason, \(p.login)::text, \(p.uid)::bigint, \(timestamp(actor.recordedAt)),
                           late, provisional, forecast
                    FROM r ORDER BY n),
                audited AS (
                    INSERT INTO audit (at, login, uid, pid, method, object, outcome, before, after, message)
                    SELECT \(timestamp(actor.recordedAt)), \(p.login)::text, \(p.uid)::bigint, \(p.pid)::integer, \(actor.method)::text,
                           object, 'ok', before, after, message
                    FROM r ORDER BY n),
                change AS (
                    INSERT INTO changes (kind, indicator_id, task_id, login, detail)
                    SELECT kind, indicator_id, NULL, \(p.login)::text, detail FROM r ORDER BY n RETURNING seq),
                last AS (SELECT max(seq) AS seq FROM change),
                keyed AS (\(key.insert(seqFrom: "last")))
                SELECT seq FROM last
                """)
        }
    }

    /// The first line of an import whose figure changed meanwhile.
    private struct StaleLine: Decodable {
        let line: Int
        let code: String
        let period: String
    }

    /// The guarded statement of one figure decision, storing `key` with its change.
    static func statement(_ decision: FigureDecision, by actor: Actor, storing key: RequestKey) -> PGQuery {
        let d = decision, r = decision.revision, p = actor.principal
        let written: PGQuery
        if d.kind == .figureValidated {
            written = """
                written AS (
                    INSERT INTO figure_validations (figure_id, validated_by, validated_at)
                    SELECT f.id, \(p.login)::text, \(timestamp(actor.recordedAt)) FROM figures f, allowed
                    WHERE f.indicator_id = \(d.indicatorID)::bigint AND f.period = \(d.period)::text AND f.revision = \(r.revision)::integer
                    ON CONFLICT (figure_id) DO NOTHING RETURNING figure_id)
                """
        } else {
            written = """
                written AS (
                    INSERT INTO figures (indicator_id, period, revision, value, note, reason, submitted_by, submitted_uid, submitted_at, late,
                                         provisional, forecast)
                    SELECT \(d.indicatorID)::bigint, \(d.period)::text, \(r.revision)::integer, \(r.value)::numeric, \(r.note)::text,
                           \(r.reason)::text, \(p.login)::text, \(p.uid)::bigint, \(timestamp(actor.recordedAt)), \(r.late)::boolean,
                           \(r.provisional)::boolean, \(r.forecast)::numeric
                    FROM allowed RETURNING id)
                """
        }
        return """
            WITH caller AS (\(actor.guardQuery(holdingAnyOf: d.ownerPostIDs))),
            latest AS (SELECT coalesce(max(revision), 0) AS revision FROM figures
                        WHERE indicator_id = \(d.indicatorID)::bigint AND period = \(d.period)::text),
            allowed AS (SELECT 1 FROM indicators i, latest
                        WHERE i.id = \(d.indicatorID)::bigint AND i.frequency = \(d.frequency)::text AND EXISTS (SELECT 1 FROM caller)
                          AND (cardinality(\(d.ownerPostIDs)::bigint[]) = 0 OR i.owner_post_id = ANY(\(d.ownerPostIDs)::bigint[]))
                          AND latest.revision = \(d.expectedRevision)::integer),
            \(written),
            audited AS (\(AuditLog.insert(actor, d.audit, from: "written"))),
            change AS (\(ChangeLog.insert(d.kind, indicatorID: "\(d.indicatorID)::bigint", taskID: "NULL::bigint", login: p.login,
                                          detail: "\(jsonText(d.detail))::jsonb", from: "written")) RETURNING seq)
            \(GuardResult.select(storing: key))
            """
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

    /// Writes a target change in one statement (the period's target, the tolerance, the
    /// history row, the audit and change rows) if the actor still administers and the period's
    /// target is still the one the decision saw.
    public func write(_ decision: TargetDecision, by actor: Actor) async throws -> GuardedWrite {
        let d = decision, c = decision.change, p = actor.principal
        // ON CONFLICT's WHERE judges the row as it is once a concurrent change has committed:
        // a target set meanwhile makes this write nothing.
        let query = { @Sendable (key: RequestKey) -> PGQuery in
            """
            WITH caller AS (\(actor.guardQuery(holdingAnyOf: []))),
            written AS (
                INSERT INTO indicator_values AS v (indicator_id, kind, period, value, set_by_admin)
                SELECT \(d.indicatorID)::bigint, 'target', \(d.period)::text, \(c.newValue)::numeric, true
                WHERE EXISTS (SELECT 1 FROM caller) AND (\(d.expectedValue)::float8 IS NULL OR EXISTS (
                      SELECT 1 FROM indicator_values WHERE indicator_id = \(d.indicatorID)::bigint AND kind = 'target'
                        AND period = \(d.period)::text AND \(Self.asDouble("value")) = \(d.expectedValue)::float8))
                ON CONFLICT (indicator_id, kind, period) DO UPDATE SET value = EXCLUDED.value, set_by_admin = true
                    WHERE \(Self.asDouble("v.value")) IS NOT DISTINCT FROM \(d.expectedValue)::float8
                RETURNING 1),
            tolerance AS (
                UPDATE indicators SET tolerance = \(d.tolerance)::numeric, tolerance_set_by_admin = true
                WHERE id = \(d.indicatorID)::bigint AND \(d.tolerance)::numeric IS NOT NULL AND EXISTS (SELECT 1 FROM written)),
            history AS (
                INSERT INTO target_changes (indicator_id, period, old_value, new_value, old_tolerance, new_tolerance, reason, changed_by, changed_at)
                SELECT \(d.indicatorID)::bigint, \(d.period)::text, \(c.oldValue)::numeric, \(c.newValue)::numeric,
                       \(c.oldTolerance)::numeric, \(c.newTolerance)::numeric, \(c.reason)::text, \(p.login)::text, \(timestamp(actor.recordedAt))
                FROM written),
            audited AS (\(AuditLog.insert(actor, d.audit, from: "written"))),
            change AS (\(ChangeLog.insert(.targetSet, indicatorID: "\(d.indicatorID)::bigint", taskID: "NULL::bigint", login: p.login,
                                          detail: "\(jsonText(d.detail))::jsonb", from: "written")) RETURNING seq)
            \(GuardResult.select(storing: key))
            """
        }
        return try await pool.guardedWrite(query)
    }

    /// A numeric column as the Double the decision read from it: beyond a Double's range it is
    /// infinity (or zero), as Swift reads such text, where a plain cast would fail.
    private static func asDouble(_ column: PGQuery) -> PGQuery {
        """
        (CASE WHEN \(column) > 1.7976931348623157e308 THEN 'Infinity'::float8 WHEN \(column) < -1.7976931348623157e308 THEN '-Infinity'::float8
              WHEN abs(\(column)) < 2.2250738585072014e-308 THEN 0::float8 ELSE \(column)::float8 END)
        """
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
}

/// The SELECT of figure revisions with their validation, for a WHERE to follow; its rows
/// decode as `FigureRevision`, or as `Owned<Int, FigureRevision>` with the indicator's id.
/// With `currentOnly`, one row per indicator and period (order by indicator_id, period,
/// revision DESC so it is the latest).
func revisionQuery(currentOnly: Bool = false) -> PGQuery {
    let distinct: PGQuery = currentOnly ? "DISTINCT ON (f.indicator_id, f.period) " : ""
    return """
        SELECT \(distinct)f.indicator_id AS owner, f.period, f.revision, f.value, f.note, f.reason, f.submitted_by,
               \(londonTime("f.submitted_at")) AS submitted_at, f.late, v.validated_by, \(londonTime("v.validated_at")) AS validated_at,
               f.provisional, f.forecast
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
