import NIOConcurrencyHelpers
import NIOPosix

/// A bounded pool of libpq connections whose blocking calls run on a dedicated thread
/// pool, never on Swift's cooperative threads.
///
/// Connections open lazily, up to `size`; callers beyond that wait their turn, each for at
/// most the wait timeout, then fail with `PGError.poolBusy`. A connection
/// goes back to the pool after any answer that leaves it healthy and outside a transaction;
/// a broken one is dropped, and a request that met a stale idle connection is retried once on
/// a fresh one, so the pool recovers by itself when PostgreSQL comes back. Requests are bounded
/// by their `RequestDeadline`; `reserved` connections are kept for the scheduler.
public final class PGPool: Sendable {
    public let size: Int
    private let conninfo: String
    private let threads: NIOThreadPool
    private let waitTimeout: @Sendable () -> Duration
    private let sessionTimeouts: @Sendable () -> SessionTimeouts?
    /// Permits only work run with `usesReserve` may take (the scheduler's).
    private let reserve: Int
    private let state: NIOLockedValueBox<State>

    private struct State {
        var permits: Int
        /// Callers waiting for a connection, first come first served.
        var waiters: [Waiter] = []
        var nextWaiter = 0
        var idle: [PGConnection] = []
        /// The statements running, by caller, for a shutdown to cancel.
        var running: [Int: StatementWatch] = [:]
        var nextRunning = 0
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Void, any Error>
        /// Whether the waiter may take a reserved permit.
        let reserved: Bool
        /// Fails the wait when it lasts too long; cancelled when a connection comes free first.
        var timer: Task<Void, Never>?
    }

    /// Work run with this set may take the connections the pool keeps back (`reserved`), so a
    /// pool full of requests blocked on a lock cannot stop it. The scheduler sets it.
    @TaskLocal public static var usesReserve = false

    /// What `PGError.timedOut` carries for a statement cancelled because the daemon is stopping.
    public static let cancelledAtShutdown = "cancelled at shutdown"

    /// - Parameters:
    ///   - conninfo: a libpq connection string.
    ///   - size: the most connections open at once, and the threads that drive them.
    ///   - waitTimeout: the longest a caller waits for a connection, read at each wait (so a
    ///     reload applies at once).
    ///   - sessionTimeouts: the `statement_timeout` and `lock_timeout` every connection runs
    ///     under, read at each checkout (a change applies at a connection's next use).
    ///   - reserved: connections kept back for work run with `usesReserve` (at most size - 1).
    public init(conninfo: String, size: Int, waitTimeout: @escaping @Sendable () -> Duration = { .seconds(10) },
                sessionTimeouts: @escaping @Sendable () -> SessionTimeouts? = { nil }, reserved: Int = 0) {
        precondition(size > 0, "pool size must be positive")
        self.size = size
        self.conninfo = conninfo
        self.waitTimeout = waitTimeout
        self.sessionTimeouts = sessionTimeouts
        self.reserve = max(0, min(reserved, size - 1))
        self.threads = NIOThreadPool(numberOfThreads: size)
        self.state = NIOLockedValueBox(State(permits: size))
        threads.start()
    }

