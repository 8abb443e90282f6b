import BBCSCore
import Foundation

/// Writes a validated plan document into the database in one transaction.
///
/// Rows are matched by their natural keys (codes, names, positions) and written only where
/// a value differs, so importing the same file twice changes nothing. Indicators and tasks
/// missing from a later file are kept: figures and progress may already refer to them.
/// What people changed through bbcs wins over the file: targets and tolerances an
/// administrator set, task target dates moved with `task.reschedule` (the file holds no
/// task status or progress). Each row changed gets an audit row with its before and after.
///
/// A plan is revised forward: a file whose `revision` is older than the one loaded is
/// refused. Indicators and tasks the file no longer lists are retired (kept, with their
/// figures and changes, out of current lists), and come back if a later file lists them.
/// Each baseline and target remembers the revision that set it; each import that changes
/// the plan appends a `plan_revisions` row (`plan.history`).
public enum PlanImporter {
    /// Imports `doc`; with `dryRun`, runs the same import and rolls it back, so the summary
    /// says what the import would change and keep, and nothing is written or audited.
    /// `file` is the file's text, whose SHA-256 the plan's history keeps, and `source` its name.
    public static func importPlan(_ doc: PlanDocument, into pool: PGPool, by actor: Actor, dryRun: Bool = false,
                                  file: String? = nil, source: String? = nil) async throws -> ImportSummary {
        let origin = Origin(text: file, source: source, by: actor.principal.login)
        if dryRun { return try await pool.withConnection { db in try db.rolledBack { try write(doc, db, dryRun: true, origin).summary } } }
        // Keyed: an import whose COMMIT met a broken connection is answered as stored, or run again, never twice.
        return try await pool.keyedTransaction(confirming: actor) { db, actor, key in
            let (summary, rows) = try write(doc, db, dryRun: false, origin)
            // The first load's day, from which figures are chased by default (figures_tracked_from).
            try db.execute("UPDATE plans SET loaded_on = \(actor.today)::date WHERE code = \(summary.plan) AND loaded_on IS NULL")
            for row in rows {
                try AuditLog.record(db, actor, object: row.object, before: row.before, after: row.after,
                                    message: "\(row.table) \(row.kind.rawValue)")
            }
            if summary.changedRows > 0 {
                var totals = summary
                totals.rows = []   // each row has its own audit row
                try AuditLog.record(db, actor, object: summary.plan, after: totals, message: "plan imported")
                // Last, so its seq is taken just before the commit (readers wait for a seq skipped over).
                try ChangeLog.record(db, .plan, login: actor.principal.login, detail: .object(["plan": .string(summary.plan)]), key: key)
            }
            return summary
        }
    }

    /// Where a file came from, for the plan's history.
    struct Origin {
        var text: String?
        var source: String?
        var by: String
    }

    static func write(_ doc: PlanDocument, _ db: PGConnection, dryRun: Bool, _ origin: Origin) throws -> (summary: ImportSummary, rows: [RowChange]) {
        // Imports of one plan are serialised; readers are not blocked.
        try db.execute("SELECT pg_advisory_xact_lock(\(Migrator.lockKey), hashtext(\(doc.plan.code)))")
        let revision = doc.plan.revisionNumber
        let loaded = try db.first(Int.self, "SELECT revision FROM plans WHERE code = \(doc.plan.code)")
        if let loaded, revision < loaded {
            throw StoreError.conflict("the file is revision \(revision) of plan \(doc.plan.code) and revision \(loaded) is loaded: a plan is revised forward only, so give the file \"revision\": \(loaded) or later", hint: nil)
        }
        // A later revision, not the loaded one corrected.
        let revises = loaded.map { revision > $0 } ?? false
        var lifecycle: [ImportLifecycle] = []
        var sync = RowSync(db)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }

