import BBCSDevCluster
import BBCSPostgres
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A primary and a streaming standby of it, each a private cluster on a socket folder of its
/// own, with the bbcs database; for the failover tests and fault scenarios, which kill, promote
/// and restart them through `PostgresCluster`.
public final class ReplicatedPostgres: Sendable {
    public let primary: PostgresCluster
    public let standby: PostgresCluster

    /// Starts both. With `synchronous`, the primary's commits wait until the standby has
    /// flushed them (`synchronous_standby_names = '*'`), so every write acknowledged before
    /// the primary dies is on the standby; the standby itself never waits for one.
    public init(prefix: String, synchronous: Bool = true) throws {
        let primary = PostgresCluster(directory: makeTemporaryDirectory(prefix + "-primary"))
        self.primary = primary
        standby = try blocking {
            try await primary.initializeIfNeeded()
            try await primary.start()
            try primary.createDatabaseIfNeeded()
            let standby = try await primary.makeStandby(in: makeTemporaryDirectory(prefix + "-standby"))
            try await standby.start()
            return standby
        }
        try waitFor("the standby to stream from the primary") { try primary.standbys().count == 1 }
        if synchronous {
            try primary.requireSynchronousStandby(true)
            try waitFor("the standby to become synchronous") { try primary.standbys().first?.synchronous == true }
        }
    }

    /// Both hosts in one libpq string, the primary first, as a deployment lists them.
    public var conninfo: String {
        "host=\(primary.socketDirectory.path),\(standby.socketDirectory.path) dbname=\(primary.database) user=\(primary.superuser) connect_timeout=5"
    }

    /// Stops both servers and removes their folders.
    public func remove() {
        for cluster in [primary, standby] {
            _ = try? blocking { try await cluster.stop() }
            try? FileManager.default.removeItem(at: cluster.directory)
        }
    }

    private func waitFor(_ what: String, _ condition: () throws -> Bool) throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try !condition() {
            guard ContinuousClock.now < deadline else { throw ReplicationTimeout(description: "waited 30 s for \(what)") }
            usleep(50_000)
        }
    }
}

struct ReplicationTimeout: Error, CustomStringConvertible {
    let description: String
}
