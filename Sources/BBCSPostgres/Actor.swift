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
    /// Runs `body` in a transaction that first confirms `actor` (`Actor.confirmed`) and hands
    /// it the confirmed actor, whose posts the permission checks then use.
    func transaction<T: Sendable>(confirming actor: Actor, _ body: @escaping @Sendable (PGConnection, Actor) throws -> T) async throws -> T {
        try await transaction { db in try body(db, try actor.confirmed(db)) }
    }
}
