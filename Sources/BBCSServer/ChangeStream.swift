import BBCSCore
import BBCSPostgres
import Logging
import Synchronization

/// Follows the database's change sequence for the daemon: reads what changed since the last
/// seq it delivered (`ChangeLog`) and hands each batch to every subscriber.
///
/// It reads when `ChangeFeed` reports a NOTIFY or a (re)connection, every second, and when
/// `catchUp` asks. Reads are serial and each batch is delivered to every subscriber in turn,
/// in seq order, before the next read. Seqs commit out of order: one skipped over is asked for
/// again at every read (`ChangeCursor`) and delivered when it commits, in a later batch, or
/// given up with a log line once it has been missing for `gapLifetime`.
public final class ChangeStream: Sendable {
    public typealias Subscriber = @Sendable ([Change]) async -> Void

    private let pool: PGPool
    private let feed: ChangeFeed
    private let logger: Logger
    private let batchLimit: Int
    private let executor: (any TaskExecutor)?
    private let pollInterval: Duration
    private let state: Mutex<State>
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    private struct State {
        /// Where the subscribers stand: moved on only once a batch has reached all of them.
        var cursor: ChangeCursor
        var subscribers: [Subscriber] = []
        /// Reads begun, numbered from 1.
        var begun: UInt64 = 0
        var reading = false
        var waiters: [Waiter] = []
        var failing = false
        var started = false
        var tasks: [Task<Void, Never>] = []
    }

    /// A caller waiting for the read numbered `read` (one that began after it asked).
    private struct Waiter {
        let read: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    /// - Parameters:
    ///   - pool: where the changes are read; its hosts open the LISTEN connection of its own.
    ///   - seq: the last change already applied (the subscribers' starting point).
    ///   - gapLifetime: how long a seq skipped over is waited for before it is given up;
    ///     longer than any transaction that records a change runs.
    ///   - pollInterval: how often it reads without being notified (a NOTIFY lost in transit).
    ///   - batchLimit: the most changes read (and delivered) at once.
    ///   - executor: where its reading and delivery run (nil: Swift's global pool); tests whose
    ///     process's cooperative threads are held by synchronous tests give a thread of their own.
    public init(pool: PGPool, after seq: Int64, logger: Logger,
                gapLifetime: Duration = .seconds(60), pollInterval: Duration = .seconds(1), batchLimit: Int = 10_000,
                executor: (any TaskExecutor)? = nil) {
        self.executor = executor
        self.pool = pool
        self.pollInterval = pollInterval
        self.feed = ChangeFeed(hosts: pool.hosts, logger: logger)
        self.logger = logger
        self.batchLimit = max(1, batchLimit)
        self.state = Mutex(State(cursor: ChangeCursor(after: seq, gapLifetime: gapLifetime)))
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Batches are delivered one at a time, in seq order, to every subscriber in turn.
    /// A subscriber must not await `catchUp`: the read it would wait for starts after this one.
    public func subscribe(_ deliver: @escaping @Sendable ([Change]) async -> Void) {
        state.withLock { $0.subscribers.append(deliver) }
    }

    /// Every change up to this seq has been delivered to every subscriber (or given up).
    public var delivered: Int64 { state.withLock { $0.cursor.delivered } }

    /// Reads begun so far (for tests).
    var readsBegun: UInt64 { state.withLock { $0.begun } }

    /// Begins listening; reads on NOTIFY, after a reconnect, and every `pollInterval` (a second). Once only.
    public func start() {
        let first = state.withLock { state -> Bool in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        feed.start { [self] event in
            // Our own writes, already caught up, notify too: nothing to read for them.
            if case .notified(let seq?) = event, state.withLock({ $0.cursor.hasSeen(seq) }) { return }
            wake.yield()
        }
        let reading = Task(executorPreference: executor) { [self] in
            for await _ in wakes { await readInBackground() }
        }
        let ticking = Task(executorPreference: executor) { [wake, pollInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: pollInterval)
                wake.yield()
            }
        }
        state.withLock { $0.tasks = [reading, ticking] }
    }

    /// Stops listening and reading; returns once the read in progress, if any, has ended.
    public func stop() async {
        await feed.stop()
        wake.finish()
        let tasks = state.withLock { state -> [Task<Void, Never>] in
            defer { state.tasks = [] }
            return state.tasks
        }
        for task in tasks {
            task.cancel()
            await task.value
        }
    }

    /// Returns once every change up to `seq` committed before the call has been delivered to
    /// every subscriber: at once when `seq` has been (`delivered >= seq`, or `seq` itself was
    /// delivered above a gap), else after a read that began after the call (concurrent callers
    /// share one). A failed read (the database away) throws.
    public func catchUp(through seq: Int64) async throws {
        if state.withLock({ $0.cursor.hasSeen(seq) }) { return }
        try await readAfterNow()
    }

    private func readInBackground() async {
        do {
            try await readAfterNow()
            let recovered = state.withLock { state -> Bool in
                defer { state.failing = false }
                return state.failing
            }
            if recovered { logger.notice("change stream reading changes again") }
        } catch {
            let first = state.withLock { state -> Bool in
                defer { state.failing = true }
                return !state.failing
            }
            if first { logger.warning("change stream cannot read changes; retrying every second", metadata: ["error": "\(error)"]) }
        }
    }

    /// Waits for a read that begins after this call, starting one unless one is running
    /// (the running one may have missed what committed just before the call: the next one
    /// is for every caller that came meanwhile).
    private func readAfterNow() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let lead = state.withLock { state -> Bool in
                state.waiters.append(Waiter(read: state.begun + 1, continuation: continuation))
                defer { state.reading = true }
                return !state.reading
            }
            // The read serves every waiter, not the request that started it: not under its deadline.
            if lead { Task(executorPreference: executor) { await RequestDeadline.$current.withValue(nil) { await self.readWhileWaited() } } }
        }
    }

