import BBCSCore
import Foundation

/// Risk reviews: appended as the use case decides, with their audit and change rows; every
/// review of a risk read back as its history.
public struct RiskReviewStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) { self.pool = pool }

    /// Appends `decide`'s review of a risk of the plan with `planID`, deciding on the caller as
    /// the database confirms them.
    public func review(planID: Int, by actor: Actor,
                       _ decide: @escaping @Sendable (Principal) throws -> (review: RiskReview, audit: AuditRecord, detail: JSONValue))
        async throws -> RiskReview {
        try await pool.keyedTransaction(confirming: actor) { db, actor, key in
            let (review, audit, detail) = try decide(actor.principal)
            try db.execute("""
                INSERT INTO risk_reviews (plan_id, risk, likelihood, impact, score, band, note, reviewed_by, reviewed_at)
                VALUES (\(planID), \(review.risk), \(review.likelihood), \(review.impact), \(review.score), \(review.band), \(review.note),
                        \(review.by), \(timestamp(actor.recordedAt)))
                """)
            try AuditLog.record(db, actor, object: audit.object, before: audit.before, after: review, message: audit.message)
            try ChangeLog.record(db, .riskReviewed, login: actor.principal.login, detail: detail, key: key)
            return review
        }
    }

    /// Every review of `risk` in the plan with `planID`, oldest first.
    public func history(planID: Int, risk: String) async throws -> [RiskReview] {
        try await pool.withConnection { db in
            try db.rows(RiskReview.self, """
                SELECT risk, likelihood, impact, score, band, note, reviewed_by AS "by", \(londonTime("reviewed_at")) AS "at"
                FROM risk_reviews WHERE plan_id = \(planID) AND risk = \(risk) ORDER BY id
                """)
        }
    }
}
