/// Builders for the statements an import repeats for every table. Table and column names
/// come from code, never from input, and go in as quoted identifiers; every value is a
/// bound parameter.
struct RowSync {
    let db: PGConnection
    /// Rows inserted, updated or deleted, by table.
    private(set) var changes: [String: Int] = [:]

    init(_ db: PGConnection) { self.db = db }

    /// Inserts or updates the row of `table` with `key`, writing only when a value differs.
    /// Returns the row's `id` when `returningID` is set (the table must have one).
    @discardableResult
    mutating func upsert(_ table: String, key: [(String, any PGParameter)], values: [(String, any PGParameter)],
                         returningID: Bool = true) throws -> Int {
        let keyWhere = Self.list(key, separator: " AND ") { "\(identifier: $0) = \($1)" }
        let selected: PGQuery = returningID ? "id" : "1"
        guard let existing = try db.first(Int.self, "SELECT \(selected) FROM \(identifier: table) WHERE \(keyWhere) FOR UPDATE") else {
            let columns = Self.list(key + values, separator: ", ") { column, _ in "\(identifier: column)" }
            let placeholders = Self.list(key + values, separator: ", ") { _, value in "\(value)" }
            let id = try db.one(Int.self, "INSERT INTO \(identifier: table) (\(columns)) VALUES (\(placeholders)) RETURNING \(selected)")
            changes[table, default: 0] += 1
            return returningID ? id : 0
        }
        guard !values.isEmpty else { return returningID ? existing : 0 }
        let sets = Self.list(values, separator: ", ") { "\(identifier: $0) = \($1)" }
        let differs = Self.list(values, separator: " OR ") { "\(identifier: $0) IS DISTINCT FROM \($1)" }
        let updated = try db.execute("UPDATE \(identifier: table) SET \(sets) WHERE \(keyWhere) AND (\(differs))")
        changes[table, default: 0] += updated.affectedRows
        return returningID ? existing : 0
    }

    /// Updates rows of `table` matching `condition`.
    mutating func update(_ table: String, set assignments: PGQuery, where condition: PGQuery) throws {
        let updated = try db.execute("UPDATE \(identifier: table) SET \(assignments) WHERE \(condition)")
        changes[table, default: 0] += updated.affectedRows
    }

    /// Deletes rows of `table` matching `condition`.
    mutating func delete(_ table: String, where condition: PGQuery) throws {
        let deleted = try db.execute("DELETE FROM \(identifier: table) WHERE \(condition)")
        changes[table, default: 0] += deleted.affectedRows
    }

    /// Deletes the rows of `table` under `parent` (its column and id) at `count` or more:
    /// what a list that shrank leaves behind.
    mutating func trim(_ table: String, of parent: (column: String, id: Int), to count: Int) throws {
        try delete(table, where: "\(identifier: parent.column) = \(parent.id) AND position >= \(count)")
    }

    /// One piece per column and value, joined.
    private static func list(_ pairs: [(String, any PGParameter)], separator: PGQuery,
                             _ piece: (String, any PGParameter) -> PGQuery) -> PGQuery {
        pairs.map(piece).joined(separator: separator)
    }
}