        let p = doc.plan
        var kept: [ImportKept] = []
        let planID = try sync.upsert("plans", object: p.code, key: [("code", p.code)], values: [
            ("title", p.title), ("council", p.council), ("priority", p.priority),
            ("priority_statement", p.priorityStatement), ("vision", p.vision), ("introduction", p.introduction),
            ("plan_values", try json(p.values)), ("notes", try json(doc.notes)),
            ("first_year", p.firstYear), ("last_year", p.lastYear), ("revision", revision),
        ])

        var postIDs: [String: Int] = [:]
        for post in doc.posts {
            let id = try sync.upsert("posts", object: post.name, key: [("name", post.name)], values: [])
            for alias in [post.name] + post.aliases { postIDs[alias] = id }
            for alias in post.aliases {
                try sync.upsert("post_aliases", object: post.name, key: [("alias", alias)], values: [("post_id", id)], returningID: false)
            }
            try sync.delete("post_aliases", of: ("post_id", id), object: post.name, where: "NOT (alias = ANY(\(post.aliases)::text[]))")
        }

        var areaIDs: [String: Int] = [:]
        for (position, area) in doc.serviceAreas.enumerated() {
            areaIDs[area.name] = try sync.upsert("service_areas", object: area.name, key: [("plan_id", planID), ("name", area.name)],
                                                 values: [("head_post_id", area.head.flatMap { postIDs[$0] }), ("position", position)])
        }

        var objectiveIDs: [String: Int] = [:]
        for (position, objective) in doc.objectives.enumerated() {
            let id = try sync.upsert("objectives", object: objective.code, key: [("plan_id", planID), ("code", objective.code)],
                                     values: [("title", objective.title), ("position", position)])
            objectiveIDs[objective.code] = id
            for (n, so) in objective.serviceObjectives.enumerated() {
                try sync.upsert("service_objectives", object: objective.code, key: [("objective_id", id), ("position", n)],
                                values: [("service_area_id", try known(areaIDs, so.serviceArea, "service area")), ("text", so.text)], returningID: false)
            }
            try sync.trim("service_objectives", of: ("objective_id", id), object: objective.code, to: objective.serviceObjectives.count)
        }

