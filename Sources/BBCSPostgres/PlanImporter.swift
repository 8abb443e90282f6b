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
            if summary.changedRows > 0 {
                try AuditLog.record(db, actor, object: summary.plan, after: summary, message: "plan imported")
            }
            return summary
        }
    }

    static func write(_ doc: PlanDocument, _ db: PGConnection) throws -> ImportSummary {
        // Imports of one plan are serialised; readers are not blocked.
        try db.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [Migrator.lockKey, doc.plan.code])
        var sync = RowSync(db)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }

        let p = doc.plan
        let planID = try sync.upsert("plans", key: [("code", p.code)], values: [
            ("title", p.title), ("council", p.council), ("priority", p.priority),
            ("priority_statement", p.priorityStatement), ("vision", p.vision), ("introduction", p.introduction),
            ("plan_values", try json(p.values)), ("notes", try json(doc.notes)),
            ("first_year", p.firstYear.description), ("last_year", p.lastYear.description),
        ])

        var postIDs: [String: Int] = [:]
        for post in doc.posts {
            let id = try sync.upsert("posts", key: [("name", post.name)], values: [])
            for alias in [post.name] + post.aliases { postIDs[alias] = id }
            for alias in post.aliases {
                try sync.upsert("post_aliases", key: [("alias", alias)], values: [("post_id", id)], returningID: false)
            }
            try sync.delete("post_aliases", where: "post_id = $1 AND NOT (alias = ANY($2::text[]))", [id, pgArray(post.aliases)])
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
                                values: [("service_area_id", areaIDs[so.serviceArea]!), ("text", so.text)], returningID: false)
            }
            try sync.delete("service_objectives", where: "objective_id = $1 AND position >= $2", [id, objective.serviceObjectives.count])
        }

        var indicatorIDs: [String: Int] = [:]
        for (position, indicator) in doc.indicators.enumerated() {
            let id = try sync.upsert("indicators", key: [("code", indicator.code)], values: [
                ("plan_id", planID), ("title", indicator.title), ("category", indicator.category.rawValue),
                ("objective_id", indicator.objective.flatMap { objectiveIDs[$0] }),
                ("service_area_id", areaIDs[indicator.serviceArea]!), ("unit", indicator.unit.rawValue),
                ("polarity", indicator.polarity.rawValue), ("frequency", indicator.frequency.rawValue),
                ("owner_post_id", postIDs[indicator.ownerPost]!), ("owner_from_document", indicator.ownerFromDocument),
                ("is_new", indicator.isNew), ("comments", indicator.comments), ("position", position),
            ])
            try sync.update("indicators", set: "tolerance = $2",
                            where: "id = $1 AND NOT tolerance_set_by_admin AND tolerance IS DISTINCT FROM $2", [id, indicator.tolerance])
            for alias in [indicator.code] + indicator.aliases { indicatorIDs[alias] = id }
            for alias in indicator.aliases {
                try sync.upsert("indicator_aliases", key: [("alias", alias)], values: [("indicator_id", id)], returningID: false)
            }
            try sync.delete("indicator_aliases", where: "indicator_id = $1 AND NOT (alias = ANY($2::text[]))", [id, pgArray(indicator.aliases)])
            let setByAdmin = try db.query("SELECT period FROM indicator_values WHERE indicator_id = $1 AND kind = 'target' AND set_by_admin", [id])
            let keptTargets = Set(try setByAdmin.map { try setByAdmin.text($0, 0) })
            for (kind, values) in [("actual", indicator.actuals), ("target", indicator.targets.filter { !keptTargets.contains($0.key) })] {
                let present = values.compactMap { key, value in value.map { (key, $0) } }
                for (period, value) in present {
                    try sync.upsert("indicator_values", key: [("indicator_id", id), ("kind", kind), ("period", period)],
                                    values: [("value", value)], returningID: false)
                }
                try sync.delete("indicator_values", where: "indicator_id = $1 AND kind = $2 AND NOT set_by_admin AND NOT (period = ANY($3::text[]))",
                                [id, kind, pgArray(present.map { $0.0 })])
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
                ("plan_id", planID), ("objective_id", objectiveIDs[task.objective]!), ("action", task.action),
                ("outcome", task.outcome), ("target_date", task.targetDate?.description), ("target_text", task.targetText),
                ("budget_comment", task.budgetComment), ("is_new", task.isNew), ("position", position),
            ])
            for alias in task.aliases {
                try sync.upsert("task_aliases", key: [("alias", alias)], values: [("task_id", id)], returningID: false)
            }
            try sync.delete("task_aliases", where: "task_id = $1 AND NOT (alias = ANY($2::text[]))", [id, pgArray(task.aliases)])
            for (n, partner) in task.partners.enumerated() {
                try sync.upsert("task_partners", key: [("task_id", id), ("position", n)], values: [("partner", partner)], returningID: false)
            }
            try sync.delete("task_partners", where: "task_id = $1 AND position >= $2", [id, task.partners.count])
            // Positions first freed, so a reordering cannot trip the (task, post) uniqueness.
            let postList = task.responsiblePosts.map { postIDs[$0]! }
            try sync.delete("task_posts", where: "task_id = $1 AND NOT (post_id = ANY($2::bigint[]))", [id, pgArray(postList)])
            for (n, postID) in postList.enumerated() {
                try sync.delete("task_posts", where: "task_id = $1 AND post_id = $2 AND position <> $3", [id, postID, n])
                try sync.upsert("task_posts", key: [("task_id", id), ("position", n)], values: [("post_id", postID)], returningID: false)
            }
            try sync.delete("task_posts", where: "task_id = $1 AND position >= $2", [id, postList.count])
            for (n, risk) in task.risks.enumerated() {
                try sync.upsert("task_risks", key: [("task_id", id), ("position", n)], values: [
                    ("threat", risk.threat), ("strategic_risks", pgArray(risk.strategicRisks)), ("mitigation", risk.mitigation),
                ], returningID: false)
            }
            try sync.delete("task_risks", where: "task_id = $1 AND position >= $2", [id, task.risks.count])
        }
        try sync.delete("strategic_risks", where: "plan_id = $1 AND NOT (number = ANY($2::int[]))",
                        [planID, pgArray(doc.strategicRisks.map(\.number))])

        for (n, risk) in doc.keyStrategicRisks.enumerated() {
            try sync.upsert("key_strategic_risks", key: [("plan_id", planID), ("position", n)],
                            values: [("risk", risk.risk), ("mitigation", risk.mitigation)], returningID: false)
        }
        try sync.delete("key_strategic_risks", where: "plan_id = $1 AND position >= $2", [planID, doc.keyStrategicRisks.count])

        for (position, strategy) in doc.strategies.enumerated() {
            let id = try sync.upsert("strategies", key: [("plan_id", planID), ("name", strategy.name)], values: [
                ("purpose", strategy.purpose), ("renewal_text", strategy.renewalText),
                ("renewal_date", strategy.renewalDate?.description), ("position", position),
            ])
            for (n, name) in strategy.responsible.enumerated() {
                try sync.upsert("strategy_responsible", key: [("strategy_id", id), ("position", n)],
                                values: [("name", name), ("post_id", postIDs[name])], returningID: false)
            }
            try sync.delete("strategy_responsible", where: "strategy_id = $1 AND position >= $2", [id, strategy.responsible.count])
        }
        try sync.delete("strategies", where: "plan_id = $1 AND NOT (name = ANY($2::text[]))", [planID, pgArray(doc.strategies.map(\.name))])

        for (n, line) in doc.budget.enumerated() {
            try sync.upsert("budget_lines", key: [("plan_id", planID), ("position", n)], values: [
                ("description", line.description), ("kind", line.kind.rawValue), ("comment", line.comment),
                ("amounts", try json(line.amounts)),
            ], returningID: false)
        }
        try sync.delete("budget_lines", where: "plan_id = $1 AND position >= $2", [planID, doc.budget.count])

        let changes = sync.changes.filter { $0.value > 0 }
        if !changes.isEmpty { try db.query("UPDATE plans SET imported_at = now() WHERE id = $1", [planID]) }
        return ImportSummary(plan: p.code, changes: changes, indicators: doc.indicators.count, tasks: doc.tasks.count)
    }
}
