import BBCSCore

/// Builders for the statements an import repeats for every table, keeping each row they
/// change as it was before and after. Table and column names come from code, never from
/// input, and go in as quoted identifiers; every value is a bound parameter.
struct RowSync {
    let db: PGConnection
    /// Every row inserted, updated or deleted, in order; a row written twice is one change.
    private(set) var changes: [RowChange] = []
    /// Where each upserted row's change is in `changes`, by table and key.
    private var upserted: [String: Int] = [:]

    init(_ db: PGConnection) { self.db = db }

    /// Rows inserted, updated or deleted, by table.
    var counts: [String: Int] { changes.reduce(into: [:]) { counts, change in counts[change.table, default: 0] += 1 } }

    /// Inserts or updates the row of `table` with `key`, writing only when a value differs
    /// and `unless` does not hold for the row (checked by the UPDATE itself, so a concurrent
    /// change that makes it hold is never overwritten); `object` is the code or name the
    /// row belongs to. `stamp` columns are written with the row whenever it is inserted or
    /// its values change, but a difference in them alone changes nothing (the plan revision
    /// that set a target). Returns the row's `id` when `returningID` is set (the table must have one).
    @discardableResult
    mutating func upsert(_ table: String, object: String, key: [(String, any PGParameter)], values: [(String, any PGParameter)],
                         stamp: [(String, any PGParameter)] = [], unless guardCondition: PGQuery = "false", returningID: Bool = true) throws -> Int {
        let keyWhere = Self.list(key, separator: " AND ") { "\(identifier: $0) = \($1)" }
        let returning = Row.columns(id: returningID)
        let link = key.map(\.0).first { $0.hasSuffix("_id") }
        func change(_ before: JSONValue?, _ after: JSONValue) -> RowChange {
            RowChange(table: table, object: object, key: key.map(\.0), link: link, before: before, after: after)
        }
        let identity = ([table] + key.map { $0.1.pgText ?? "" }).joined(separator: "\u{1F}")
        guard let existing = try db.first(Row.self, "SELECT \(returning) FROM \(identifier: table) t WHERE \(keyWhere) FOR UPDATE") else {
            let columns = Self.list(key + values + stamp, separator: ", ") { column, _ in "\(identifier: column)" }
            let placeholders = Self.list(key + values + stamp, separator: ", ") { _, value in "\(value)" }
            let inserted = try db.one(Row.self, """
                INSERT INTO \(identifier: table) AS t (\(columns)) VALUES (\(placeholders)) RETURNING \(returning)
                """)
            record(change(nil, inserted.row), as: identity)
            return inserted.id ?? 0
        }
        guard !values.isEmpty else { return existing.id ?? 0 }
        let sets = Self.list(values + stamp, separator: ", ") { "\(identifier: $0) = \($1)" }
        let differs = Self.list(values, separator: " OR ") { "\(identifier: $0) IS DISTINCT FROM \($1)" }
        if let updated = try db.first(Row.self, """
            UPDATE \(identifier: table) AS t SET \(sets) WHERE \(keyWhere) AND (\(differs)) AND NOT (\(guardCondition))
            RETURNING \(returning)
            """) {
            record(change(existing.row, updated.row), as: identity)
        }
        return existing.id ?? 0
    }

    /// Deletes the rows of `table` under `parent` (its column and id) that match `condition`;
    /// `object` is the code or name they belong to.
    mutating func delete(_ table: String, of parent: (column: String, id: Int), object: String, where condition: PGQuery) throws {
        let deleted = try db.rows(Row.self, """
            DELETE FROM \(identifier: table) AS t WHERE \(identifier: parent.column) = \(parent.id) AND (\(condition))
            RETURNING \(Row.columns(id: false))
            """)
        changes += deleted.map { RowChange(table: table, object: object, key: [], link: parent.column, before: $0.row, after: nil) }
    }

    /// Deletes the rows of `table` under `parent` at `count` or more: what a list that
    /// shrank leaves behind.
    mutating func trim(_ table: String, of parent: (column: String, id: Int), object: String, to count: Int) throws {
        try delete(table, of: parent, object: object, where: "position >= \(count)")
    }

    /// Adds `change`, or folds it into the earlier change of the same row.
    private mutating func record(_ change: RowChange, as identity: String) {
        guard let earlier = upserted[identity] else {
            upserted[identity] = changes.count
            changes.append(change)
            return
        }
        changes[earlier].after = change.after
    }

    /// A row as JSON, with its id when asked for.
    private struct Row: Decodable {
        let id: Int?
        let row: JSONValue

        /// The columns to select or return from the table, named `t`.
        static func columns(id: Bool) -> PGQuery { id ? "t.id AS id, to_jsonb(t) AS row" : "NULL::bigint AS id, to_jsonb(t) AS row" }
    }

    /// One piece per column and value, joined.
    private static func list(_ pairs: [(String, any PGParameter)], separator: PGQuery,
                             _ piece: (String, any PGParameter) -> PGQuery) -> PGQuery {
        pairs.map(piece).joined(separator: separator)
    }
}

/// A row an import inserted (no `before`), deleted (no `after`) or updated, as JSON objects
/// of its columns.
struct RowChange {
    var table: String
    /// The code or name the row belongs to.
    var object: String
    /// The columns that find the row, for an upserted one.
    var key: [String]
    /// The column linking the row to its object's row (`task_id`), if it has one.
    var link: String?
    var before: JSONValue?
    var after: JSONValue?

    var kind: ImportChange.Kind { before == nil ? .added : after == nil ? .removed : .changed }
}