    /// Runs `body` with a connection of its own, on one of the pool's threads.
    /// Throws `PGError.poolBusy` when no connection comes free within the wait timeout.
    ///
    /// Within a request (`RequestDeadline.current`) the wait ends at the deadline, and a
    /// statement still running then is cancelled: both are `PGError.timedOut`, nothing
    /// written, except a write whose connection had to be abandoned while its COMMIT (or an
    /// autocommit statement) was in flight: `PGError.outcomeUnknown`.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        let deadline = RequestDeadline.current
        try await acquirePermit(deadline: deadline)
        defer { releasePermit() }
        let watch = StatementWatch()
        let token = state.withLockedValue { state -> Int in
            state.nextRunning += 1
            state.running[state.nextRunning] = watch
            return state.nextRunning
        }
        defer { _ = state.withLockedValue { $0.running.removeValue(forKey: token) } }
        let timer = deadline.map { deadline in
            Task {
                guard (try? await Task.sleep(until: deadline.instant, clock: .continuous)) != nil else { return }
                await watch.stop(.deadline)
            }
        }
        defer { timer?.cancel() }
        let conninfo = self.conninfo, timeouts = self.sessionTimeouts
        return try await threads.runIfActive { [state] in
            /// Runs `body` on `connection` under the watch, and puts the connection back when fit.
            func use(_ connection: PGConnection) throws -> T {
                do {
                    guard watch.attach(connection) else { throw PGError.timedOut("the request's time ran out before its statement started") }
                    try connection.apply(timeouts())
                    let value = try body(connection)
                    if watch.detach() == .untouched { state.withLockedValue { $0.idle.append(connection) } }
                    return value
                } catch {
                    let outcome = watch.detach()
                    guard outcome == .untouched else {
                        throw Self.stopped(error, outcome, mayHaveCommitted: connection.lastStatementMayCommit && deadline?.mayWrite != false)
                    }
                    // A domain answer (not found, a conflict, a refusal) or a statement that
                    // failed leaves the connection as good as it was; dropping it made the next
                    // request pay for a new backend.
                    let keep: Bool
                    switch error as? PGError {
                    case .none, .queryFailed, .timedOut: keep = connection.isReusable
                    default: keep = false
                    }
                    if keep { state.withLockedValue { $0.idle.append(connection) } }
                    throw error
                }
            }
            let idle = state.withLockedValue { $0.idle.popLast() }
            do {
                return try use(try idle ?? PGConnection(conninfo: conninfo, connectWithin: deadline?.remaining))
            } catch PGError.connectionFailed(let message) {
                guard idle != nil else {
                    if deadline?.hasPassed == true { throw PGError.timedOut("no connection opened before the request's deadline: \(message)") }
                    throw PGError.connectionFailed(message)
                }
                // The idle connection had gone stale (e.g. PostgreSQL restarted): once more, fresh.
                return try use(try PGConnection(conninfo: conninfo, connectWithin: deadline?.remaining))
            }
        }
    }

    /// The error of a statement the watch stopped: nothing written, unless its connection was
    /// abandoned while a statement that may commit was in flight.
    private static func stopped(_ error: any Error, _ outcome: StatementWatch.Outcome, mayHaveCommitted: Bool) -> any Error {
        let why: (StatementWatch.Reason) -> String = { $0 == .shutdown ? cancelledAtShutdown : "cancelled at the request's deadline" }
        switch outcome {
        case .untouched:
            return error
        case .abandoned(let reason):
            if mayHaveCommitted {
                return PGError.outcomeUnknown("the server did not answer a cancel; the connection was abandoned while a write may have been committing")
            }
            return PGError.timedOut(why(reason) + "; the server did not answer the cancel")
        case .cancelled(let reason):
            // A statement that finished otherwise (a conflict, a broken connection) says so itself.
            guard case PGError.timedOut = error else { return error }
            return PGError.timedOut(why(reason))
        }
    }

    /// Callers holding a connection now.
    public var runningCount: Int { state.withLockedValue { $0.running.count } }

    /// Cancels every statement running (at shutdown, once requests have had their time): each
    /// fails with `PGError.timedOut(cancelledAtShutdown)`, so its caller can be answered.
    /// Returns, with how many there were, once each was cancelled, or abandoned when its
    /// server did not answer.
    @discardableResult
    public func cancelRunning() async -> Int {
        let running = state.withLockedValue { Array($0.running.values) }
        await withTaskGroup(of: Void.self) { group in
            for watch in running { group.addTask { await watch.stop(.shutdown) } }
        }
        return running.count
    }

    /// Runs `body` inside a transaction on a pooled connection.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await withConnection { connection in try connection.transaction { try body(connection) } }
    }

    /// Closes idle connections and stops the threads; later calls fail.
    public func shutdown() async {
        state.withLockedValue { $0.idle.removeAll() }
        try? await threads.shutdownGracefully()
    }

    /// Takes a permit, waiting at most the wait timeout, or until the request's deadline when
    /// that comes first (then `PGError.timedOut`).
    private func acquirePermit(deadline: RequestDeadline?) async throws {
        let wait = waitTimeout(), box = state, reserved = Self.usesReserve, reserve = self.reserve
        let left = deadline?.remaining
        let timeout = left.map { min($0, wait) } ?? wait
        let expiry: PGError = if let left, left < wait {
            .timedOut("no database connection came free before the request's deadline")
        } else {
            .poolBusy(waited: timeout)
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let granted = state.withLockedValue { state -> Bool in
                if state.permits > (reserved ? 0 : reserve) {
                    state.permits -= 1
                    return true
                }
                state.nextWaiter += 1
                let id = state.nextWaiter
                let timer = Task {
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    let expired = box.withLockedValue { state -> Waiter? in
                        state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
                    }
                    expired?.continuation.resume(throwing: expiry)
                }
                state.waiters.append(Waiter(id: id, continuation: continuation, reserved: reserved, timer: timer))
                return false
            }
            if granted { continuation.resume() }
        }
    }

    /// Hands the permit to the first waiter that may take it, or back to the pool.
    private func releasePermit() {
        let reserve = self.reserve
        let next = state.withLockedValue { state -> Waiter? in
            state.permits += 1
            guard let index = state.waiters.firstIndex(where: { $0.reserved || state.permits > reserve }) else { return nil }
            state.permits -= 1
            return state.waiters.remove(at: index)
        }
        next?.timer?.cancel()
        next?.continuation.resume()
    }
}
