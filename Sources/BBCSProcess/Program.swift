#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Subprocess
import Synchronization

/// A program to run, by path, with its arguments; every run goes through swift-subprocess.
public struct Program: Sendable {
    public var path: String
    public var arguments: [String]
    /// Variables set for the program on top of this process's environment.
    public var environment: [String: String]
    /// Variables of this process's environment the program does not get.
    public var withheld: [String] = []
    /// Runs the program as the leader of a process group of its own, so that a deadline kills
    /// what it started too (a shell's commands, a client it forks): none is left holding the
    /// pipes or running on.
    public var ownProcessGroup: Bool

    public init(_ path: String, _ arguments: [String] = [], environment: [String: String] = [:], ownProcessGroup: Bool = false) {
        self.path = path
        self.arguments = arguments
        self.environment = environment
        self.ownProcessGroup = ownProcessGroup
    }

    /// How a run ended and what it printed.
    public struct Outcome: Sendable, Equatable {
        /// The exit status as a shell reports it: the exit code, or 128 + the signal that ended it.
        public var status: Int32
        /// True when the run outlasted its deadline and was killed.
        public var timedOut: Bool
        /// Standard output, with standard error in it unless asked for apart.
        public var output: String
        /// Standard error when asked for apart; empty otherwise.
        public var errors: String
    }

    /// The executor runs start on: unset in the daemon (Swift's global pool); a test harness
    /// sets its own thread so that code blocked on a run never waits for the pool.
    @TaskLocal public static var executor: (any TaskExecutor)?

    /// Runs the program to its end: `input` on its standard input (a program may exit without
    /// reading it), output collected up to `outputLimit` bytes (the rest is read and dropped),
    /// killed with SIGKILL when `deadline` passes (its whole process group with
    /// `ownProcessGroup`). The deadline runs from the start, so it covers writing `input`: a
    /// program that never reads it is killed all the same.
    ///
    /// Returns once the program has exited and its output is read, without waiting for
    /// swift-subprocess to finish its own bookkeeping: that last step needs a thread of
    /// Swift's global pool, which synchronous tests may all be holding while they wait here.
    public func run(input: String = "", separateErrors: Bool = false, deadline: Duration? = nil,
                    outputLimit: Int = 1 << 20) async throws -> Outcome {
        let configuration = self.configuration, group = ownProcessGroup
        return try await Self.answered { reply in
            if separateErrors {
                _ = try await Subprocess.run(configuration, input: .inputWriter, output: .sequence, error: .sequence) {
                    reply.send(await Self.drive($0.processIdentifier.value, $0.standardInputWriter, $0.standardOutput, $0.standardError,
                                                input: input, deadline: deadline, group: group, limit: outputLimit))
                }
            } else {
                _ = try await Subprocess.run(configuration, input: .inputWriter, output: .sequence, error: .combinedWithOutput) {
                    reply.send(await Self.drive($0.processIdentifier.value, $0.standardInputWriter, $0.standardOutput, nil,
                                                input: input, deadline: deadline, group: group, limit: outputLimit))
                }
            }
        }
    }

    /// Runs `work` in a task of its own, started on `executor`, and returns what it sends
    /// through its reply, without waiting for the rest of it. Cancelling the caller does not
    /// stop the program (its deadline does).
    static func answered<Value: Sendable>(_ work: @escaping @Sendable (Reply<Value>) async throws -> Void) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let reply = Reply(continuation)
            Task(executorPreference: executor) {
                do {
                    try await work(reply)
                    reply.fail(ProgramError.noOutcome)
                } catch {
                    reply.fail(error)
                }
            }
        }
    }

    var configuration: Configuration {
        var changes: [Environment.Key: String?] = [:]
        for (name, value) in environment {
            if let key = Environment.Key(rawValue: name) { changes[key] = value }
        }
        for name in withheld {
            // A nil value unsets the variable.
            if let key = Environment.Key(rawValue: name) { changes[key] = .some(nil) }
        }
        var options = PlatformOptions()
        // 0: a new group, numbered by the program's pid.
        if ownProcessGroup { options.processGroupID = 0 }
        return Configuration(executable: .path(.init(path)), arguments: Arguments(arguments), environment: .inherit.updating(changes),
                             platformOptions: options)
    }

    /// Feeds the input, reads the output and waits for the exit, all at once: a program may
    /// fill its output pipe before it reads its input, or never read it at all.
    private static func drive(_ pid: pid_t, _ stdin: StandardInputWriter, _ stdout: SubprocessOutputSequence,
                              _ stderr: SubprocessOutputSequence?, input: String, deadline: Duration?, group: Bool,
                              limit: Int) async -> Outcome {
        async let fed: Void = feed(stdin, input)
        async let output = collect(stdout, limit: limit)
        async let errors = collect(stderr, limit: limit)
        let end = await ExitWatch.end(of: pid, deadline: deadline, group: group)
        // Once the program has exited swift-subprocess ends a write that is still blocked
        // (a child it left holds the pipe), so this wait is bounded too.
        await fed
        return Outcome(status: end.status, timedOut: end.timedOut, output: await output, errors: await errors)
    }

    private static func feed(_ stdin: StandardInputWriter, _ input: String) async {
        // A program that exits before reading makes the write fail (EPIPE; SIGPIPE must be
        // ignored by the caller's process): its exit status says whether it worked.
        if !input.isEmpty { _ = try? await stdin.write(input) }
        try? await stdin.finish()
    }

    /// The stream's text, at most `limit` bytes of it; the rest is read and dropped so the
    /// program never blocks on a full pipe.
    private static func collect(_ stream: SubprocessOutputSequence?, limit: Int) async -> String {
        guard let stream else { return "" }
        var bytes: [UInt8] = []
        do {
            for try await chunk in stream where bytes.count < limit {
                chunk.withUnsafeBytes { bytes.append(contentsOf: $0.prefix(limit - bytes.count)) }
            }
        } catch {
            // The pipe failed or was cancelled at exit (a grandchild holds it): keep what came.
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Resumes a continuation once: the run's body answers, and whatever comes after the answer
/// (an error of swift-subprocess's last step) is dropped.
final class Reply<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, any Error>?>

    init(_ continuation: CheckedContinuation<Value, any Error>) { self.continuation = Mutex(continuation) }

    func send(_ value: Value) { continuation.withLock { $0.take() }?.resume(returning: value) }
    func fail(_ error: any Error) { continuation.withLock { $0.take() }?.resume(throwing: error) }
}
