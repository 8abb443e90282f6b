import BBCSCore
import Foundation

/// What watching needs from the database besides the change sequence: a filter's names as
/// the plan spells them, and the value a correction replaced.
public struct WatchLookups: Sendable {
    let pool: PGPool

    public init(pool: PGPool) { self.pool = pool }

    /// The objective with this code, ignoring case, as the plan spells it.
    public func objective(code: String) async throws -> String {
        try await pool.withConnection { db in
            struct Row: Decodable { let code: String }
            guard let row = try db.first(Row.self, "SELECT code FROM objectives WHERE lower(code) = lower(\(code)) ORDER BY id LIMIT 1") else {
                throw StoreError.notFound(kind: "objective", key: code)
            }
            return row.code
        }
    }

    /// The corrections among `changes` given `previousValue` (the value of the revision before)
    /// where their detail lacks it; the others unchanged.
    public func withPreviousValues(_ changes: [Change]) async throws -> [Change] {
        let wanted = changes.indices.filter { changes[$0].kind == .figureCorrected && Self.previousKey(changes[$0]) != nil }
        guard !wanted.isEmpty else { return changes }
        return try await pool.withConnection { db in
            var changes = changes
            for index in wanted {
                guard let key = Self.previousKey(changes[index]), case .object(var detail) = changes[index].detail else { continue }
                struct Row: Decodable { let value: Double }
                if let row = try db.first(Row.self, """
                    SELECT value::float8 AS value FROM figures
                    WHERE indicator_id = \(key.indicatorID) AND period = \(key.period) AND revision = \(key.revision - 1)
                    """) {
                    detail["previousValue"] = .number(row.value)
                    changes[index].detail = .object(detail)
                }
            }
            return changes
        }
    }

    /// The figure a correction's detail names, when it does not carry the value it replaced.
    private static func previousKey(_ change: Change) -> (indicatorID: Int, period: String, revision: Int)? {
        guard let indicatorID = change.indicatorID, case .object(let detail) = change.detail, detail["previousValue"] == nil,
              case .string(let period)? = detail["period"], case .number(let revision)? = detail["revision"],
              revision >= 2, revision <= Double(Int32.max), revision == revision.rounded() else { return nil }
        return (indicatorID, period, Int(revision))
    }
}
