import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL cluster in a folder of its own, reachable only on a Unix socket in
/// that folder. `bbcsd --dev` and the test harness both use it.
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

    public init(directory: URL, serverAccount: String = "postgres") {
        self.directory = directory.standardizedFileURL
        self.serverAccount = serverAccount
    }

    public var dataDirectory: URL { directory.appendingPathComponent("data") }
    public var socketDirectory: URL { directory.appendingPathComponent("run") }
    public var logFile: URL { directory.appendingPathComponent("postgresql.log") }

    /// The libpq connection string for the bbcs database.
    public var conninfo: String { "host=\(socketDirectory.path) dbname=\(database) user=\(superuser) connect_timeout=5" }

    /// Where PostgreSQL's server programs are: $BBCS_PG_BINDIR, `pg_config --bindir`, or Debian's place.
    public static func binDirectory() -> String {
        if let dir = ProcessInfo.processInfo.environment["BBCS_PG_BINDIR"], !dir.isEmpty { return dir }
        if let out = try? run("/usr/bin/env", ["pg_config", "--bindir"]), FileManager.default.fileExists(atPath: out + "/initdb") {
            return out
        }
        let debian = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.sorted().last
        return debian.map { "/usr/lib/postgresql/\($0)/bin" } ?? "/usr/lib/postgresql/15/bin"
    }

    /// True when a cluster has been created in the folder.
    public var isInitialized: Bool { FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) }

    /// Creates the cluster if the folder has none yet.
    public func initializeIfNeeded() throws {
        try FileManager.default.createDirectory(at: socketDirectory, withIntermediateDirectories: true)
        if geteuid() == 0 {
            guard let account = getpwnam(serverAccount) else { throw Failure.noAccount(serverAccount) }
            for url in [directory, socketDirectory] { chown(url.path, account.pointee.pw_uid, account.pointee.pw_gid) }
        }
        guard !isInitialized else { return }
        let bin = Self.binDirectory()
        guard FileManager.default.isExecutableFile(atPath: bin + "/initdb") else { throw Failure.missingBinaries(bin) }
        try runServerCommand(bin + "/initdb", ["-D", dataDirectory.path, "-U", superuser, "--auth=trust",
                                               "-E", "UTF8", "--no-locale", "--no-sync"])
    }

    /// Starts the server on the private socket and waits until it accepts connections;
    /// returns false when it was already running (so the caller knows not to stop it).
    @discardableResult
    public func start() throws -> Bool {
        let bin = Self.binDirectory()
        if isRunning() { return false }
        let options = "-c listen_addresses='' -c unix_socket_directories='\(socketDirectory.path)' -c unix_socket_permissions=0700 "
            + "-c fsync=on -c max_connections=100"
        try runServerCommand(bin + "/pg_ctl", ["-D", dataDirectory.path, "-l", logFile.path, "-o", options, "-w", "-t", "60", "start"])
        return true
    }

    /// Stops the server quickly (open transactions roll back); does nothing if it is not running.
    public func stop() throws {
        guard isRunning() else { return }
        try runServerCommand(Self.binDirectory() + "/pg_ctl", ["-D", dataDirectory.path, "-m", "fast", "-w", "-t", "60", "stop"])
    }

    public func isRunning() -> Bool {
        (try? runServerCommand(Self.binDirectory() + "/pg_ctl", ["-D", dataDirectory.path, "status"])) != nil
    }

    /// Creates the bbcs database when the cluster does not have it yet.
    public func createDatabaseIfNeeded() throws {
        let admin = try PGConnection(conninfo: "host=\(socketDirectory.path) dbname=postgres user=\(superuser) connect_timeout=5")
        if try admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]).count == 0 {
            try admin.query("CREATE DATABASE \(database)")
        }
    }

    /// Runs a server program as the server's account.
    @discardableResult
    private func runServerCommand(_ program: String, _ arguments: [String]) throws -> String {
        if geteuid() == 0 {
            // From "/", which the server's account can always read, whatever this process's directory.
            return try Self.run("/usr/sbin/runuser", ["-u", serverAccount, "--", "/usr/bin/env", "-C", "/", program] + arguments)
        }
        return try Self.run(program, arguments)
    }

    /// Runs a program, returning its trimmed output, or throwing with it when it fails.
    ///
    /// posix_spawn and waitpid rather than Foundation's Process: Process notices the end of a
    /// child through a descriptor its grandchildren inherit, so it waits for as long as the
    /// server that `pg_ctl start` leaves behind runs.
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> String {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("bbcs-cmd-\(UUID().uuidString)").path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw Failure.commandFailed(command: program, status: -1, output: String(cString: strerror(spawned)))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = ((try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let exited = (status & 0x7f) == 0
        let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard code == 0 else {
            throw Failure.commandFailed(command: ([program] + arguments).joined(separator: " "), status: code, output: text)
        }
        return text
    }
}
