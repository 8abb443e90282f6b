import BBCSCore
import Foundation

/// Writes a validated plan document into the database in one transaction.
///
/// Rows are matched by their natural keys (codes, names, positions) and written only where
/// a value differs, so importing the same file twice changes nothing. Indicators and tasks
/// missing from a later file are kept: figures and progress may already refer to them.
/// Targets and tolerances an administrator has set win over the file's.
public enum PlanImporter {
    public static func importPlan(_ doc: PlanDocument, into pool: PGPool, by actor: Actor) async throws -> ImportSummary {
        try await pool.transaction { db in
            let summary = try write(doc, db)
            // The first load's day, from which figures are chased by default (figures_tracked_from).
            try db.execute("UPDATE plans SET loaded_on = \(actor.today)::date WHERE code = \(summary.plan) AND loaded_on IS NULL")
            if summary.changedRows > 0 {
                try AuditLog.record(db, actor, object: summary.plan, after: summary, message: "plan imported")
            }
            return summary
        }
    }

    static func write(_ doc: PlanDocument, _ db: PGConnection) throws -> ImportSummary {
        // Imports of one plan are serialised; readers are not blocked.
        try db.execute("SELECT pg_advisory_xact_lock(\(Migrator.lockKey), hashtext(\(doc.plan.code)))")
        var sync = RowSync(db)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }

        let p = doc.plan
        let planID = try sync.upsert("plans", key: [("code", p.code)], values: [
            ("title", p.title), ("council", p.council), ("priority", p.priority),
            ("priority_statement", p.priorityStatement), ("vision", p.vision), ("introduction", p.introduction),
            ("plan_values", try json(p.values)), ("notes", try json(doc.notes)),
            ("first_year", p.firstYear), ("last_year", p.lastYear),
        ])

        var postIDs: [String: Int] = [:]
        for post in doc.posts {
            let id = try sync.upsert("posts", key: [("name", post.name)], values: [])
            for alias in [post.name] + post.aliases { postIDs[alias] = id }
            for alias in post.aliases {
                try sync.upsert("post_aliases", key: [("alias", alias)], values: [("post_id", id)], returningID: false)
            }
            try sync.delete("post_aliases", where: "post_id = \(id) AND NOT (alias = ANY(\(post.aliases)::text[]))")
        }

        var areaIDs: [String: Int] = [:]
        for (position, area) in doc.serviceAreas.enumerated() {
            areaIDs[area.name] = try sync.upsert("service_areas", key: [("plan_id", planID), ("name", area.name)],
                                                 values: [("head_post_id", area.head.flatMap { postIDs[$0] }), ("position", position)])
        }

        var objectiveIDs: [String: Int] = [:]
        for (position, objective) in doc.objectives.enumerated() {
            let id = try sync.upsert("objectives", key: [("plan_id", planID), ("code", objective.code)],
                                     values: [("title", objective.title), ("position", position)])
            objectiveIDs[objective.code] = id
            for (n, so) in objective.serviceObjectives.enumerated() {
                try sync.upsert("service_objectives", key: [("objective_id", id), ("position", n)],
                                values: [("service_area_id", try known(areaIDs, so.serviceArea, "service area")), ("text", so.text)], returningID: false)
            }
            try sync.trim("service_objectives", of: ("objective_id", id), to: objective.serviceObjectives.count)
        }

        var indicatorIDs: [String: Int] = [:]
        for (position, indicator) in doc.indicators.enumerated() {
            let id = try sync.upsert("indicators", key: [("code", indicator.code)], values: [
                ("plan_id", planID), ("title", indicator.title), ("category", indicator.category),
                ("objective_id", indicator.objective.flatMap { objectiveIDs[$0] }),
                ("service_area_id", try known(areaIDs, indicator.serviceArea, "service area")), ("unit", indicator.unit),
                ("polarity", indicator.polarity), ("frequency", indicator.frequency),
                ("owner_post_id", try known(postIDs, indicator.ownerPost, "post")), ("owner_from_document", indicator.ownerFromDocument),
                ("is_new", indicator.isNew), ("comments", indicator.comments), ("position", position),
            ])
            try sync.update("indicators", set: "tolerance = \(indicator.tolerance)",
                            where: "id = \(id) AND NOT tolerance_set_by_admin AND tolerance IS DISTINCT FROM \(indicator.tolerance)")
            for alias in [indicator.code] + indicator.aliases { indicatorIDs[alias] = id }
            for alias in indicator.aliases {
                try sync.upsert("indicator_aliases", key: [("alias", alias)], values: [("indicator_id", id)], returningID: false)
            }
            try sync.delete("indicator_aliases", where: "indicator_id = \(id) AND NOT (alias = ANY(\(indicator.aliases)::text[]))")
            let keptTargets = Set(try db.rows(String.self, """
                SELECT period FROM indicator_values WHERE indicator_id = \(id) AND kind = 'target' AND set_by_admin
                """))
            for (kind, values) in [("actual", indicator.actuals), ("target", indicator.targets.filter { !keptTargets.contains($0.key) })] {
                let present = values.compactMap { key, value in value.map { (key, $0) } }
                for (period, value) in present {
                    try sync.upsert("indicator_values", key: [("indicator_id", id), ("kind", kind), ("period", period)],
                                    values: [("value", value)], returningID: false)
                }
                try sync.delete("indicator_values", where: """
                    indicator_id = \(id) AND kind = \(kind) AND NOT set_by_admin AND NOT (period = ANY(\(present.map { $0.0 })::text[]))
                    """)
            }
        }
        // Parents once every indicator has its id.
        for indicator in doc.indicators {
            try sync.upsert("indicators", key: [("code", indicator.code)],
                            values: [("parent_id", indicator.parent.flatMap { indicatorIDs[$0] })])
        }

