import BBCSProcess
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child process left running (the daemon under test), its output to a log file, stopped
/// by signal; started and waited for from synchronous code.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let logPath: String
    private let launched: LaunchedProgram

    /// Starts `program` with standard input from /dev/null and its output and errors appended
    /// to `logPath`; `environment` is added to this process's.
    public init(_ program: String, _ arguments: [String], logPath: String, environment: [String: String] = [:]) throws {
        self.logPath = logPath
        launched = try blocking { try await Program(program, arguments, environment: environment).launch(appendingOutputTo: logPath) }
        pid = launched.pid
        Self.live.withLock { $0[pid] = launched }
    }

    /// Children still running when the test process exits (e.g. daemons held in statics).
    private static let live = Mutex<[pid_t: LaunchedProgram]>([:])

    /// Stops every child still running, with SIGTERM, and waits for each.
    public static func stopAll() {
        for child in live.withLock({ Array($0.values) }) {
            child.send(SIGTERM)
            _ = try? blocking { await child.exitStatus() }
        }
    }

    /// Sends `signal` (unless it has exited) and waits for the exit; returns the exit status.
    @discardableResult
    public func stop(_ signal: Int32 = SIGTERM) -> Int32 {
        launched.send(signal)
        return wait()
    }

    /// Waits for the exit; returns the exit status as a shell reports it.
    public func wait() -> Int32 {
        let launched = self.launched
        // `blocking` throws only what its work throws, and waiting for the exit throws nothing.
        let status = (try? blocking { await launched.exitStatus() }) ?? -1
        Self.live.withLock { _ = $0.removeValue(forKey: pid) }
        return status
    }

    /// True while the process has not exited.
    public var isRunning: Bool { launched.status == nil }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// Runs a program to completion; returns its exit status, standard output and standard error.
public func runProgram(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    let outcome = try blocking {
        try await Program(program, arguments, environment: environment).run(separateErrors: true, outputLimit: 256 << 20)
    }
    return (outcome.status, outcome.output, outcome.errors)
}
