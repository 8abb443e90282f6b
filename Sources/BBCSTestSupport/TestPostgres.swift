import BBCSDevCluster
import BBCSPostgres
import Foundation

/// Private PostgreSQL clusters for tests, run as the `postgres` account when the tests run as root.
public enum TestPostgres {
    /// One cluster shared by every test of this process; each daemon gets a database of its own.
    /// It stops when the process exits, after the children still running.
    public static let shared: PostgresCluster = {
        let cluster = PostgresCluster(directory: makeTemporaryDirectory("bbcs-test-pg"))
        do {
            try blocking {
                try await cluster.initializeIfNeeded()
                try await cluster.start(maxConnections: 200)  // parallel suites, each daemon with its pool, change feed and health probe
            }
            try cluster.createRolesIfNeeded(try PGConnection(conninfo: cluster.conninfo(database: "postgres")))
        } catch {
            fatalError("the test cluster did not start: \(error)")
        }
        atexit {
            ChildProcess.stopAll()
            _ = try? blocking { try await TestPostgres.shared.stop() }
        }
        return cluster
    }()

    /// A new, empty database in the shared cluster, owned by the cluster's owner role;
    /// returns its connection string as the superuser, for a test's own edits by hand
    /// (`runtime(_:)` and `owner(_:)` give the daemon's).
    public static func freshDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let cluster = shared
        try PGConnection(conninfo: cluster.conninfo(database: "postgres"))
            .execute("CREATE DATABASE \(identifier: name) OWNER \(identifier: cluster.ownerRole)")
        return cluster.conninfo(database: name)
    }

    /// `conninfo` (a test cluster's, keywords) as the runtime role the daemon serves as.
    public static func runtime(_ conninfo: String) -> String { conninfo + " user=\(PostgresCluster.runtimeRole)" }

    /// `conninfo` (a test cluster's, keywords) as the role that owns the schema and migrates it.
    public static func owner(_ conninfo: String) -> String { conninfo + " user=\(PostgresCluster.ownerRole)" }

    /// The arguments that make a daemon serve `conninfo`'s database as the runtime role and
    /// migrate it as the owner. libpq takes the last `user` of a connection string.
    public static func daemonArguments(_ conninfo: String) -> [String] {
        ["--database", runtime(conninfo), "--migration-database", owner(conninfo)]
    }
}
