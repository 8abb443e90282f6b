import BBCSPostgres
import Foundation
import Logging

/// Brings the schema up to date as the configuration says: over `migration_database`, as
/// the schema's owner, granting the role `database` logs in as what it may do; or, when
/// that is unset (the owner serves, as before roles were split), over `database`.
public struct SchemaMigration: Sendable {
    let migrations: [Migration]
    let conninfo: String
    /// The serving role and its grants, when an owner migrates.
    let runtime: (role: String, grants: RuntimeGrants)?

    public init(_ configuration: DaemonConfiguration) throws {
        migrations = try Migration.load(from: configuration.schemaDirectory)
        guard let owner = configuration.migrationDatabase else {
            conninfo = configuration.database
            runtime = nil
            return
        }
        guard let role = ConnectionString.role(of: configuration.database) else {
            throw PGError.unexpectedResult("cannot tell which role database logs in as: give it a user")
        }
        conninfo = owner
        runtime = (role, try RuntimeGrants.load(from: configuration.schemaDirectory))
    }

    /// The role whose privileges the migration grants; nil when it grants none.
    public var runtimeRole: String? { runtime?.role }

    /// Applies what is missing on a connection of its own, closed again after; returns the
    /// versions applied now.
    @discardableResult
    public func run(logger: Logger) async throws -> [Int] {
        let pool = PGPool(conninfo: conninfo, size: 1)
        do {
            let applied = try await Migrator.migrate(pool, migrations, runtime: runtime, logger: logger)
            await pool.shutdown()
            return applied
        } catch {
            await pool.shutdown()
            throw error
        }
    }
}
