import BBCSProcess
import Foundation
import Synchronization

/// One real thread running the asynchronous work that synchronous code waits for (process
/// runs, the test cluster's steps).
///
/// swift-testing runs synchronous tests on Swift's cooperative pool, two threads on a
/// two-core machine: work that a blocked test waits for must never need a thread of that pool.
/// What `blocking` runs and its child tasks prefer this executor, and so do the tasks that
/// `Program` starts under it. swift-subprocess still starts one unstructured task per run on
/// the global pool (to run its teardown even when cancelled), which no preference reaches:
/// `Program.run` and `Program.launch` answer before waiting for it.
final class HarnessExecutor {
    static let shared = ThreadExecutor(name: "bbcs-harness-executor")
}

/// A task executor that is one thread of its own, running its jobs in order.
public final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    public init(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs `work` to its end on the harness's own thread and blocks the calling thread until
/// then; for synchronous tests and the benchmark. Never call it from inside such work.
@discardableResult
public func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    let result = Mutex<Result<T, any Error>>(.failure(CancellationError()))
    Task(executorPreference: HarnessExecutor.shared) {
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await Program.$executor.withValue(HarnessExecutor.shared) { try await work() })
        } catch {
            outcome = .failure(error)
        }
        result.withLock { $0 = outcome }
        done.signal()
    }
    done.wait()
    return try result.withLock { $0 }.get()
}