        var indicatorIDs: [String: Int] = [:]
        for (position, indicator) in doc.indicators.enumerated() {
            let code = indicator.code
            // Locked first, as target.set's tolerance does, so a change committed meanwhile is seen below;
            // a target set meanwhile is guarded in the write (`unless`).
            let existing = try db.first(Existing.self, "SELECT retired_in FROM indicators WHERE plan_id = \(planID) AND code = \(code) FOR UPDATE")
            if let kind = ImportLifecycle.Kind(existing, planExisted: loaded != nil) { lifecycle.append(.init(kind, .indicator, code)) }
            let adminSet = try db.rows(AdminSet.self, AdminSet.query(planID: planID, code: code))
            var keptTargets = Set<String>()
            var values: [(String, any PGParameter)] = [
                ("title", indicator.title), ("category", indicator.category), ("retired_in", nil as Int?),
                ("objective_id", indicator.objective.flatMap { objectiveIDs[$0] }),
                ("service_area_id", try known(areaIDs, indicator.serviceArea, "service area")), ("unit", indicator.unit),
                ("polarity", indicator.polarity), ("frequency", indicator.frequency),
                ("owner_post_id", try known(postIDs, indicator.ownerPost, "post")), ("owner_from_document", indicator.ownerFromDocument),
                ("is_new", indicator.isNew), ("comments", indicator.comments), ("position", position),
            ]
            if !adminSet.contains(where: { $0.period == nil }) { values.append(("tolerance", indicator.tolerance)) }
            for set in adminSet {
                let file: Double?
                if let period = set.period?.description {
                    keptTargets.insert(period)
                    // A period the file does not name is not the file's to change.
                    guard let named = indicator.targets[period] else { continue }
                    file = named
                } else {
                    file = indicator.tolerance
                }
                guard file != set.value else { continue }
                kept.append(ImportKept(object: code, field: set.period == nil ? "tolerance" : "target", period: set.period,
                                       file: JSONValue(file), kept: JSONValue(set.value), why: .setByAdmin, by: set.changedBy, at: set.changedAt))
            }
            let id = try sync.upsert("indicators", object: code, key: [("plan_id", planID), ("code", code)], values: values)
            for alias in [code] + indicator.aliases { indicatorIDs[alias] = id }
            for alias in indicator.aliases {
                try sync.upsert("indicator_aliases", object: code, key: [("indicator_id", id), ("alias", alias)], values: [], returningID: false)
            }
            try sync.delete("indicator_aliases", of: ("indicator_id", id), object: code, where: "NOT (alias = ANY(\(indicator.aliases)::text[]))")
            let fileTargets = indicator.targets.filter { period, _ in !keptTargets.contains(period) }
            for (kind, values) in [("actual", indicator.actuals), ("target", fileTargets)] {
                let present = values.compactMap { key, value in value.map { (key, $0) } }
                for (period, value) in present {
                    try sync.upsert("indicator_values", object: code, key: [("indicator_id", id), ("kind", kind), ("period", period)],
                                    values: [("value", value)], stamp: [("set_in_revision", revision)], unless: "set_by_admin", returningID: false)
                }
                // A blank in the file removes the value; a period a later revision no longer
                // names (a baseline year that rolled off) keeps it, as history.
                let blank = values.filter { $0.value == nil }.map(\.key)
                try sync.delete("indicator_values", of: ("indicator_id", id), object: code, where: """
                    kind = \(kind) AND NOT set_by_admin
                    AND (period = ANY(\(blank)::text[]) OR (NOT \(revises) AND NOT (period = ANY(\(present.map { $0.0 })::text[]))))
                    """)
            }
        }
        // Parents once every indicator has its id.
        for indicator in doc.indicators {
            try sync.upsert("indicators", object: indicator.code, key: [("plan_id", planID), ("code", indicator.code)],
                            values: [("parent_id", indicator.parent.flatMap { indicatorIDs[$0] })])
        }
        for gone in try db.rows(Named.self, """
            SELECT id, code AS name FROM indicators
            WHERE plan_id = \(planID) AND retired_in IS NULL AND NOT (code = ANY(\(doc.indicators.map(\.code))::text[])) ORDER BY position
            """) {
            try sync.upsert("indicators", object: gone.name, key: [("plan_id", planID), ("code", gone.name)], values: [("retired_in", revision)])
            lifecycle.append(.init(.retired, .indicator, gone.name))
        }

        for risk in doc.strategicRisks {
            try sync.upsert("strategic_risks", object: "risk \(risk.number)", key: [("plan_id", planID), ("number", risk.number)],
                            values: [("title", risk.title)], returningID: false)
        }

