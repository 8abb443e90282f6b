import BBCSCore
import Foundation

/// Reporting rounds: opened and closed as the use cases decide from the rounds as the
/// database holds them, each in a keyed transaction with its audit and change rows.
public struct RoundStore: Sendable {
    let pool: PGPool
    /// Serialises round changes, so two administrators cannot open one round twice.
    static let lockKey = 0x6262_6373_726f_756e  // "bbcsroun"

    public init(pool: PGPool) { self.pool = pool }

    /// Opens the round `decide` decides from the cycle as it stands.
    public func open(by actor: Actor,
                     _ decide: @escaping @Sendable (CycleState, Principal) throws -> RoundUseCases.Opening) async throws -> ReportingRound {
        try await serialised(actor) { db, actor, key in
            let opening = try decide(try PlanStateLoader.cycle(db), actor.principal)
            var round = opening.round
            round.id = try db.one(Int.self, """
                INSERT INTO rounds (plan_id, period, deadline, meeting, opened_by, opened_at)
                VALUES (\(opening.planID), \(round.period), \(round.deadline)::date, \(round.meeting), \(round.openedBy),
                        \(timestamp(actor.recordedAt)))
                RETURNING id
                """)
            try AuditLog.record(db, actor, object: opening.audit.object, after: round, message: opening.audit.message)
            try ChangeLog.record(db, .roundOpened, login: actor.principal.login, detail: opening.detail, key: key)
            return round
        }
    }

    /// Closes the round `decide` decides from the cycle as it stands.
    public func close(by actor: Actor,
                      _ decide: @escaping @Sendable (CycleState, Principal) throws -> RoundUseCases.Closing) async throws -> ReportingRound {
        try await serialised(actor) { db, actor, key in
            let closing = try decide(try PlanStateLoader.cycle(db), actor.principal)
            let round = closing.round
            try db.execute("""
                UPDATE rounds SET closed_by = \(round.closedBy), closed_at = \(timestamp(actor.recordedAt)), close_reason = \(round.closeReason),
                                  forced = \(round.forced)
                WHERE id = \(round.id) AND closed_at IS NULL
                """)
            try AuditLog.record(db, actor, object: closing.audit.object, before: closing.audit.before, after: round,
                                message: closing.audit.message)
            try ChangeLog.record(db, .roundClosed, login: actor.principal.login, detail: closing.detail, key: key)
            return round
        }
    }

    private func serialised<T: Sendable>(_ actor: Actor,
                                         _ body: @escaping @Sendable (PGConnection, Actor, RequestKey) throws -> T) async throws -> T {
        try await pool.keyedTransaction(confirming: actor) { db, actor, key in
            try db.execute("SELECT pg_advisory_xact_lock(\(Self.lockKey))")
            return try body(db, actor, key)
        }
    }
}
