import BBCSCore
import Foundation

/// The append-only audit trail: one row per change, written in the change's transaction,
/// and one per refused attempt.
public struct AuditLog: Sendable {
    let pool: PGPool

    public init(pool: PGPool) { self.pool = pool }

    /// Records a change inside the transaction that makes it.
    static func record(_ db: PGConnection, _ actor: Actor, object: String?, before: (any Encodable)? = nil,
                       after: (any Encodable)? = nil, message: String? = nil) throws {
        try insert(db, actor, object: object, outcome: .ok, before: before.map(jsonText), after: after.map(jsonText), message: message)
    }

    /// Records a refused attempt, in a transaction of its own (the attempt's was rolled back or never began).
    /// `params` is the request's parameters as JSON text, kept as the attempt's "after".
    public func recordRefusal(_ actor: Actor, object: String?, params: String?, denial: Denial) async throws {
        try await pool.withConnection { db in
            try Self.insert(db, actor, object: object, outcome: denial.unauthenticated ? .unauthenticated : .denied,
                            before: nil, after: params, message: denial.message)
        }
    }

    private static func insert(_ db: PGConnection, _ actor: Actor, object: String?, outcome: AuditEntry.Outcome,
                               before: String?, after: String?, message: String?) throws {
        let p = actor.principal
        try db.execute("""
            INSERT INTO audit (at, login, uid, pid, method, object, outcome, before, after, message)
            VALUES (\(timestamp(actor.recordedAt)), \(p.login), \(p.uid), \(p.pid), \(actor.method), \(object), \(outcome),
                    \(before)::jsonb, \(after)::jsonb, \(message))
            """)
    }

    /// Which rows to read; nil fields do not filter.
    public struct Filter: Sendable {
        public var object: String?
        public var login: String?
        public var since: CalendarDate?
        public var limit: Int
        public init(object: String?, login: String?, since: CalendarDate?, limit: Int) {
            self.object = object; self.login = login; self.since = since; self.limit = limit
        }
    }

    /// Rows newest first.
    public func entries(_ filter: Filter) async throws -> [AuditEntry] {
        try await pool.withConnection { db in
            try db.rows(AuditEntry.self, """
                SELECT id, \(londonTime("at")) AS at, login, uid, pid, method, object, outcome, before, after, message
                FROM audit
                WHERE (\(filter.object)::text IS NULL OR lower(object) = lower(\(filter.object)))
                  AND (\(filter.login)::text IS NULL OR login = \(filter.login))
                  AND (\(filter.since)::date IS NULL OR at >= (\(filter.since)::date::timestamp AT TIME ZONE 'Europe/London'))
                ORDER BY id DESC LIMIT \(filter.limit)
                """)
        }
    }
}

/// Compact JSON text of a value, for a jsonb parameter.
func jsonText(_ value: any Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
}