        for (position, task) in doc.tasks.enumerated() {
            let code = task.code
            var values: [(String, any PGParameter)] = [
                ("objective_id", try known(objectiveIDs, task.objective, "objective")), ("action", task.action), ("retired_in", nil as Int?),
                ("outcome", task.outcome), ("target_text", task.targetText),
                ("budget_comment", task.budgetComment), ("is_new", task.isNew), ("position", position),
            ]
            // Locked first, as task.reschedule does, so a move committed meanwhile is seen below.
            let existing = try db.first(Existing.self, "SELECT retired_in FROM tasks WHERE plan_id = \(planID) AND code = \(code) FOR UPDATE")
            if let kind = ImportLifecycle.Kind(existing, planExisted: loaded != nil) { lifecycle.append(.init(kind, .task, code)) }
            if let moved = try db.first(Rescheduled.self, Rescheduled.query(planID: planID, code: code)) {
                if moved.targetDate != task.targetDate {
                    kept.append(ImportKept(object: code, field: "target_date", file: JSONValue(task.targetDate?.description),
                                           kept: JSONValue(moved.targetDate?.description), why: .rescheduled, by: moved.changedBy, at: moved.changedAt))
                }
            } else {
                values.append(("target_date", task.targetDate))
            }
            let id = try sync.upsert("tasks", object: code, key: [("plan_id", planID), ("code", code)], values: values)
            for alias in task.aliases {
                try sync.upsert("task_aliases", object: code, key: [("task_id", id), ("alias", alias)], values: [], returningID: false)
            }
            let owner = (column: "task_id", id: id)
            try sync.delete("task_aliases", of: owner, object: code, where: "NOT (alias = ANY(\(task.aliases)::text[]))")
            for (n, partner) in task.partners.enumerated() {
                try sync.upsert("task_partners", object: code, key: [("task_id", id), ("position", n)], values: [("partner", partner)], returningID: false)
            }
            try sync.trim("task_partners", of: owner, object: code, to: task.partners.count)
            // Positions first freed, so a reordering cannot trip the (task, post) uniqueness.
            let postList = try task.responsiblePosts.map { try known(postIDs, $0, "post") }
            try sync.delete("task_posts", of: owner, object: code, where: "NOT (post_id = ANY(\(postList)::bigint[]))")
            for (n, postID) in postList.enumerated() {
                try sync.delete("task_posts", of: owner, object: code, where: "post_id = \(postID) AND position <> \(n)")
                try sync.upsert("task_posts", object: code, key: [("task_id", id), ("position", n)], values: [("post_id", postID)], returningID: false)
            }
            try sync.trim("task_posts", of: owner, object: code, to: postList.count)
            for (n, risk) in task.risks.enumerated() {
                try sync.upsert("task_risks", object: code, key: [("task_id", id), ("position", n)], values: [
                    ("threat", risk.threat), ("strategic_risks", risk.strategicRisks), ("mitigation", risk.mitigation),
                ], returningID: false)
            }
            try sync.trim("task_risks", of: owner, object: code, to: task.risks.count)
        }
        for gone in try db.rows(Named.self, """
            SELECT id, code AS name FROM tasks
            WHERE plan_id = \(planID) AND retired_in IS NULL AND NOT (code = ANY(\(doc.tasks.map(\.code))::text[])) ORDER BY position
            """) {
            try sync.upsert("tasks", object: gone.name, key: [("plan_id", planID), ("code", gone.name)], values: [("retired_in", revision)])
            lifecycle.append(.init(.retired, .task, gone.name))
        }
        let plan = (column: "plan_id", id: planID)
        for number in try db.rows(Int.self, """
            SELECT number FROM strategic_risks WHERE plan_id = \(planID) AND NOT (number = ANY(\(doc.strategicRisks.map(\.number))::int[]))
            """) {
            try sync.delete("strategic_risks", of: plan, object: "risk \(number)", where: "number = \(number)")
        }

        for (n, risk) in doc.keyStrategicRisks.enumerated() {
            try sync.upsert("key_strategic_risks", object: p.code, key: [("plan_id", planID), ("position", n)],
                            values: [("risk", risk.risk), ("mitigation", risk.mitigation)], returningID: false)
        }
        try sync.trim("key_strategic_risks", of: plan, object: p.code, to: doc.keyStrategicRisks.count)

        var strategyIDs: [String: Int] = [:]
        for (position, strategy) in doc.strategies.enumerated() {
            let id = try sync.upsert("strategies", object: strategy.name, key: [("plan_id", planID), ("name", strategy.name)], values: [
                ("purpose", strategy.purpose), ("renewal_text", strategy.renewalText),
                ("renewal_date", strategy.renewalDate), ("position", position),
            ])
            for (n, name) in strategy.responsible.enumerated() {
                try sync.upsert("strategy_responsible", object: strategy.name, key: [("strategy_id", id), ("position", n)],
                                values: [("name", name), ("post_id", postIDs[name])], returningID: false)
            }
            try sync.trim("strategy_responsible", of: ("strategy_id", id), object: strategy.name, to: strategy.responsible.count)
            strategyIDs[strategy.name] = id
        }
        for gone in try db.rows(Named.self, """
            SELECT id, name FROM strategies WHERE plan_id = \(planID) AND NOT (name = ANY(\(doc.strategies.map(\.name))::text[]))
            """) {
            try sync.trim("strategy_responsible", of: ("strategy_id", gone.id), object: gone.name, to: 0)
            try sync.delete("strategies", of: plan, object: gone.name, where: "id = \(gone.id)")
        }

