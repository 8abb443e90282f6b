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
///
/// New connections come from `hosts`, which, for a multi-host connection string, opens them
/// on the current primary. A write refused as read-only (the host is a standby now) or a
/// broken connection closes the pool's idle connections to its host, and read-only takes the
/// host's preference; the refused request, which wrote nothing, runs once more on a fresh
/// connection.
public final class PGPool: Sendable {
    public let size: Int
    /// Opens the pool's connections (and the change feed's).
    public let hosts: PGHosts
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
    public convenience init(conninfo: String, size: Int, waitTimeout: @escaping @Sendable () -> Duration = { .seconds(10) }) {
        self.init(hosts: PGHosts(conninfo: conninfo), size: size, waitTimeout: waitTimeout)
    }

    /// - Parameters:
    ///   - hosts: what opens the connections.
    ///   - size: the most connections open at once, and the threads that drive them.
    ///   - waitTimeout: the longest a caller waits for a connection, read at each wait.
    public init(hosts: PGHosts, size: Int, waitTimeout: @escaping @Sendable () -> Duration = { .seconds(10) }) {
        precondition(size > 0, "pool size must be positive")
        self.size = size
        self.hosts = hosts
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
        let hosts = self.hosts
        return try await threads.runIfActive { [self, state] in
            let idle = takeIdle()
            let connection = try idle ?? hosts.connect()
            do {
                let value = try body(connection)
                state.withLockedValue { $0.idle.append(connection) }
                return value
            } catch let error as PGError {
                let demoted = passOver(connection, after: error)
                if !demoted, connection.isReusable, case .queryFailed = error { state.withLockedValue { $0.idle.append(connection) } }
                if demoted && error.isReadOnlyTransaction { return try rerunOnPrimary(body) }
                guard idle != nil, case .connectionFailed = error else { throw error }
                // The idle connection had gone stale (e.g. PostgreSQL restarted): once more, fresh.
                let fresh = try hosts.connect()
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

    /// An idle connection, if any. With several hosts, idle connections to a host that is no
    /// longer the preferred one are closed instead: they were opened before it was passed over
    /// (one busy when its host refused a write as read-only, say), and reads on them would not
    /// see what is written on the primary now.
    private func takeIdle() -> PGConnection? {
        guard hosts.isMultiHost else { return state.withLockedValue { $0.idle.popLast() } }
        let preferred = hosts.preferred
        let (connection, stale) = state.withLockedValue { state -> (PGConnection?, [PGConnection]) in
            let stale = state.idle.filter { $0.endpoint != preferred }
            state.idle.removeAll { $0.endpoint != preferred }
            return (state.idle.popLast(), stale)
        }
        _ = stale  // closed here, outside the lock: closing one talks to the server
        return connection
    }

    /// After `error` on `connection`, closes the idle connections to its host when the error
    /// shows the host may be gone or no longer the primary (`PGHosts.demote`).
    private func passOver(_ connection: PGConnection, after error: PGError) -> Bool {
        guard let endpoint = connection.endpoint, hosts.demote(endpoint, after: error) else { return false }
        // The connections returned close as this statement ends, outside the lock: closing one
        // talks to the server.
        _ = state.withLockedValue { state -> [PGConnection] in
            let gone = state.idle.filter { $0.endpoint == endpoint }
            state.idle.removeAll { $0.endpoint == endpoint }
            return gone
        }
        return true
    }

    /// Runs `body` again, once, on a fresh connection, which `hosts` opens on a primary: its
    /// first run was refused as read-only, so it wrote nothing.
    private func rerunOnPrimary<T>(_ body: (PGConnection) throws -> T) throws -> T {
        let fresh = try hosts.connect()
        do {
            let value = try body(fresh)
            state.withLockedValue { $0.idle.append(fresh) }
            return value
        } catch {
            if fresh.isReusable { state.withLockedValue { $0.idle.append(fresh) } }
            throw error
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
        let hosts = self.hosts
        return try await threads.runIfActive { [state] in
            try body(PooledConnections(takeIdle: { self.takeIdle() },
                                       open: { try hosts.connect() },
                                       keep: { connection in state.withLockedValue { $0.idle.append(connection) } },
                                       passOver: { connection, error in self.passOver(connection, after: error) }))
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
    /// After an error on a connection, closes the idle connections to its host when the error
    /// shows the host may be gone or no longer the primary; true when it did.
    let passOver: @Sendable (PGConnection, PGError) -> Bool

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
