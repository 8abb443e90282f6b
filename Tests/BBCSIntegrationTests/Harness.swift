import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The package's root folder, found from this file's path.
let packageRoot: URL = {
    var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { dir.deleteLastPathComponent() }
    return dir
}()

/// The build folder holding the test bundle, and so the bbcsd and bbcsctl just built.
let binDirectory: URL = {
    for candidate in [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()] {
        var dir = candidate
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("bbcsd").path) { return dir }
            dir.deleteLastPathComponent()
        }
    }
    return packageRoot.appendingPathComponent(".build/debug")
}()

let shippedPlanURL = packageRoot.appendingPathComponent("Config/plans/broxtowe-community-safety-2025-2028.json")
let shippedPlanText = try! String(contentsOf: shippedPlanURL, encoding: .utf8)
let shippedPlan: PlanDocument = try! PlanDocument.load(from: Data(shippedPlanText.utf8))

/// A folder under /tmp that the PostgreSQL account can reach; removed by `remove()`.
func makeTemporaryDirectory(_ prefix: String) -> URL {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    chmod(path, 0o755)
    return URL(fileURLWithPath: path)
}

/// Private PostgreSQL clusters for tests, run as the `postgres` account when the tests run as root.
enum TestPostgres {
    /// One cluster shared by every test of this process; each daemon gets a database of its own.
    static let shared: PostgresCluster = {
        let cluster = PostgresCluster(directory: makeTemporaryDirectory("bbcs-test-pg"))
        try! cluster.initializeIfNeeded()
        try! cluster.start()
        sharedDirectory = cluster.directory.path
        atexit {
            ChildProcess.stopAll()
            if let dir = TestPostgres.sharedDirectory { try? PostgresCluster(directory: URL(fileURLWithPath: dir)).stop() }
        }
        return cluster
    }()
    nonisolated(unsafe) static var sharedDirectory: String?

    /// A new, empty database in the shared cluster; returns its connection string.
    static func freshDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let cluster = shared
        let admin = try PGConnection(conninfo: "host=\(cluster.socketDirectory.path) dbname=postgres user=bbcs")
        try admin.query("CREATE DATABASE \(name)")
        return "host=\(cluster.socketDirectory.path) dbname=\(name) user=bbcs connect_timeout=5"
    }
}

/// A child process started with posix_spawn, output to a log file.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    let logPath: String
    private var exitStatus: Int32?

    init(_ program: String, _ arguments: [String], logPath: String, environment: [String: String] = [:]) throws {
        self.logPath = logPath
        pid = try spawn(program, arguments, environment: environment, output: logPath, errors: nil)
        Self.live.withLock { _ = $0.insert(pid) }
    }

    /// Children still running when the test process exits (e.g. daemons held in statics).
    private static let live = Mutex<Set<pid_t>>([])

    static func stopAll() {
        for pid in live.withLock({ $0 }) {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    /// Sends `signal` and waits for the exit; returns the exit status.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) -> Int32 {
        if let exitStatus { return exitStatus }
        kill(pid, signal)
        return wait()
    }

    func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = exitCode(status)
        exitStatus = code
        Self.live.withLock { _ = $0.remove(pid) }
        return code
    }

    /// True while the process has not exited.
    var isRunning: Bool {
        if exitStatus != nil { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            exitStatus = exitCode(status)
            Self.live.withLock { _ = $0.remove(pid) }
            return false
        }
        return true
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// Starts `program` with standard input from /dev/null, standard output to `output` and
/// standard error to `errors` (or to `output` when nil); returns its pid.
func spawn(_ program: String, _ arguments: [String], environment: [String: String], output: String, errors: String?) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    if let errors {
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    } else {
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }
    let argv = ([program] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { envp.forEach { free($0) } }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, program, &actions, nil, argv, envp)
    guard status == 0 else { throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EINVAL) }
    return pid
}