        for (n, line) in doc.budget.enumerated() {
            try sync.upsert("budget_lines", object: p.code, key: [("plan_id", planID), ("position", n)], values: [
                ("description", line.description), ("kind", line.kind), ("comment", line.comment),
                ("amounts", try json(line.amounts)),
            ], returningID: false)
        }
        try sync.trim("budget_lines", of: plan, object: p.code, to: doc.budget.count)

        if !sync.changes.isEmpty {
            try db.execute("UPDATE plans SET imported_at = now() WHERE id = \(planID)")
            func codes(_ kind: ImportLifecycle.Kind) -> [String] { lifecycle.filter { $0.kind == kind }.map { "\($0.object.rawValue) \($0.code)" } }
            try db.execute("""
                INSERT INTO plan_revisions (plan_id, revision, source, sha256, loaded_by, changes, added, retired, restored)
                VALUES (\(planID), \(revision), \(origin.source),
                        CASE WHEN \(origin.text)::text IS NULL THEN NULL ELSE encode(sha256(convert_to(\(origin.text)::text, 'UTF8')), 'hex') END,
                        \(origin.by), \(try json(sync.counts))::jsonb, \(try json(codes(.added)))::jsonb, \(try json(codes(.retired)))::jsonb,
                        \(try json(codes(.restored)))::jsonb)
                """)
        }
        // Ids the rows refer to, named for people.
        func byID(_ ids: [String: Int], _ names: [String]) -> [Int: String] {
            Dictionary(names.compactMap { name in ids[name].map { ($0, name) } }, uniquingKeysWith: { first, _ in first })
        }
        let posts = byID(postIDs, doc.posts.map(\.name))
        let names: [String: [Int: String]] = [
            "plan_id": [planID: p.code], "post_id": posts, "owner_post_id": posts, "head_post_id": posts,
            "service_area_id": byID(areaIDs, doc.serviceAreas.map(\.name)), "objective_id": byID(objectiveIDs, doc.objectives.map(\.code)),
            "parent_id": byID(indicatorIDs, doc.indicators.map(\.code)), "strategy_id": byID(strategyIDs, doc.strategies.map(\.name)),
        ]
        let summary = ImportSummary(plan: p.code, dryRun: dryRun, changes: sync.counts, rows: sync.changes.flatMap { $0.entries(names) },
                                    kept: kept, indicators: doc.indicators.count, tasks: doc.tasks.count, revision: revision,
                                    previousRevision: loaded, lifecycle: lifecycle)
        return (summary, sync.changes)
    }
}

/// A target or tolerance (no period) an administrator set on the indicator with `code`, with
/// the latest change's author and time.
private struct AdminSet: Decodable {
    let period: Period?
    let value: Double?
    let changedBy: String?
    let changedAt: String?

    static func query(planID: Int, code: String) -> PGQuery {
        """
        SELECT v.period, v.value, c.changed_by, \(londonTime("c.changed_at")) AS changed_at
        FROM indicators i JOIN indicator_values v ON v.indicator_id = i.id AND v.kind = 'target' AND v.set_by_admin
        LEFT JOIN LATERAL (SELECT changed_by, changed_at FROM target_changes
                           WHERE indicator_id = i.id AND period = v.period ORDER BY id DESC LIMIT 1) c ON true
        WHERE i.plan_id = \(planID) AND i.code = \(code)
        UNION ALL
        SELECT NULL, i.tolerance, c.changed_by, \(londonTime("c.changed_at"))
        FROM indicators i
        LEFT JOIN LATERAL (SELECT changed_by, changed_at FROM target_changes
                           WHERE indicator_id = i.id AND old_tolerance IS DISTINCT FROM new_tolerance ORDER BY id DESC LIMIT 1) c ON true
        WHERE i.plan_id = \(planID) AND i.code = \(code) AND i.tolerance_set_by_admin
        """
    }
}

