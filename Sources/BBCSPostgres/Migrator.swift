import Foundation
import Logging

/// One ordered schema change: `Schema/NNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String

    /// Reads `NNN_name.sql` files from a folder, in version order. Versions must be unique.
    public static func load(from directory: URL) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        var seen: [Int: String] = [:]
        return try files.map { file -> Migration in
            let stem = String(file.dropLast(4))
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
                throw PGError.unexpectedResult("migration file \(file) is not named NNN_name.sql")
            }
            if let other = seen[version] { throw PGError.unexpectedResult("migrations \(other) and \(file) share version \(version)") }
            seen[version] = file
            let sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            return Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql)
        }.sorted { $0.version < $1.version }
    }
}

/// Applies migrations at start, in one transaction under an advisory lock, so that daemons
/// starting together apply each migration once.
public enum Migrator {
    /// Arbitrary but fixed: the advisory lock key that serialises bbcs migrations.
    static let lockKey = 0x6262_6373  // "bbcs"

    /// Applies the migrations not yet recorded; returns the versions applied now.
    @discardableResult
    public static func migrate(_ pool: PGPool, _ migrations: [Migration], logger: Logger) async throws -> [Int] {
        let applied = try await pool.transaction { db -> [Int] in
            // A daemon waits for another's migration, however long, and a migration may take
            // longer than a request: the session's limits are off for this transaction only.
            try db.execute(script: "SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0")
            try db.execute("SELECT pg_advisory_xact_lock(\(lockKey))")
            try db.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """)
            let versions = Set(try db.rows(Int.self, "SELECT version FROM schema_migrations"))
            var now: [Int] = []
            for migration in migrations where !versions.contains(migration.version) {
                try db.execute(script: migration.sql)
                try db.execute("INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))")
                now.append(migration.version)
            }
            return now
        }
        for version in applied { logger.info("applied migration", metadata: ["version": "\(version)"]) }
        return applied
    }
}
