/// Builders for the statements an import repeats for every table. Table and column names
/// come from code, never from input; every value is a bound parameter.
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
        let keyParams = key.map { $0.1 }
        let keyWhere = key.enumerated().map { "\($0.element.0) = $\($0.offset + 1)" }.joined(separator: " AND ")
        let selected = returningID ? "id" : "1"
        let existing = try db.query("SELECT \(selected) FROM \(table) WHERE \(keyWhere) FOR UPDATE", keyParams)
        if existing.count == 0 {
            let columns = (key + values).map { $0.0 }
            let placeholders = columns.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
            let inserted = try db.query(
                "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))" + (returningID ? " RETURNING id" : ""),
                keyParams + values.map { $0.1 })
            changes[table, default: 0] += 1
            return returningID ? try inserted.int(0, 0) : 0
        }
        let id = returningID ? try existing.int(0, 0) : 0
        guard !values.isEmpty else { return id }
        let n = key.count
        let sets = values.enumerated().map { "\($0.element.0) = $\(n + $0.offset + 1)" }.joined(separator: ", ")
        let differs = values.enumerated().map { "\($0.element.0) IS DISTINCT FROM $\(n + $0.offset + 1)" }.joined(separator: " OR ")
        let updated = try db.query("UPDATE \(table) SET \(sets) WHERE \(keyWhere) AND (\(differs))", keyParams + values.map { $0.1 })
        changes[table, default: 0] += updated.affectedRows
        return id
    }

    /// Updates rows of `table` matching `condition` (with its parameters).
    mutating func update(_ table: String, set assignments: String, where condition: String, _ parameters: [any PGParameter]) throws {
        let updated = try db.query("UPDATE \(table) SET \(assignments) WHERE \(condition)", parameters)
        changes[table, default: 0] += updated.affectedRows
    }

    /// Deletes rows of `table` matching `condition` (with its parameters).
    mutating func delete(_ table: String, where condition: String, _ parameters: [any PGParameter]) throws {
        let deleted = try db.query("DELETE FROM \(table) WHERE \(condition)", parameters)
        changes[table, default: 0] += deleted.affectedRows
    }
}

/// PostgreSQL array literal for a text[] or integer[] parameter.
func pgArray(_ items: [String]) -> String {
    "{" + items.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        .joined(separator: ",") + "}"
}

func pgArray(_ items: [Int]) -> String { "{" + items.map(String.init).joined(separator: ",") + "}" }

/// Parses a PostgreSQL integer[] in text form ("{2,13}").
func parseIntArray(_ text: String?) -> [Int] {
    guard let text else { return [] }
    return text.trimmingCharacters(in: CharacterSet(charactersIn: "{}")).split(separator: ",").compactMap { Int($0) }
}

import Foundation
