import BBCSClient
import BBCSDevCluster
import BBCSPostgres
import BBCSProcess
import BBCSProtocol
import BBCSServer
import BBCSTestSupport
import Foundation
import Logging
import Testing

/// The private cluster of `bbcsd --dev`: every step may be repeated, as a restarted
/// development daemon repeats them.
@Suite("development cluster")
struct DevClusterTests {
    @Test func initializeStartAndStopAreIdempotent() async throws {
        let cluster = PostgresCluster(directory: makeTemporaryDirectory("bbcs-test-devcluster"))
        defer { try? FileManager.default.removeItem(at: cluster.directory) }
        #expect(!cluster.isInitialized)
        try await cluster.initializeIfNeeded()
        let version = try String(contentsOf: cluster.dataDirectory.appendingPathComponent("PG_VERSION"), encoding: .utf8)
        try await cluster.initializeIfNeeded()
        #expect(try String(contentsOf: cluster.dataDirectory.appendingPathComponent("PG_VERSION"), encoding: .utf8) == version)

        #expect(try await cluster.start())
        #expect(try await !cluster.start(), "a second start reports the server was already running")
        #expect(await cluster.isRunning())
        try await cluster.createDatabaseOffPool()
        try cluster.createDatabaseIfNeeded()
        #expect(try PGConnection(conninfo: cluster.conninfo).query("SELECT current_database()").string(0, 0) == cluster.database)

        try await cluster.stop()
        #expect(await !cluster.isRunning())
        try await cluster.stop()
        #expect(try await cluster.start(), "a stopped cluster starts again")
        try await cluster.stop()
    }

    /// A development database an older bbcs left owned by the superuser, schema and all, is
    /// handed to the owner role; the owner then migrates it and grants the runtime role,
    /// which serves what it was granted and owns nothing.
    @Test func aDatabaseFromBeforeTheRolesIsHandedToTheOwner() async throws {
        let cluster = PostgresCluster(directory: makeTemporaryDirectory("bbcs-test-devcluster-old"))
        defer { try? FileManager.default.removeItem(at: cluster.directory) }
        try await cluster.initializeIfNeeded()
        try await cluster.start()
        let schema = packageRoot.appendingPathComponent("Schema")
        let logger = Logger(label: "test")
        do {
            try PGConnection(conninfo: cluster.conninfo(database: "postgres")).execute("CREATE DATABASE \(identifier: cluster.database)")
            let old = PGPool(conninfo: cluster.conninfo, size: 1)
            try await Migrator.migrate(old, try Migration.load(from: schema), logger: logger)
            await old.shutdown()

            try await cluster.createDatabaseOffPool()
            let db = try PGConnection(conninfo: cluster.conninfo)
            let owners = try db.query("""
                SELECT DISTINCT pg_get_userbyid(relowner)::text FROM pg_class WHERE relnamespace = 'public'::regnamespace
                UNION SELECT pg_get_userbyid(proowner)::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace
                UNION SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = current_database()
                """)
            #expect(owners.count == 1 && owners.string(0, 0) == cluster.ownerRole)

            let owner = PGPool(conninfo: cluster.ownerConninfo, size: 1)
            try await Migrator.migrate(owner, try Migration.load(from: schema),
                                       runtime: (cluster.runtimeRole, try RuntimeGrants.load(from: schema)), logger: logger)
            await owner.shutdown()
            let runtime = try PGConnection(conninfo: cluster.runtimeConninfo)
            #expect(try runtime.query("SELECT count(*) FROM schema_migrations").int(0, 0) > 0)
            #expect(try runtime.query("SELECT has_table_privilege('audit', 'UPDATE')").string(0, 0) == "f")
        } catch {
            try await cluster.stop()
            throw error
        }
        try await cluster.stop()
    }

    @Test func aFailingToolReportsItsCommandAndOutput() async throws {
        let cluster = PostgresCluster(directory: makeTemporaryDirectory("bbcs-test-devcluster-bad"))
        defer { try? FileManager.default.removeItem(at: cluster.directory) }
        // A data folder that is not a cluster: pg_ctl refuses it.
        try FileManager.default.createDirectory(at: cluster.dataDirectory, withIntermediateDirectories: true)
        try "15\n".write(to: cluster.dataDirectory.appendingPathComponent("PG_VERSION"), atomically: true, encoding: .utf8)
        try await cluster.initializeIfNeeded()
        do {
            try await cluster.start()
            Issue.record("start succeeded on a folder that is not a cluster")
        } catch let failure as PostgresCluster.Failure {
            guard case .commandFailed(let command, let status, _) = failure else { Issue.record("unexpected \(failure)"); return }
            #expect(command.contains("pg_ctl"))
            #expect(status != 0)
        }
    }
}