        for risk in doc.strategicRisks {
            try sync.upsert("strategic_risks", key: [("plan_id", planID), ("number", risk.number)],
                            values: [("title", risk.title)], returningID: false)
        }

        for (position, task) in doc.tasks.enumerated() {
            let id = try sync.upsert("tasks", key: [("code", task.code)], values: [
                ("plan_id", planID), ("objective_id", try known(objectiveIDs, task.objective, "objective")), ("action", task.action),
                ("outcome", task.outcome), ("target_date", task.targetDate), ("target_text", task.targetText),
                ("budget_comment", task.budgetComment), ("is_new", task.isNew), ("position", position),
            ])
            for alias in task.aliases {
                try sync.upsert("task_aliases", key: [("alias", alias)], values: [("task_id", id)], returningID: false)
            }
            try sync.delete("task_aliases", where: "task_id = \(id) AND NOT (alias = ANY(\(task.aliases)::text[]))")
            for (n, partner) in task.partners.enumerated() {
                try sync.upsert("task_partners", key: [("task_id", id), ("position", n)], values: [("partner", partner)], returningID: false)
            }
            try sync.trim("task_partners", of: ("task_id", id), to: task.partners.count)
            // Positions first freed, so a reordering cannot trip the (task, post) uniqueness.
            let postList = try task.responsiblePosts.map { try known(postIDs, $0, "post") }
            try sync.delete("task_posts", where: "task_id = \(id) AND NOT (post_id = ANY(\(postList)::bigint[]))")
            for (n, postID) in postList.enumerated() {
                try sync.delete("task_posts", where: "task_id = \(id) AND post_id = \(postID) AND position <> \(n)")
                try sync.upsert("task_posts", key: [("task_id", id), ("position", n)], values: [("post_id", postID)], returningID: false)
            }
            try sync.trim("task_posts", of: ("task_id", id), to: postList.count)
            for (n, risk) in task.risks.enumerated() {
                try sync.upsert("task_risks", key: [("task_id", id), ("position", n)], values: [
                    ("threat", risk.threat), ("strategic_risks", risk.strategicRisks), ("mitigation", risk.mitigation),
                ], returningID: false)
            }
            try sync.trim("task_risks", of: ("task_id", id), to: task.risks.count)
        }
        try sync.delete("strategic_risks", where: "plan_id = \(planID) AND NOT (number = ANY(\(doc.strategicRisks.map(\.number))::int[]))")

        for (n, risk) in doc.keyStrategicRisks.enumerated() {
            try sync.upsert("key_strategic_risks", key: [("plan_id", planID), ("position", n)],
                            values: [("risk", risk.risk), ("mitigation", risk.mitigation)], returningID: false)
        }
        try sync.trim("key_strategic_risks", of: ("plan_id", planID), to: doc.keyStrategicRisks.count)

        for (position, strategy) in doc.strategies.enumerated() {
            let id = try sync.upsert("strategies", key: [("plan_id", planID), ("name", strategy.name)], values: [
                ("purpose", strategy.purpose), ("renewal_text", strategy.renewalText),
                ("renewal_date", strategy.renewalDate), ("position", position),
            ])
            for (n, name) in strategy.responsible.enumerated() {
                try sync.upsert("strategy_responsible", key: [("strategy_id", id), ("position", n)],
                                values: [("name", name), ("post_id", postIDs[name])], returningID: false)
            }
            try sync.trim("strategy_responsible", of: ("strategy_id", id), to: strategy.responsible.count)
        }
        try sync.delete("strategies", where: "plan_id = \(planID) AND NOT (name = ANY(\(doc.strategies.map(\.name))::text[]))")

        for (n, line) in doc.budget.enumerated() {
            try sync.upsert("budget_lines", key: [("plan_id", planID), ("position", n)], values: [
                ("description", line.description), ("kind", line.kind), ("comment", line.comment),
                ("amounts", try json(line.amounts)),
            ], returningID: false)
        }
        try sync.trim("budget_lines", of: ("plan_id", planID), to: doc.budget.count)

        let changes = sync.changes.filter { $0.value > 0 }
        if !changes.isEmpty { try db.execute("UPDATE plans SET imported_at = now() WHERE id = \(planID)") }
        return ImportSummary(plan: p.code, changes: changes, indicators: doc.indicators.count, tasks: doc.tasks.count)
    }
}

/// The id `ids` holds for `name`. A validated plan names only what it defines, so a miss is
/// a plan the validation let through, refused rather than trusted.
private func known(_ ids: [String: Int], _ name: String, _ kind: String) throws -> Int {
    guard let id = ids[name] else { throw StoreError.invalid(param: "plan", "the plan names the \(kind) \"\(name)\" but does not define it") }
    return id
}