/// The target date of the task with `code` when `task.reschedule` has moved it, with the
/// latest move's author and time.
private struct Rescheduled: Decodable {
    let targetDate: CalendarDate?
    let changedBy: String
    let changedAt: String

    static func query(planID: Int, code: String) -> PGQuery {
        """
        SELECT \(isoDate("t.target_date")) AS target_date, c.changed_by, \(londonTime("c.changed_at")) AS changed_at
        FROM tasks t JOIN LATERAL (SELECT changed_by, changed_at FROM task_changes
                                   WHERE task_id = t.id AND kind = 'reschedule' ORDER BY id DESC LIMIT 1) c ON true
        WHERE t.plan_id = \(planID) AND t.code = \(code)
        """
    }
}

private struct Named: Decodable {
    let id: Int
    let name: String
}

/// An indicator or task already stored under the code the file lists.
private struct Existing: Decodable {
    let retiredIn: Int?
}

extension ImportLifecycle.Kind {
    /// What listing an object does to it: adds it to a plan already loaded (nothing for a
    /// plan's first load), brings it back if retired, or nothing.
    fileprivate init?(_ existing: Existing?, planExisted: Bool) {
        switch existing {
        case nil where planExisted: self = .added
        case let found? where found.retiredIn != nil: self = .restored
        default: return nil
        }
    }
}

extension RowChange {
    /// The summary's entries: the whole row when added or removed, each column that differs
    /// when changed, with the key columns that tell the row from its object's others. Ids in
    /// `names` (by column) become names; the row's own id and its link to `object` are left out.
    fileprivate func entries(_ names: [String: [Int: String]]) -> [ImportChange] {
        func named(_ column: String, _ value: JSONValue) -> JSONValue {
            guard case .number(let n) = value, let id = Int(exactly: n), let name = names[column]?[id] else { return value }
            return .string(name)
        }
        func shown(_ row: JSONValue?) -> JSONValue? {
            guard case .object(let columns)? = row else { return row }
            let visible = columns.filter { column, _ in column != "id" && column != link }
            return .object(Dictionary(uniqueKeysWithValues: visible.map { ($0.key, named($0.key, $0.value)) }))
        }
        guard kind == .changed, case .object(let old)? = before, case .object(let new)? = after else {
            return [ImportChange(kind: kind, table: table, object: object, key: nil, field: nil, before: shown(before), after: shown(after))]
        }
        let keyColumns = key.filter { $0 != link && new[$0] != .string(object) }
        let which: JSONValue? = keyColumns.isEmpty ? nil : .object(Dictionary(uniqueKeysWithValues: keyColumns.map { ($0, new[$0] ?? .null) }))
        return Set(old.keys).union(new.keys).sorted().compactMap { column in
            let was = old[column] ?? .null, now = new[column] ?? .null
            guard was != now else { return nil }
            return ImportChange(kind: .changed, table: table, object: object, key: which, field: column,
                                before: named(column, was), after: named(column, now))
        }
    }
}

/// The id `ids` holds for `name`. A validated plan names only what it defines, so a miss is
/// a plan the validation let through, refused rather than trusted.
private func known(_ ids: [String: Int], _ name: String, _ kind: String) throws -> Int {
    guard let id = ids[name] else { throw StoreError.invalid(param: "plan", "the plan names the \(kind) \"\(name)\" but does not define it") }
    return id
}

extension JSONValue {
    /// A number, or null.
    fileprivate init(_ number: Double?) { self = number.map(JSONValue.number) ?? .null }
    /// A string, or null.
    fileprivate init(_ text: String?) { self = text.map(JSONValue.string) ?? .null }
}
