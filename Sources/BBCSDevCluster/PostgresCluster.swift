import BBCSPostgres
import BBCSProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL cluster in a folder of its own, reachable only on a Unix socket in
/// that folder, for `bbcsd --dev`, the tests and the benchmark (never a deployment).
///
/// PostgreSQL refuses to run as root, so when this process is root the cluster's files
/// belong to, and its server runs as, an unprivileged account (`postgres` by default).
public struct PostgresCluster: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case missingBinaries(String)
        case commandFailed(command: String, status: Int32, output: String)
        case noAccount(String)

        public var description: String {
            switch self {
            case .missingBinaries(let dir): return "PostgreSQL server programs not found in \(dir) (install postgresql, or set BBCS_PG_BINDIR)"
            case .commandFailed(let command, let status, let output):
                return "\(command) failed with status \(status): \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
            case .noAccount(let name): return "running as root needs an unprivileged account for PostgreSQL, and \"\(name)\" does not exist"
            }
        }
    }

    /// The cluster's folder: data in `data/`, the socket and the server log beside it.
    public let directory: URL
    /// The account the server runs as when this process is root.
    public let serverAccount: String
    public let database = "bbcs"
    public let superuser = "bbcs"
    /// The role that owns the bbcs database and its schema, and migrates it.
    public static let ownerRole = "bbcs_owner"
    /// The role the daemon serves as, with what `Schema/privileges.sql` grants it and no more.
    public static let runtimeRole = "bbcs_runtime"
    public var ownerRole: String { Self.ownerRole }
    public var runtimeRole: String { Self.runtimeRole }

    public init(directory: URL, serverAccount: String = "postgres") {
        self.directory = directory.standardizedFileURL
        self.serverAccount = serverAccount
    }

    public var dataDirectory: URL { directory.appendingPathComponent("data") }
    public var socketDirectory: URL { directory.appendingPathComponent("run") }
    public var logFile: URL { directory.appendingPathComponent("postgresql.log") }

    /// The libpq connection string for the bbcs database.
    public var conninfo: String { conninfo(database: database) }

    /// The libpq connection string for one of the cluster's databases, as its superuser
    /// unless `role` names another.
    public func conninfo(database: String, role: String? = nil) -> String {
        "host=\(socketDirectory.path) dbname=\(database) user=\(role ?? superuser) connect_timeout=5"
    }

    /// The bbcs database as the runtime role: what a daemon serves with.
    public var runtimeConninfo: String { conninfo(database: database, role: runtimeRole) }

    /// The bbcs database as its owner: what a daemon migrates with.
    public var ownerConninfo: String { conninfo(database: database, role: ownerRole) }

    /// Where PostgreSQL's server programs are: $BBCS_PG_BINDIR, `pg_config --bindir`, or Debian's place.
    public static func binDirectory() async -> String {
        if let dir = ProcessInfo.processInfo.environment["BBCS_PG_BINDIR"], !dir.isEmpty { return dir }
        if let out = try? await run("/usr/bin/env", ["pg_config", "--bindir"]), FileManager.default.fileExists(atPath: out + "/initdb") {
            return out
        }
        let debian = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.sorted().last
        return debian.map { "/usr/lib/postgresql/\($0)/bin" } ?? "/usr/lib/postgresql/15/bin"
    }

    /// True when a cluster has been created in the folder.
    public var isInitialized: Bool { FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) }

    /// Creates the cluster if the folder has none yet. The folder (created if missing) and its
    /// `run/` must be real folders of this process's user (or, as root, of the server's
    /// account, which is then given both) that no one else may write to.
    public func initializeIfNeeded() async throws {
        try prepareFolders()
        guard !isInitialized else { return }
        let bin = await Self.binDirectory()
        guard FileManager.default.isExecutableFile(atPath: bin + "/initdb") else { throw Failure.missingBinaries(bin) }
        try await runServerCommand(bin + "/initdb", ["-D", dataDirectory.path, "-U", superuser, "--auth=trust",
                                               "-E", "UTF8", "--no-locale", "--no-sync"])
    }

    /// Opens the cluster's folder and `run/` without following a link, checks them, and as
    /// root hands each descriptor (never a path) to the server's account.
    func prepareFolders() throws {
        var account: (uid: uid_t, gid: gid_t)?
        if geteuid() == 0 {
            guard let entry = getpwnam(serverAccount) else { throw Failure.noAccount(serverAccount) }
            account = (entry.pointee.pw_uid, entry.pointee.pw_gid)
        }
        let owners = Set([geteuid()] + [account?.uid].compactMap { $0 })
        try FileManager.default.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
        let folder = try OwnedFolder(directory.path, creatingWith: 0o700, owners: owners)
        if let account { try folder.handOver(to: account.uid, account.gid) }
        let run = try folder.child("run", creatingWith: 0o700, owners: owners)
        if let account { try run.handOver(to: account.uid, account.gid) }
    }

    /// Starts the server on the private socket and waits until it accepts connections;
    /// returns false when it was already running. `maxConnections` is PostgreSQL's
    /// max_connections (the load benchmark's pgbench opens one per client); `settings` are
    /// more server settings for this run (values without quotes), over the configuration files'.
    @discardableResult
    public func start(maxConnections: Int = 100, settings: [String: String] = [:]) async throws -> Bool {
        if await isRunning() { return false }
        let options = "-c listen_addresses='' -c unix_socket_directories='\(socketDirectory.path)' -c unix_socket_permissions=0700 "
            + "-c fsync=on -c max_connections=\(maxConnections)"
            + settings.sorted { $0.key < $1.key }.map { " -c \($0.key)='\($0.value)'" }.joined()
        try await pgCtl(["-l", logFile.path, "-o", options, "-w", "-t", "60", "start"])
        return true
    }

    /// Stops the server quickly (open transactions roll back); does nothing if it is not running.
    public func stop() async throws {
        guard await isRunning() else { return }
        try await pgCtl(["-m", "fast", "-w", "-t", "60", "stop"])
    }

    /// True when a server runs on the cluster's data folder.
    public func isRunning() async -> Bool {
        (try? await pgCtl(["status"])) != nil
    }

    /// Creates the owner and runtime roles, and the bbcs database owned by the owner, when
    /// the cluster does not have them yet. A database an older bbcs left owned by the
    /// superuser is handed to the owner, with the schema in it.
    public func createDatabaseIfNeeded() throws {
        let admin = try PGConnection(conninfo: conninfo(database: "postgres"))
        try createRolesIfNeeded(admin)
        guard let owner = try admin.first(String.self, "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = \(database)") else {
            try admin.execute("CREATE DATABASE \(identifier: database) OWNER \(identifier: ownerRole)")
            return
        }
        if owner == superuser { try handOver(database) }
    }

    /// Creates the owner and runtime roles if missing: plain login roles (the cluster trusts
    /// its private socket), members of nothing.
    public func createRolesIfNeeded(_ admin: PGConnection) throws {
        for role in [ownerRole, runtimeRole] where try !admin.exists("SELECT FROM pg_roles WHERE rolname = \(role)") {
            try admin.execute("CREATE ROLE \(identifier: role) LOGIN")
        }
    }

    /// Gives `name` and what the superuser owns in its public schema to the owner role.
    private func handOver(_ name: String) throws {
        let db = try PGConnection(conninfo: conninfo(database: name))
        try db.transaction {
            try db.execute("ALTER DATABASE \(identifier: name) OWNER TO \(identifier: ownerRole)")
            try db.execute("SELECT set_config('bbcs.owner_role', \(ownerRole), true)")
            // ALTER TABLE takes the table's indexes and serial sequences along.
            try db.execute(script: """
                DO $$
                DECLARE
                    item record;
                BEGIN
                    FOR item IN SELECT c.oid::regclass AS name FROM pg_class c
                                WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
                                    AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) LOOP
                        EXECUTE format('ALTER TABLE %s OWNER TO %I', item.name, current_setting('bbcs.owner_role'));
                    END LOOP;
                    FOR item IN SELECT p.oid::regprocedure AS name FROM pg_proc p
                                WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) LOOP
                        EXECUTE format('ALTER FUNCTION %s OWNER TO %I', item.name, current_setting('bbcs.owner_role'));
                    END LOOP;
                END $$
                """)
        }
    }

    /// `createDatabaseIfNeeded` on a thread of its own: libpq blocks, and Swift's cooperative
    /// pool must not.
    public func createDatabaseOffPool() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            Thread { continuation.resume(with: Result { try createDatabaseIfNeeded() }) }.start()
        }
    }

    /// Runs pg_ctl on the cluster's data folder.
    @discardableResult
    func pgCtl(_ arguments: [String]) async throws -> String {
        try await runServerCommand(await Self.binDirectory() + "/pg_ctl", ["-D", dataDirectory.path] + arguments)
    }

    /// Runs a server program as the server's account.
    @discardableResult
    func runServerCommand(_ program: String, _ arguments: [String]) async throws -> String {
        if geteuid() == 0 {
            // From "/", which the server's account can always read, whatever this process's directory.
            return try await Self.run("/usr/sbin/runuser", ["-u", serverAccount, "--", "/usr/bin/env", "-C", "/", program] + arguments)
        }
        return try await Self.run(program, arguments)
    }

    /// Runs a program, returning its trimmed output, or throwing with it when it fails or
    /// outlasts two minutes (pg_ctl itself waits at most 60 s). The server that `pg_ctl start`
    /// leaves behind keeps the output pipe open; the run ends when pg_ctl does all the same.
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) async throws -> String {
        let outcome: Program.Outcome
        do {
            outcome = try await Program(program, arguments).run(deadline: .seconds(120))
        } catch {
            throw Failure.commandFailed(command: program, status: -1, output: "\(error)")
        }
        let text = outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard outcome.status == 0 && !outcome.timedOut else {
            throw Failure.commandFailed(command: ([program] + arguments).joined(separator: " "), status: outcome.status,
                                        output: outcome.timedOut ? "killed after 120 s. " + text : text)
        }
        return text
    }
}