    /// Reads, one read at a time, while callers wait for a read not yet begun.
    private func readWhileWaited() async {
        while true {
            let read = state.withLock { state -> UInt64? in
                guard !state.waiters.isEmpty else {
                    state.reading = false
                    return nil
                }
                state.begun += 1
                return state.begun
            }
            guard let read else { return }
            let outcome: Result<Void, any Error>
            do { outcome = .success(try await readAndDeliver()) } catch { outcome = .failure(error) }
            let served = state.withLock { state -> [Waiter] in
                let served = state.waiters.filter { $0.read <= read }
                state.waiters.removeAll { $0.read <= read }
                return served
            }
            served.forEach { $0.continuation.resume(with: outcome) }
        }
    }

    /// One read: the gaps and what follows the newest seq, in batches of at most
    /// `batchLimit`, each delivered to every subscriber before the cursor moves past it.
    private func readAndDeliver() async throws {
        var cursor = state.withLock { $0.cursor }
        let limit = batchLimit
        var full = true
        while full {
            let (newest, missing) = (cursor.newest, cursor.missing)
            let (rows, more) = try await pool.withConnection { db -> ([Change], Bool) in
                let filled = try ChangeLog.changes(in: missing, limit: limit, db)
                let next = try ChangeLog.changes(after: newest, limit: limit, db)
                return (filled + next, next.count == limit)
            }
            full = more
            let fresh = cursor.advance(with: rows, now: .now)
            if !fresh.isEmpty {
                for deliver in state.withLock({ $0.subscribers }) { await deliver(fresh) }
            }
            state.withLock { $0.cursor = cursor }
        }
        let expired = cursor.expire(now: .now)
        guard !expired.isEmpty else { return }
        state.withLock { $0.cursor = cursor }
        logger.notice("change stream gave up seqs that never committed (rolled back or skipped)",
                      metadata: ["seqs": "\(expired.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" })"])
    }
}
