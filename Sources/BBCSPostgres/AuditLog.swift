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

    /// The INSERT of a change's audit row as a part of a one-statement write: one row per row
    /// of `source` (a CTE of the same statement), so none when the guarded write wrote nothing.
    static func insert(_ actor: Actor, _ record: AuditRecord, from source: PGQuery) -> PGQuery {
        let p = actor.principal
        return """
            INSERT INTO audit (at, login, uid, pid, method, object, outcome, before, after, message)
            SELECT \(timestamp(actor.recordedAt)), \(p.login)::text, \(p.uid)::bigint, \(p.pid)::integer, \(actor.method)::text,
                   \(bounded(record.object, bytes: 200))::text, 'ok', \(record.before.map(jsonText))::jsonb,
                   \(record.after.map(jsonText))::jsonb, \(record.message)::text
            FROM \(source)
            """
    }

    /// A refused attempt as its audit row holds it, every value cut to what the row and its
    /// index can take (each cut marked in place with the size it had), or several identical
    /// refusals standing as one row.
    public struct Refusal: Sendable {
        public var login: String
        public var uid: UInt32
        /// The process of the (last) attempt.
        public var pid: Int32
        public var method: String
        public var object: String?
        public var outcome: AuditEntry.Outcome
        /// The request's parameters as JSON text, kept as the row's "after".
        public var params: String?
        public var message: String
        /// When the (first) attempt was made, in real time.
        public var at: Date
        /// How many attempts the row stands for, made from `at` to `lastAt`.
        public var attempts = 1
        public var lastAt: Date?

        /// The refusal of `actor`'s attempt, with its request's `object` and `params` as sent.
        public init(_ actor: Actor, object: String?, params: JSONValue?, denial: Denial) {
            let p = actor.principal
            login = p.login; uid = p.uid; pid = p.pid; method = actor.method; at = actor.recordedAt
            self.object = object.map { AuditLog.bounded($0, bytes: 200) }
            outcome = denial.unauthenticated ? .unauthenticated : .denied
            self.params = params.map(AuditLog.paramsText)
            message = AuditLog.bounded(denial.message, bytes: 1000)
        }
    }

    /// Records refused attempts, in a transaction of their own (each attempt's was rolled back or never began).
    public func record(_ refusals: [Refusal]) async throws {
        guard !refusals.isEmpty else { return }
        try await pool.transaction { db in
            for r in refusals {
                try db.execute("""
                    INSERT INTO audit (at, login, uid, pid, method, object, outcome, after, message, attempts, last_at)
                    VALUES (\(timestamp(r.at)), \(r.login), \(r.uid), \(r.pid), \(r.method), \(r.object), \(r.outcome),
                            \(r.params)::jsonb, \(r.message), \(r.attempts), \(timestamp(r.lastAt)))
                    """)
            }
        }
    }

    private static func insert(_ db: PGConnection, _ actor: Actor, object: String?, outcome: AuditEntry.Outcome,
                               before: String?, after: String?, message: String?) throws {
        let p = actor.principal
        try db.execute("""
            INSERT INTO audit (at, login, uid, pid, method, object, outcome, before, after, message)
            VALUES (\(timestamp(actor.recordedAt)), \(p.login), \(p.uid), \(p.pid), \(actor.method), \(object.map { bounded($0, bytes: 200) }),
                    \(outcome), \(before)::jsonb, \(after)::jsonb, \(message))
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
                SELECT id, \(londonTime("at")) AS at, login, uid, pid, method, object, outcome, before, after, message,
                       attempts, \(londonTime("last_at")) AS last_at
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
    // A stored value no Double holds reads as infinity; its audit row keeps it as the wire does.
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
}

extension AuditLog {
    /// Longest JSON text of a refused request's parameters kept whole.
    static let paramsBytes = 4096

    /// `text` as a row can hold it: NUL (which PostgreSQL's text cannot) shown as "␀", and cut
    /// after at most `bytes` bytes of UTF-8 with its full size noted: "ComS_0… (450,024 bytes)".
    static func bounded(_ text: String, bytes: Int) -> String {
        let size = text.utf8.count
        guard size > bytes || text.utf8.contains(0) else { return text }
        var kept = String.UnicodeScalarView(), used = 0
        for scalar in text.unicodeScalars {
            let shown: Unicode.Scalar = scalar == "\0" ? "␀" : scalar
            used += UTF8.width(shown)
            if used > bytes { break }
            kept.append(shown)
        }
        return size > bytes ? String(kept) + "… (\(grouped(size)) bytes)" : String(kept)
    }

    /// A refused request's parameters as jsonb text: whole when short, else valid JSON still,
    /// within about `paramsBytes`, each long string cut and each long list or object ended
    /// by a note of what was left out.
    static func paramsText(_ params: JSONValue) -> String {
        if let whole = try? encoded(params), whole.utf8.count <= paramsBytes, !whole.contains("\\u0000") { return whole }
        var budget = paramsBytes
        let shrunk = shrink(params, depth: 0, budget: &budget)
        // An encoding failure (a number JSON cannot hold) leaves its size unknown, never the row unwritten.
        return (try? encoded(shrunk)) ?? #"{"omitted":"parameters that could not be encoded"}"#
    }

    private static func encoded(_ value: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// `value` within `budget` bytes or so: each string at most 200 bytes, each key 64, at most
    /// eight levels deep, each field of an object its share; what does not fit is one note
    /// string in its place.
    private static func shrink(_ value: JSONValue, depth: Int, budget: inout Int) -> JSONValue {
        switch value {
        case .null, .bool, .number:
            budget -= 8
            return value
        case .string(let s):
            let cut = bounded(s, bytes: max(16, min(200, budget)))
            budget -= cut.utf8.count + 3
            return .string(cut)
        case .array(let items):
            guard depth < 8 else { return .string("… (a list of \(grouped(items.count)))") }
            budget -= 2
            var kept: [JSONValue] = []
            for item in items {
                if budget <= 0 {
                    kept.append(.string("… (\(grouped(items.count - kept.count)) more)"))
                    break
                }
                kept.append(shrink(item, depth: depth + 1, budget: &budget))
            }
            return .array(kept)
        case .object(let fields):
            guard depth < 8 else { return .string("… (an object of \(grouped(fields.count)) keys)") }
            budget -= 2
            var kept: [String: JSONValue] = [:]
            for (index, field) in fields.sorted(by: { $0.key < $1.key }).enumerated() {
                if budget <= 0 {
                    kept["…"] = .string("\(grouped(fields.count - index)) more keys")
                    break
                }
                let name = bounded(field.key, bytes: 64)
                budget -= name.utf8.count + 4
                // A share for each field, so that a long one leaves room for those after it.
                let share = max(32, budget / (fields.count - index))
                var left = share
                kept[name] = shrink(field.value, depth: depth + 1, budget: &left)
                budget -= share - left
            }
            return .object(kept)
        }
    }

    /// 450024 as "450,024", whatever the locale.
    static func grouped(_ n: Int) -> String {
        var digits = String(n.magnitude), groups: [Substring] = []
        while digits.count > 3 {
            groups.insert(digits.suffix(3), at: 0)
            digits.removeLast(3)
        }
        return (n < 0 ? "-" : "") + ([Substring(digits)] + groups).joined(separator: ",")
    }
}
