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
                try await cluster.start()
            }
        } catch {
            fatalError("the test cluster did not start: \(error)")
        }
        atexit {
            ChildProcess.stopAll()
            _ = try? blocking { try await TestPostgres.shared.stop() }
        }
        return cluster
    }()

    /// A new, empty database in the shared cluster; returns its connection string.
    public static func freshDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let cluster = shared
        try PGConnection(conninfo: cluster.conninfo(database: "postgres")).execute("CREATE DATABASE \(identifier: name)")
        return cluster.conninfo(database: name)
    }
}
