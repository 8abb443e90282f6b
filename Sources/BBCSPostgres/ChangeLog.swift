import BBCSCore
import Foundation

/// The change sequence (`changes`, Schema/008): every write records one row in its own
/// transaction; PostgreSQL notifies channel `bbcs_changes` at commit, and each daemon reads
/// what changed since the last seq it applied.
public enum ChangeLog {
    /// The channel every daemon LISTENs on; the payload is the highest seq a statement wrote.
    public static let channel = "bbcs_changes"

    /// Records a change inside the transaction that makes it, with the request key of the
    /// write (`PGPool.keyedTransaction`), stored once per transaction; returns its seq.
    @discardableResult
    public static func record(_ db: PGConnection, _ kind: Change.Kind, indicatorID: Int? = nil, taskID: Int? = nil,
                              login: String?, detail: JSONValue? = nil, key: RequestKey? = nil) throws -> Int64 {
        guard let key else {
            return try db.one(Int64.self, """
                INSERT INTO changes (kind, indicator_id, task_id, login, detail)
                VALUES (\(kind), \(indicatorID), \(taskID), \(login), \(detail.map(jsonText))::jsonb) RETURNING seq
                """)
        }
        return try db.one(Int64.self, """
            WITH added AS (
                INSERT INTO changes (kind, indicator_id, task_id, login, detail)
                VALUES (\(kind), \(indicatorID), \(taskID), \(login), \(detail.map(jsonText))::jsonb) RETURNING seq),
            keyed AS (\(key.insert(seqFrom: "added")))
            SELECT seq FROM added
            """)
    }

    /// The INSERT of one change row as a part of a larger statement (a CTE), for writes made in
    /// one round trip: `\(ChangeLog.insert(...)) RETURNING seq`. With `source` (a CTE of the
    /// same statement), one row per row of it: none when the guarded write wrote nothing.
    public static func insert(_ kind: Change.Kind, indicatorID: PGQuery, taskID: PGQuery, login: String, detail: PGQuery,
                              from source: PGQuery? = nil) -> PGQuery {
        guard let source else {
            return "INSERT INTO changes (kind, indicator_id, task_id, login, detail) VALUES (\(kind), \(indicatorID), \(taskID), \(login), \(detail))"
        }
        return """
            INSERT INTO changes (kind, indicator_id, task_id, login, detail)
            SELECT \(kind)::text, \(indicatorID), \(taskID), \(login)::text, \(detail) FROM \(source)
            """
    }

    /// Changes with a seq above `seq`, oldest first, at most `limit`.
    public static func changes(after seq: Int64, limit: Int = 10_000, _ db: PGConnection) throws -> [Change] {
        try db.rows(Change.self, """
            SELECT seq, \(londonTime("at")) AS at, kind, indicator_id, task_id, login, detail
            FROM changes WHERE seq > \(seq) ORDER BY seq LIMIT \(limit)
            """)
    }

    /// The highest seq recorded (0 when none).
    public static func latest(_ db: PGConnection) throws -> Int64 {
        try db.one(Int64.self, "SELECT coalesce(max(seq), 0) FROM changes")
    }
}