/// The real `bbcsd --dev DIR`, run as root (the tests' user): the folder is its own or
/// refused, the socket is its user's, and its private PostgreSQL never outlives it.
@Suite("bbcsd --dev", .serialized)
struct DevDaemonTests {
    /// A temporary folder holding DIR (`dev`) and the daemons' logs.
    final class Workspace {
        let root = makeTemporaryDirectory("bbcs-test-dev")
        var dir: URL { root.appendingPathComponent("dev") }
        var socketPath: String { dir.appendingPathComponent("bbcsd.sock").path }
        var bbcsd: String { binDirectory.appendingPathComponent("bbcsd").path }
        private var started: [ChildProcess] = []

        /// Runs `bbcsd --dev DIR` to its end (at most two minutes): a refusal or a failed start.
        func runToEnd(_ extra: [String] = [], program: String? = nil, workingDirectory: String? = nil) throws -> Program.Outcome {
            var arguments = [program ?? bbcsd, "--dev", dir.path] + extra
            if let workingDirectory { arguments = ["-C", workingDirectory] + arguments }
            let command = arguments
            return try blocking { try await Program("/usr/bin/env", command).run(separateErrors: true, deadline: .seconds(120)) }
        }

        /// Starts `bbcsd --dev DIR` and waits until its socket answers.
        func start(_ extra: [String] = []) throws -> ChildProcess {
            let process = try ChildProcess(bbcsd, ["--dev", dir.path, "--log-level", "debug"] + extra,
                                           logPath: root.appendingPathComponent("bbcsd-\(started.count).log").path)
            started.append(process)
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline {
                guard process.isRunning else { throw HarnessError(description: "bbcsd --dev exited early:\n\(process.log)") }
                if let client = try? Client(socketPath: socketPath), (try? client.call(HelloRequest())) != nil { return process }
                usleep(50_000)
            }
            process.stop(SIGKILL)
            throw HarnessError(description: "bbcsd --dev did not serve within 120 s:\n\(process.log)")
        }

        /// The pid of the postmaster running on DIR/postgres, if one runs.
        var postmaster: pid_t? {
            let file = dir.appendingPathComponent("postgres/data/postmaster.pid").path
            guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                  let pid = text.split(separator: "\n").first.flatMap({ pid_t($0) }), Self.isAlive(pid) else { return nil }
            return pid
        }

        /// True once `pid` has ended, waiting at most 10 s: PostgreSQL removes its pid file
        /// (which is when pg_ctl stop returns) just before its process exits.
        static func ends(_ pid: pid_t) -> Bool {
            let deadline = ContinuousClock.now + .seconds(10)
            while isAlive(pid) && ContinuousClock.now < deadline { usleep(20_000) }
            return !isAlive(pid)
        }

        /// True while `pid` runs (a zombie waiting for its parent has ended).
        static func isAlive(_ pid: pid_t) -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let end = stat.lastIndex(of: ")") else { return false }
            return stat[stat.index(after: end)...].trimmingCharacters(in: .whitespaces).first != "Z"
        }

        /// Owner and permission bits of `path`, not following a link.
        func owner(_ path: String) -> (uid: uid_t, mode: mode_t)? {
            var status = stat()
            return lstat(path, &status) == 0 ? (status.st_uid, status.st_mode & 0o7777) : nil
        }

