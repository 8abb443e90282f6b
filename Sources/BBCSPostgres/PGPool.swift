import NIOConcurrencyHelpers
import NIOPosix

/// A bounded pool of libpq connections whose blocking calls run on a dedicated thread
/// pool, never on Swift's cooperative threads.
///
/// Connections open lazily, up to `size`; callers beyond that wait their turn, each for at
/// most the wait timeout, then fail with `PGError.poolBusy`. A connection
/// goes back to the pool after any answer that leaves it healthy and outside a transaction;
/// a broken one is dropped, and a request that met a stale idle connection is retried once on
/// a fresh one, so the pool recovers by itself when PostgreSQL comes back. Nothing that may
/// have committed is run again: a transaction whose COMMIT met a broken connection fails with
/// `PGError.outcomeUnknown`, and writes go through `keyedStatement`/`keyedTransaction`
/// (PGPool+KeyedWrites.swift), which find out whether they committed.
public final class PGPool: Sendable {
    public let size: Int
    private let conninfo: String
    private let threads: NIOThreadPool
    let waitTimeout: @Sendable () -> Duration
    private let state: NIOLockedValueBox<State>

    private struct State {
        var permits: Int
        /// Callers waiting for a connection, first come first served.
        var waiters: [Waiter] = []
        var nextWaiter = 0
        var idle: [PGConnection] = []
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Void, any Error>
        /// Fails the wait when it lasts too long; cancelled when a connection comes free first.
        var timer: Task<Void, Never>?
    }

    /// - Parameters:
    ///   - conninfo: a libpq connection string.
    ///   - size: the most connections open at once, and the threads that drive them.
    ///   - waitTimeout: the longest a caller waits for a connection, read at each wait (so a
    ///     reload applies at once).
    public init(conninfo: String, size: Int, waitTimeout: @escaping @Sendable () -> Duration = { .seconds(10) }) {
        precondition(size > 0, "pool size must be positive")
        self.size = size
        self.conninfo = conninfo
        self.waitTimeout = waitTimeout
        self.threads = NIOThreadPool(numberOfThreads: size)
        self.state = NIOLockedValueBox(State(permits: size))
        threads.start()
    }

    /// Runs `body` with a connection of its own, on one of the pool's threads.
    /// Throws `PGError.poolBusy` when no connection comes free within the wait timeout.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await acquirePermit()
        defer { releasePermit() }
        let conninfo = self.conninfo
        return try await threads.runIfActive { [state] in
            let idle = state.withLockedValue { $0.idle.popLast() }
            let connection = try idle ?? PGConnection(conninfo: conninfo)
            do {
                let value = try body(connection)
                state.withLockedValue { $0.idle.append(connection) }
                return value
            } catch let error as PGError {
                if connection.isReusable, case .queryFailed = error { state.withLockedValue { $0.idle.append(connection) } }
                guard idle != nil, case .connectionFailed = error else { throw error }
                // The idle connection had gone stale (e.g. PostgreSQL restarted): once more, fresh.
                let fresh = try PGConnection(conninfo: conninfo)
                let value = try body(fresh)
                state.withLockedValue { $0.idle.append(fresh) }
                return value
            } catch {
                // A domain answer (not found, a conflict, a refusal) leaves the connection as
                // good as it was; dropping it made the next request pay for a new backend.
                if connection.isReusable { state.withLockedValue { $0.idle.append(connection) } }
                throw error
            }
        }
    }

    /// Runs `body` inside a transaction on a pooled connection.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await withConnection { connection in try connection.transaction { try body(connection) } }
    }

    /// Runs `body` on one of the pool's threads under a permit, with the pool's connections at
    /// hand, for uses of a connection that `withConnection`'s retry rule does not fit.
    func withPermit<T: Sendable>(_ body: @escaping @Sendable (PooledConnections) throws -> T) async throws -> T {
        try await acquirePermit()
        defer { releasePermit() }
        let conninfo = self.conninfo
        return try await threads.runIfActive { [state] in
            try body(PooledConnections(takeIdle: { state.withLockedValue { $0.idle.popLast() } },
                                       open: { try PGConnection(conninfo: conninfo) },
                                       keep: { connection in state.withLockedValue { $0.idle.append(connection) } }))
        }
    }

    /// Closes idle connections and stops the threads; later calls fail.
    public func shutdown() async {
        state.withLockedValue { $0.idle.removeAll() }
        try? await threads.shutdownGracefully()
    }

    private func acquirePermit() async throws {
        let timeout = waitTimeout(), box = state
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let granted = state.withLockedValue { state -> Bool in
                if state.permits > 0 {
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
                    expired?.continuation.resume(throwing: PGError.poolBusy(waited: timeout))
                }
                state.waiters.append(Waiter(id: id, continuation: continuation, timer: timer))
                return false
            }
            if granted { continuation.resume() }
        }
    }

    private func releasePermit() {
        let next = state.withLockedValue { state -> Waiter? in
            if state.waiters.isEmpty {
                state.permits += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.timer?.cancel()
        next?.continuation.resume()
    }
}

/// The pool's connections as one of its threads sees them while it holds a permit.
struct PooledConnections: Sendable {
    /// An idle connection, if one is kept (it may have gone stale).
    let takeIdle: @Sendable () -> PGConnection?
    /// A new connection; its failure means nothing was sent.
    let open: @Sendable () throws -> PGConnection
    /// Hands a connection back for the next caller.
    let keep: @Sendable (PGConnection) -> Void

    /// An idle connection the server has not closed meanwhile (others are dropped), if one is kept.
    func takeOpenIdle() -> PGConnection? {
        while let connection = takeIdle() {
            if connection.isOpenAfterIdle { return connection }
        }
        return nil
    }

    /// Hands `connection` back if it is fit for the next caller, else drops it.
    func keepIfReusable(_ connection: PGConnection) { if connection.isReusable { keep(connection) } }
}
