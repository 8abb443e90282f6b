import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation

struct HarnessError: Error, CustomStringConvertible {
    var description: String
}

/// The real bbcsd, started as its own process on a temporary socket against a test database.
final class TestDaemon: @unchecked Sendable {
    let directory: URL
    let socketPath: String
    let database: String
    let process: ChildProcess

    /// Starts bbcsd and waits until its socket answers.
    /// - Parameters:
    ///   - database: connection string as a superuser (kept in `database` for the test's own
    ///     edits); a fresh database in the shared cluster when nil. The daemon serves it as
    ///     the runtime role and migrates it as the owner.
    ///   - migrate: whether the daemon migrates the schema as its owner (else it serves a
    ///     schema migrated before, with the runtime role alone).
    ///   - plan: the plan file imported at start when the database is empty (none when nil).
    ///   - environment: added to the daemon's environment.
    ///   - launcher: a program (and its arguments) that runs bbcsd, given the socket path,
    ///     e.g. systemd-socket-activate.
    init(database: String? = nil, migrate: Bool = true, plan: URL? = shippedPlanURL, extraArguments: [String] = [],
         environment: [String: String] = [:], launcher: ((String) -> [String])? = nil, waitForSocket: Bool = true) throws {
        directory = makeTemporaryDirectory("bbcs-test-daemon")
        socketPath = directory.appendingPathComponent("bbcsd.sock").path
        self.database = try database ?? TestPostgres.freshDatabase()
        // Whoever runs the tests administers the daemon; permission tests add other users themselves.
        let roles = migrate ? TestPostgres.daemonArguments(self.database) : ["--database", TestPostgres.runtime(self.database)]
        var arguments = roles + ["--socket", socketPath, "--socket-mode", "666", "--admin", currentLogin,
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