/// A waitpid status as a shell reports it: the exit code, or 128 + the signal.
func exitCode(_ status: Int32) -> Int32 {
    (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

/// Runs a program to completion; returns its exit status, standard output and standard error.
func runProgram(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    let dir = makeTemporaryDirectory("bbcs-run")
    defer { try? FileManager.default.removeItem(at: dir) }
    let pid = try spawn(program, arguments, environment: environment, output: dir.path + "/out", errors: dir.path + "/err")
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (exitCode(status), (try? String(contentsOfFile: dir.path + "/out", encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: dir.path + "/err", encoding: .utf8)) ?? "")
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
}

/// The login running the tests.
let currentLogin = String(cString: getpwuid(getuid()).pointee.pw_name)

/// The real bbcsd, started as its own process on a temporary socket against a test database.
final class TestDaemon: @unchecked Sendable {
    let directory: URL
    let socketPath: String
    let database: String
    let process: ChildProcess

    /// Starts bbcsd and waits until its socket answers.
    /// - Parameters:
    ///   - database: connection string; a fresh database in the shared cluster when nil.
    ///   - plan: the plan file imported at start when the database is empty (none when nil).
    ///   - environment: added to the daemon's environment.
    ///   - launcher: a program (and its arguments) that runs bbcsd, given the socket path,
    ///     e.g. systemd-socket-activate.
    init(database: String? = nil, plan: URL? = shippedPlanURL, extraArguments: [String] = [], environment: [String: String] = [:],
         launcher: ((String) -> [String])? = nil, waitForSocket: Bool = true) throws {
        directory = makeTemporaryDirectory("bbcs-test-daemon")
        socketPath = directory.appendingPathComponent("bbcsd.sock").path
        self.database = try database ?? TestPostgres.freshDatabase()
        // Whoever runs the tests administers the daemon; permission tests add other users themselves.
        var arguments = ["--database", self.database, "--socket", socketPath, "--socket-mode", "666", "--admin", currentLogin,
                         "--schema", packageRoot.appendingPathComponent("Schema").path, "--log-level", "debug", "--pool-size", "4"]
        if let plan { arguments += ["--plan", plan.path] }
        var program = binDirectory.appendingPathComponent("bbcsd").path
        arguments += extraArguments
        if let launcher {
            let command = launcher(socketPath)
            arguments = Array(command.dropFirst()) + [program] + arguments
            program = command[0]
        }
        process = try ChildProcess(program, arguments, logPath: directory.appendingPathComponent("bbcsd.log").path,
                                   environment: environment)
        if waitForSocket { try waitUntilServing() }
    }

    func waitUntilServing(timeout: Duration = .seconds(60)) throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw HarnessError(description: "bbcsd exited early:\n\(process.log)") }
            if let client = try? Client(socketPath: socketPath), (try? client.call(HelloRequest())) != nil { return }
            usleep(50_000)
        }
        throw HarnessError(description: "bbcsd did not serve within \(timeout):\n\(process.log)")
    }

    func client() throws -> Client { try Client(socketPath: socketPath) }

    /// Runs the real bbcsctl against this daemon.
    func ctl(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runProgram(binDirectory.appendingPathComponent("bbcsctl").path, ["--socket", socketPath] + arguments)
    }

    deinit {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

extension Client {
    /// The daemon's error for `request`, or nil when it succeeded.
    func error<R: RequestType>(_ request: R) -> ResponseError? {
        do {
            _ = try call(request)
            return nil
        } catch ClientError.server(let error) {
            return error
        } catch {
            return ResponseError(.internal, "client failure: \(error)")
        }
    }

    /// Sends a raw line and decodes the reply as a JSON object.
    func raw(_ line: String) throws -> [String: Any] {
        let reply = try exchange(rawLine: Data(line.utf8))
        return try JSONSerialization.jsonObject(with: reply) as? [String: Any] ?? [:]
    }
}

/// The error code of a raw reply, if it is an error.
func errorCode(_ reply: [String: Any]) -> String? { (reply["error"] as? [String: Any])?["code"] as? String }

/// Work started on a thread of its own, so blocking calls never starve Swift's cooperative
/// pool (the tests here are synchronous and block on sockets and processes).
final class Background<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<T, Error>?

    init(_ work: @escaping @Sendable () throws -> T) {
        let thread = Thread { [self] in
            result = Result { try work() }
            done.signal()
        }
        thread.start()
    }

    /// Waits for the work to finish and returns its value or rethrows its error.
    func value() throws -> T {
        done.wait()
        done.signal()
        return try result!.get()
    }
}
