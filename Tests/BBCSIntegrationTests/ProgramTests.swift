import BBCSProcess
import BBCSTestSupport
import Foundation
import Synchronization
import Testing

/// Child programs through swift-subprocess, and the harness's synchronous waits on them.
@Suite("programs")
struct ProgramTests {
    @Test func outputErrorsAndEnvironment() async throws {
        let both = try await Program("/bin/sh", ["-c", "echo out; echo err >&2; echo $BBCS_PROBE; exit 2"], environment: ["BBCS_PROBE": "set"]).run()
        #expect(both.status == 2)
        #expect(both.output.split(separator: "\n").sorted() == ["err", "out", "set"])
        #expect(both.errors == "")
        let apart = try await Program("/bin/sh", ["-c", "echo out; echo err >&2"]).run(separateErrors: true)
        #expect(apart.status == 0 && !apart.timedOut)
        #expect(apart.output == "out\n" && apart.errors == "err\n")
    }

    @Test func outputPastTheLimitIsReadAndDropped() async throws {
        let outcome = try await Program("/usr/bin/head", ["-c", "1000000", "/dev/zero"]).run(outputLimit: 10)
        #expect(outcome.status == 0)
        #expect(outcome.output.utf8.count == 10)
    }

    @Test func aMissingProgramThrows() async {
        await #expect(throws: (any Error).self) { try await Program("/nonexistent/program").run() }
    }

    @Test func aLaunchedProgramIsSignalledAndAwaited() async throws {
        let dir = makeTemporaryDirectory("bbcs-launch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("log").path
        let launched = try await Program("/bin/sh", ["-c", "echo started; exec sleep 3600"]).launch(appendingOutputTo: log)
        #expect(launched.status == nil)
        // Signalled once the shell has written, so the log is known whatever the timing; the
        // sleep outlasts any starvation of this test's task (a 30 s one ended by itself once).
        for _ in 0..<500 where (try? String(contentsOfFile: log, encoding: .utf8)) != "started\n" { usleep(10_000) }
        launched.send(SIGTERM)
        #expect(await launched.exitStatus() == 128 + SIGTERM)
        #expect(launched.status == 128 + SIGTERM)
        launched.send(SIGKILL) // after the exit: nothing to signal, and no other process's pid
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "started\n")
    }

    /// Every cooperative thread blocked in a synchronous wait on a child, as parallel
    /// synchronous tests do: the children still run and the waits end. Other suites' tests
    /// may hold the pool's threads for minutes, so a wait is timed from when its task starts.
    @Test func synchronousWaitsDoNotNeedTheCooperativePool() throws {
        let width = ProcessInfo.processInfo.activeProcessorCount + 2
        let finished = Tally()
        let done = DispatchSemaphore(value: 0)
        for index in 0..<width {
            Task.detached {
                let began = ContinuousClock.now
                let run = try? runProgram("/bin/sh", ["-c", "sleep 0.2; echo \(index)"])
                let child = try? ChildProcess("/bin/sleep", ["30"], logPath: "/dev/null")
                let stopped = child?.stop()
                if run?.out == "\(index)\n" && stopped == 128 + SIGTERM && ContinuousClock.now - began < .seconds(60) {
                    finished.count.withLock { $0 += 1 }
                }
                done.signal()
            }
        }
        for _ in 0..<width {
            #expect(done.wait(timeout: .now() + 600) == .success, "a synchronous wait on a child never ended")
        }
        #expect(finished.count.withLock { $0 } == width, "a synchronous wait on a child took a minute or more once started")
    }
}

private final class Tally: Sendable {
    let count = Mutex(0)
}
