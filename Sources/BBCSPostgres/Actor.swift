import BBCSCore
import Foundation

/// Who is changing something, through which method, at what time: every store that writes
/// takes one, confirms it inside its transaction and records it in the audit trail.
public struct Actor: Sendable {
    public var principal: Principal
    public var method: String
    /// Who may call `method`; checked again inside the transaction that writes.
    public var access: Access
    /// The daemon's clock at the request (injectable for tests and rehearsals): the rules
    /// (what is due, late, current) judge by it.
    public var at: Date
    /// The real time of the request: what the audit trail and the records carry, whatever the
    /// daemon's clock says, so an append-only trail never holds a rehearsal's invented times.
    public var recordedAt: Date

    public init(principal: Principal, method: String, access: Access = .registered, at: Date, recordedAt: Date = Date()) {
        self.principal = principal; self.method = method; self.access = access; self.at = at; self.recordedAt = recordedAt
    }

    /// The Europe/London day of `at`.
    public var today: CalendarDate { CalendarDate(at) }

    /// The actor as the database stands inside this transaction: the user's row and every
    /// holding in force today are locked FOR SHARE (a disable or revoke committed before is
    /// seen; one that comes later waits for this transaction), the posts are read again and
    /// `access` checked again. The caller's standing read before the transaction began may
    /// be stale: the write relies on this one.
    func confirmed(_ db: PGConnection) throws -> Actor {
        if principal.isDaemon { return self }
        var fresh = self
        fresh.principal = try Directory.lockedPrincipal(principal, today: today, db)
        if let denial = Policy.check(access, fresh.principal) { throw denial }
        return fresh
    }
}

extension PGPool {
    /// Runs `body` in a keyed transaction (`keyedTransaction`) that first confirms `actor`
    /// (`Actor.confirmed`) and hands it the confirmed actor, whose posts the permission checks
    /// then use, and the request key to store with its change.
    func keyedTransaction<T: Sendable>(confirming actor: Actor,
                                       _ body: @escaping @Sendable (PGConnection, Actor, RequestKey) throws -> T) async throws -> T {
        try await keyedTransaction { db, key in try body(db, try actor.confirmed(db), key) }
    }
}

extension Actor {
    /// The caller's guard in a one-statement write: a SELECT (for a CTE) with a row for each
    /// holding that lets the actor make the change today — the user active, holding one of
    /// `postIDs` or the admin post — each locked FOR SHARE with the user's row, so a revoke or
    /// a disable waits for the write, and a write that meets a committed revoke finds no row.
    /// The daemon itself always passes.
    func guardQuery(holdingAnyOf postIDs: [Int]) -> PGQuery {
        if principal.isDaemon { return "SELECT true AS held" }
        return """
            SELECT true AS held FROM users u JOIN post_holders h ON h.user_id = u.id JOIN posts p ON p.id = h.post_id
            WHERE u.login = \(principal.login)::text AND u.disabled_at IS NULL AND \(Directory.heldOn(today))
              AND (h.post_id = ANY(\(postIDs)::bigint[]) OR p.name = \(Policy.adminPost)::text)
            FOR SHARE OF u, h
            """
    }

    /// The day the rules judge by and the instant the records carry.
    public var changeTime: ChangeTime { ChangeTime(today: today, recordedAt: recordedAt) }
}

/// What a guarded one-statement write did.
public enum GuardedWrite: Sendable, Equatable {
    /// Written: the change's place in the change sequence.
    case written(seq: Int64)
    /// Nothing written: the caller no longer holds the post (or the account is no longer active).
    case callerRefused
    /// Nothing written: the object is no longer as the decision saw it.
    case stale
}

/// The last row of a guarded write: the change's seq when it was written, and whether the
/// caller's guard held.
struct GuardResult: Decodable {
    let seq: Int64?
    let permitted: Bool

    var outcome: GuardedWrite { seq.map { .written(seq: $0) } ?? (permitted ? .stale : .callerRefused) }

    /// The end of a guarded write over CTEs `caller` and `change`: the CTE storing `key` with
    /// the change's seq (none when nothing was written), then the final SELECT.
    static func select(storing key: RequestKey) -> PGQuery {
        """
        , keyed AS (\(key.insert(seqFrom: "change")))
        SELECT (SELECT seq FROM change) AS seq, EXISTS (SELECT 1 FROM caller) AS permitted
        """
    }
}

extension PGPool {
    /// Runs one guarded write, built by `query` around the request key it stores (its last part
    /// is `GuardResult.select(storing:)`), never twice (`keyedStatement`): one that committed on a
    /// connection that then broke is `.written` with its seq. A unique violation (another
    /// writer got there first) is `.stale`.
    func guardedWrite(_ query: @escaping @Sendable (RequestKey) -> PGQuery) async throws -> GuardedWrite {
        try await keyedStatement({ db, key in
            do {
                return try db.one(GuardResult.self, query(key)).outcome
            } catch let error as PGError where error.isConflict {
                return .stale
            }
        }, committed: { .written(seq: $0) })
    }
}
