#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Subprocess
import Synchronization

/// A program left running in the background, its output and errors appended to a file; it is
/// signalled by pid and its end awaited (how tests run the daemon under test).
public final class LaunchedProgram: Sendable {
    /// The process id, valid until `exitStatus()` has an answer.
    public let pid: pid_t
    private let state = Mutex(State.running(waiters: []))

    private enum State {
        case running(waiters: [CheckedContinuation<Int32, Never>])
        case exited(Int32)
    }

    init(pid: pid_t) { self.pid = pid }

    /// Sends `signal` unless the program has already exited; the check and the signal hold the
    /// lock the exit is recorded under, and the pid is reaped only after that.
    public func send(_ signal: Int32) {
        state.withLock { state in
            if case .running = state { kill(pid, signal) }
        }
    }

    /// Nil while the program runs; then its exit status as a shell reports it.
    public var status: Int32? {
        state.withLock { state in
            if case .exited(let status) = state { return status }
            return nil
        }
    }

    /// Waits for the program to exit; returns its exit status as a shell reports it.
    public func exitStatus() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = state.withLock { state -> Int32? in
                switch state {
                case .exited(let status): return status
                case .running(let waiters):
                    state = .running(waiters: waiters + [continuation])
                    return nil
                }
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    fileprivate func exited(_ status: Int32) {
        let waiters = state.withLock { state -> [CheckedContinuation<Int32, Never>] in
            guard case .running(let waiters) = state else { return [] }
            state = .exited(status)
            return waiters
        }
        waiters.forEach { $0.resume(returning: status) }
    }
}

extension Program {
    /// Starts the program with standard input from /dev/null and standard output and error
    /// appended to `logPath`; returns once it runs.
    public func launch(appendingOutputTo logPath: String) async throws -> LaunchedProgram {
        let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw ProgramError.cannotOpenLog(path: logPath, errno: errno) }
        let configuration = self.configuration
        return try await Self.answered { reply in
            _ = try await Subprocess.run(configuration, input: .none, output: .fileDescriptor(.init(rawValue: log), closeAfterSpawningProcess: true),
                                         error: .combinedWithOutput) { execution in
                let launched = LaunchedProgram(pid: execution.processIdentifier.value)
                reply.send(launched)
                launched.exited(await ExitWatch.end(of: launched.pid).status)
            }
        }
    }
}
