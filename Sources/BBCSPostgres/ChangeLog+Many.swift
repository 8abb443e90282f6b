import BBCSCore

extension ChangeLog {
    /// Records changes of one kind, one per detail, in one statement inside the transaction
    /// that makes them (one notification for all), with the request key of the write (stored
    /// with the highest seq, once per transaction); returns the highest seq (nil when none).
    @discardableResult
    public static func record(_ db: PGConnection, _ kind: Change.Kind, login: String?, details: [JSONValue],
                              key: RequestKey? = nil) throws -> Int64? {
        guard !details.isEmpty else { return nil }
        var keyed: PGQuery = ""
        if let key { keyed = ", keyed AS (\(key.insert(seqFrom: "(SELECT max(seq) AS seq FROM added) AS latest")))" }
        return try db.one(Int64.self, """
            WITH added AS (
                INSERT INTO changes (kind, login, detail)
                SELECT \(kind), \(login), d FROM unnest(\(details.map(jsonText))::jsonb[]) WITH ORDINALITY AS u(d, n) ORDER BY n
                RETURNING seq)\(keyed)
            SELECT max(seq) FROM added
            """)
    }

    /// The changes whose seq lies in one of `ranges` (the gaps a reader is still waiting
    /// for), oldest first, at most `limit`.
    public static func changes(in ranges: [ClosedRange<Int64>], limit: Int = 10_000, _ db: PGConnection) throws -> [Change] {
        guard !ranges.isEmpty else { return [] }
        return try db.rows(Change.self, """
            SELECT c.seq, \(londonTime("c.at")) AS at, c.kind, c.indicator_id, c.task_id, c.login, c.detail
            FROM unnest(\(ranges.map(\.lowerBound))::bigint[], \(ranges.map(\.upperBound))::bigint[]) AS r(low, high)
            JOIN changes c ON c.seq BETWEEN r.low AND r.high
            ORDER BY c.seq LIMIT \(limit)
            """)
    }
}