        deinit {
            // A failed test must not leave a daemon or a server running.
            for process in started where process.isRunning { process.stop(SIGKILL) }
            if let pid = postmaster { kill(pid, SIGQUIT) }
            try? FileManager.default.removeItem(at: root)
        }
    }

    static func oneLine(_ text: String) -> Bool { text.split(separator: "\n").count == 1 }

    @Test(arguments: ["", "postgres"])
    func aFolderOfAnotherUserIsRefused(_ inside: String) throws {
        let owner = try TestAccounts.ensure("bbcs-devowner")
        let work = Workspace()
        let folder = inside.isEmpty ? work.dir : work.dir.appendingPathComponent(inside)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        #expect(chown(folder.path, owner.uid, owner.gid) == 0)
        let result = try work.runToEnd()
        #expect(result.status == 1)
        #expect(Self.oneLine(result.errors), "\(result.errors)")
        #expect(result.errors.contains("\(folder.path): it belongs to bbcs-devowner"), "\(result.errors)")
        #expect(work.owner(folder.path)?.uid == owner.uid, "the folder stays its owner's")
        #expect(!FileManager.default.fileExists(atPath: work.dir.appendingPathComponent("postgres/data").path))
        #expect(work.postmaster == nil)
    }

    @Test(arguments: [0o775 as mode_t, 0o757, 0o1777])
    func aFolderOthersMayWriteToIsRefused(_ mode: mode_t) throws {
        let work = Workspace()
        try FileManager.default.createDirectory(at: work.dir, withIntermediateDirectories: true)
        #expect(chmod(work.dir.path, mode) == 0)
        let result = try work.runToEnd()
        #expect(result.status == 1)
        #expect(Self.oneLine(result.errors), "\(result.errors)")
        #expect(result.errors.contains("\(work.dir.path): its group or other users may write to it"), "\(result.errors)")
        #expect(!FileManager.default.fileExists(atPath: work.dir.appendingPathComponent("postgres").path))
    }

    /// As root the cluster runs as postgres, which must pass through DIR: a 0700 folder is
    /// refused with the fix, not left to fail deep inside initdb.
    @Test func aFolderPostgresCannotEnterIsRefusedWhenRoot() throws {
        guard geteuid() == 0 else { return }
        let work = Workspace()
        try FileManager.default.createDirectory(at: work.dir, withIntermediateDirectories: true)
        #expect(chmod(work.dir.path, 0o700) == 0)
        let result = try work.runToEnd()
        #expect(result.status == 1)
        #expect(Self.oneLine(result.errors), "\(result.errors)")
        #expect(result.errors.contains("chmod o+x \(work.dir.path)"), "\(result.errors)")
        #expect(!FileManager.default.fileExists(atPath: work.dir.appendingPathComponent("postgres").path))
    }

    /// Whoever could write into DIR could point DIR/postgres anywhere: root must not hand its
    /// target to the postgres account, nor create anything in it.
    @Test func aPlantedPostgresLinkIsRefusedAndItsTargetUntouched() throws {
        let work = Workspace()
        let target = work.root.appendingPathComponent("precious")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: work.dir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: work.dir.appendingPathComponent("postgres").path, withDestinationPath: target.path)
        let before = try #require(work.owner(target.path))
        let result = try work.runToEnd()
        #expect(result.status == 1)
        #expect(Self.oneLine(result.errors), "\(result.errors)")
        #expect(result.errors.contains("\(work.dir.path)/postgres: it is a symbolic link"), "\(result.errors)")
        let after = try #require(work.owner(target.path))
        #expect(after.uid == before.uid && after.mode == before.mode, "the link's target keeps its owner and mode")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path).isEmpty, "nothing is created in the link's target")
    }

    @Test func theSocketIsItsUsersUnlessSocketModeSaysOtherwise() throws {
        let work = Workspace()
        let first = try work.start()
        #expect(work.owner(work.socketPath)?.mode == 0o600)
        #expect(first.stop() == 0)
        let second = try work.start(["--socket-mode", "666"])
        #expect(work.owner(work.socketPath)?.mode == 0o666)
        #expect(second.stop() == 0)
        #expect(work.postmaster == nil, "the daemon stops its cluster when it stops")
    }

    /// Run outside a checkout, where the shipped plan cannot be found, with a plan file that
    /// does not exist: the error names the file given, and the cluster started is stopped.
    @Test func aDaemonThatFailsToStartStopsItsCluster() throws {
        let work = Workspace()
        let copy = work.root.appendingPathComponent("bin/bbcsd")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        if link(work.bbcsd, copy.path) != 0 { try FileManager.default.copyItem(atPath: work.bbcsd, toPath: copy.path) }
        let result = try work.runToEnd(["--plan", "/missing.json", "--schema", packageRoot.appendingPathComponent("Schema").path],
                                       program: copy.path, workingDirectory: "/")
        #expect(result.status == 1)
        #expect(result.errors.contains("cannot read the plan file /missing.json: No such file or directory"), "\(result.errors)")
        #expect(!result.errors.contains(Resources.defaultPlan), "\(result.errors)")
        #expect(FileManager.default.fileExists(atPath: work.dir.appendingPathComponent("postgres/data/PG_VERSION").path),
                "the cluster was created, so there was one to stop")
        #expect(work.postmaster == nil, "no PostgreSQL is left running from \(work.dir.path)")
    }

    /// One daemon per folder; a daemon killed outright leaves its cluster, and the next one
    /// adopts it and stops it when it stops.
    @Test func aKilledDaemonsClusterIsAdoptedAndStopped() throws {
        let work = Workspace()
        let first = try work.start()
        let postmaster = try #require(work.postmaster)

        let second = try work.runToEnd()
        #expect(second.status == 1)
        #expect(Self.oneLine(second.errors) && second.errors.contains("another bbcsd (pid \(first.pid)) is using it"), "\(second.errors)")
        // A daemon holding no lock (from before the lock, or its file removed) is seen answering.
        try FileManager.default.removeItem(at: work.dir.appendingPathComponent("bbcsd.lock"))
        let unlocked = try work.runToEnd()
        #expect(unlocked.status == 1)
        #expect(Self.oneLine(unlocked.errors) && unlocked.errors.contains("another bbcsd already serves \(work.socketPath)"),
                "\(unlocked.errors)")
        #expect(work.postmaster == postmaster, "the running daemon's cluster is not touched")
        #expect(try Client(socketPath: work.socketPath).call(HelloRequest()).server.contains("bbcsd"))

        first.stop(SIGKILL)
        #expect(work.postmaster == postmaster, "a killed daemon leaves its cluster running")
        let third = try work.start()
        #expect(work.postmaster == postmaster, "the next daemon adopts the running cluster")
        #expect(try Client(socketPath: work.socketPath).call(IndicatorListRequest()).indicators.count == shippedPlan.indicators.count)
        #expect(third.stop() == 0)
        #expect(work.postmaster == nil, "no PostgreSQL is left running from \(work.dir.path)")
        #expect(Workspace.ends(postmaster))
    }
}
