import BBCSClient
import BBCSDevCluster
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why the suite could not set up or apply a fault (not a finding about the daemon).
public struct FaultSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The private cluster every scenario runs on, in a temporary folder; each scenario gets a
/// database and a daemon of its own.
public final class FaultRig: Sendable {
    public let work: URL
    public let cluster: PostgresCluster
    /// PostgreSQL's max_connections, at every start.
    let maxConnections: Int

    public init(maxConnections: Int) throws {
        self.maxConnections = maxConnections
        work = makeTemporaryDirectory("bbcs-faults")
        cluster = PostgresCluster(directory: work.appendingPathComponent("postgres"))
        let cluster = self.cluster
        try blocking {
            try await cluster.initializeIfNeeded()
            try await cluster.start(maxConnections: maxConnections)
        }
    }

    /// A new, empty database; returns its name.
    func freshDatabase(_ prefix: String) throws -> String {
        let name = "\(prefix.replacingOccurrences(of: "-", with: "_"))_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try PGConnection(conninfo: cluster.conninfo(database: "postgres"))
        try cluster.createRolesIfNeeded(admin)
        try admin.execute("CREATE DATABASE \(identifier: name) OWNER \(identifier: cluster.ownerRole)")
        return name
    }

    /// Starts PostgreSQL unless it runs. A postmaster killed here stays a zombie (no init
    /// reaps it) that kill(pid, 0) still finds, so the lock files naming a dead or zombie
    /// postmaster are removed first, as an operator would after a crash.
    func startCluster() throws {
        let cluster = self.cluster
        let maxConnections = self.maxConnections
        if let postmaster = try? cluster.postmasterPID(), waitUntilGone(postmaster, within: .zero) {
            try? FileManager.default.removeItem(at: cluster.dataDirectory.appendingPathComponent("postmaster.pid"))
            try? FileManager.default.removeItem(at: cluster.socketDirectory.appendingPathComponent(".s.PGSQL.5432.lock"))
        }
        try blocking { _ = try await cluster.start(maxConnections: maxConnections) }
    }

    func stopCluster() throws {
        let cluster = self.cluster
        try blocking { try await cluster.stop() }
    }

    /// Stops the cluster and, unless `keep`, removes the folder.
    public func remove(keep: Bool = false) {
        let cluster = self.cluster
        _ = try? blocking { try await cluster.stop() }
        if !keep { try? FileManager.default.removeItem(at: work) }
    }
}

/// The real bbcsd (built beside this program) on one database of the rig, serving the shipped
/// plan with this program's login as an administrator; it can be killed and started again on
/// the same socket, its output appended to one log.
public final class FaultDaemon {
    public let conninfo: String
    public let socket: String
    public let logPath: String
    private let arguments: [String]
    private let environment: [String: String]
    public private(set) var process: ChildProcess

    init(rig: FaultRig, database: String, requestTimeout: Int, connections: Int) throws {
        conninfo = rig.cluster.conninfo(database: database)
        let folder = rig.work.appendingPathComponent(database)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        socket = folder.appendingPathComponent("bbcsd.sock").path
        logPath = folder.appendingPathComponent("bbcsd.log").path
        // Served as the runtime role and migrated as the owner, as an install is; `conninfo`
        // (the superuser's) stays for the checker's reads and the faults' own statements.
        arguments = TestPostgres.daemonArguments(conninfo) + ["--socket", socket, "--plan", shippedPlanURL.path, "--admin", currentLogin,
                     "--schema", packageRoot.appendingPathComponent("Schema").path, "--log-level", "notice",
                     "--now", "2026-07-10T09:00:00Z"]
        // The deadline settings are read by daemons that have them, and ignored by older ones.
        environment = ["BBCS_MAX_CONNECTIONS_PER_UID": "\(connections)", "BBCS_REQUEST_TIMEOUT": "\(requestTimeout)"]
        process = try ChildProcess(binDirectory.appendingPathComponent("bbcsd").path, arguments, logPath: logPath,
                                   environment: environment)
        guard waitUntilServing(within: .seconds(120)) else {
            process.stop(SIGKILL)
            throw FaultSetupError("bbcsd did not serve within 120 s; its log is \(logPath)")
        }
    }

    /// Starts the daemon again after it exited.
    func restart() throws {
        process = try ChildProcess(binDirectory.appendingPathComponent("bbcsd").path, arguments, logPath: logPath,
                                   environment: environment)
    }

    /// True once the daemon answers `system.hello` (false if it exits or the time passes).
    @discardableResult
    func waitUntilServing(within limit: Duration) -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            guard process.isRunning else { return false }
            if let client = try? Client(socketPath: socket), (try? client.call(HelloRequest())) != nil { return true }
            usleep(50_000)
        }
        return false
    }

    /// The daemon's log so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func stop() { process.stop() }
}
