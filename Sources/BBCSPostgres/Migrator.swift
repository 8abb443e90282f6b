import Foundation
import Logging

/// One ordered schema change: `Schema/NNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String

    /// Reads `NNN_name.sql` files from a folder, in version order. Versions must be unique.
    /// The runtime role's grants (`RuntimeGrants.fileName`) are not a migration.
    public static func load(from directory: URL) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") && $0 != RuntimeGrants.fileName }
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

/// What the runtime role may do (`Schema/privileges.sql`): SQL the owner runs after the
/// migrations, reading the runtime role's name from the setting `bbcs.runtime_role`.
public struct RuntimeGrants: Sendable, Equatable {
    /// The file's name in the schema folder.
    public static let fileName = "privileges.sql"
    public var sql: String

    /// Reads the grants from the schema folder.
    public static func load(from directory: URL) throws -> RuntimeGrants {
        let file = directory.appendingPathComponent(fileName)
        do {
            return RuntimeGrants(sql: try String(contentsOf: file, encoding: .utf8))
        } catch {
            throw PGError.unexpectedResult("cannot read the runtime role's grants \(file.path): \(error.localizedDescription)")
        }
    }

    /// Grants them to `role` on `db`, inside the caller's transaction; the role's name is a
    /// bound parameter, never part of the SQL text. A role that does not exist, or that
    /// could act as the owner or bypass privileges, is refused (the SQL checks again).
    func grant(to role: String, on db: PGConnection) throws {
        struct Standing: Decodable {
            let exists: Bool
            let privileged: Bool
        }
        let standing = try db.one(Standing.self, """
            SELECT count(*) > 0 AS exists,
                   coalesce(bool_or(rolsuper OR rolbypassrls OR pg_has_role(rolname, current_user, 'MEMBER')), false) AS privileged
            FROM pg_roles WHERE rolname = \(role)
            """)
        guard standing.exists else {
            throw RuntimeRoleRefused(role: role, problem: "does not exist: create it (createuser \(role)) or name another user in database")
        }
        guard !standing.privileged else {
            throw RuntimeRoleRefused(role: role, problem: "can act as the schema's owner or as a superuser: it must be a role of its own")
        }
        try db.execute("SELECT set_config('bbcs.runtime_role', \(role), true)")
        try db.execute(script: sql)
    }
}

/// The role `database` logs in as cannot be the runtime role.
public struct RuntimeRoleRefused: Error, CustomStringConvertible {
    public var role: String
    public var problem: String

    public var description: String { "the runtime role \(role) \(problem)" }
}

/// A migration the role connected could not apply: it does not own the schema.
public struct MigrationNeedsOwner: Error, CustomStringConvertible {
    public var version: Int
    public var role: String

    public var description: String {
        "migration \(version) needs the schema's owner, and bbcsd is connected as \(role): set migration_database to the "
            + "owner's connection string, or run bbcsd --migrate as the owner"
    }
}

/// Applies migrations at start, in one transaction under an advisory lock, so that daemons
/// starting together apply each migration once.
public enum Migrator {
    /// Arbitrary but fixed: the advisory lock key that serialises bbcs migrations.
    static let lockKey = 0x6262_6373  // "bbcs"

    /// Applies the migrations not yet recorded, and then, when `runtime` names a role other
    /// than the one `pool` connects as (the owner), its grants, all in one transaction;
    /// returns the versions applied now.
    @discardableResult
    public static func migrate(_ pool: PGPool, _ migrations: [Migration], runtime: (role: String, grants: RuntimeGrants)? = nil,
                               logger: Logger) async throws -> [Int] {
        let (applied, granted, ownsHistory) = try await pool.transaction { db -> ([Int], String?, Bool) in
            // A daemon waits for another's migration, however long, and a migration may take
            // longer than a request: the session's limits are off for this transaction only.
            try db.execute(script: "SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0")
            try db.execute("SELECT pg_advisory_xact_lock(\(lockKey))")
            let me = try db.one(String.self, "SELECT current_user::text")
            // Only the owner may create it; a runtime role finding it there has nothing to create.
            if try !db.exists("SELECT WHERE to_regclass('schema_migrations') IS NOT NULL") {
                do {
                    try db.execute("""
                        CREATE TABLE schema_migrations (
                            version integer PRIMARY KEY,
                            name text NOT NULL,
                            applied_at timestamptz NOT NULL DEFAULT now())
                        """)
                } catch let error as PGError where error.sqlState == "42501" {
                    throw MigrationNeedsOwner(version: migrations.first?.version ?? 0, role: me)
                }
            }
            let versions = Set(try db.rows(Int.self, "SELECT version FROM schema_migrations"))
            var now: [Int] = []
            for migration in migrations where !versions.contains(migration.version) {
                do {
                    try db.execute(script: migration.sql)
                } catch let error as PGError where error.sqlState == "42501" {
                    throw MigrationNeedsOwner(version: migration.version, role: me)
                }
                try db.execute("INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))")
                now.append(migration.version)
            }
            guard let runtime, runtime.role != me else {
                // Whoever migrates without a runtime role to grant serves as itself.
                let owns = try db.exists("""
                    SELECT FROM pg_class WHERE oid = to_regclass('audit') AND pg_has_role(current_user, relowner, 'USAGE')
                    """)
                return (now, nil, owns)
            }
            try runtime.grants.grant(to: runtime.role, on: db)
            return (now, runtime.role, false)
        }
        for version in applied { logger.info("applied migration", metadata: ["version": "\(version)"]) }
        if let granted { logger.info("granted the runtime role its privileges", metadata: ["role": "\(granted)"]) }
        if ownsHistory {
            logger.warning("""
                bbcsd connects as the owner of its schema (or a superuser), who can rewrite the audit trail: \
                give database a runtime role of its own and migration_database the owner (README, Deploying)
                """)
        }
        return applied
    }
}
