import Dispatch
import NIOConcurrencyHelpers
import NIOPosix

/// A bounded pool of libpq connections whose blocking calls run on a dedicated thread
/// pool, never on Swift's cooperative threads.
///
/// Connections open lazily, up to `size`; callers beyond that wait their turn, each for at
/// most the wait timeout, then fail with `PGError.poolBusy`. A connection
/// goes back to the pool after any answer that leaves it healthy and outside a transaction;
/// a broken one is dropped, and a request that met a stale idle connection is retried once on
/// a fresh one (except a write request's statement that may have committed), so the pool
/// recovers by itself when PostgreSQL comes back. Writes that record a change go through
/// `keyedStatement`/`keyedTransaction` (PGPool+KeyedWrites.swift), which find out whether
/// they committed; any other transaction whose COMMIT met a broken connection fails with
/// `PGError.outcomeUnknown`. Requests are bounded
/// by their `RequestDeadline`; `reserved` connections are kept for the scheduler.
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
    let sessionTimeouts: @Sendable () -> SessionTimeouts?
    /// Permits only work run with `usesReserve` may take (the scheduler's).
    private let reserve: Int
    private let state: NIOLockedValueBox<State>
    /// Told how long each caller waited for a connection, whether it got one or not.
    private let observeWait: @Sendable (Duration) -> Void

    private struct State {
        var permits: Int
        /// Callers waiting for a connection, first come first served.
        var waiters: [Waiter] = []
        var nextWaiter = 0
        var idle: [PGConnection] = []
        /// The statements running, by caller, for a shutdown to cancel.
        var running: [Int: StatementWatch] = [:]
        var nextRunning = 0
        /// Set by `cancelRunning`: no caller gets a connection any more.
        var closing = false
        /// When a permit last came back (or the pool was made).
        var lastRelease = ContinuousClock.now
        /// When a caller last gave up waiting for a connection.
        var lastBusy: ContinuousClock.Instant?
        /// Connections opened so far.
        var opened = 0
    }

    /// What the pool holds and owes at one moment.
    public struct Usage: Sendable, Equatable {
        public var size: Int
        /// Permits taken: connections in use by a caller (or being opened for one).
        public var inUse: Int
        /// Callers waiting for a connection.
        public var waiters: Int
        public var idle: Int
        /// Connections opened since the pool was made.
        public var opened: Int
        /// How long the first caller in line has waited, when one waits.
        public var longestWait: Duration?
        /// How long no connection has come back while callers were being turned away for want
        /// of one: set only then, a pool that makes no progress.
        public var stalledFor: Duration?

        public init(size: Int, inUse: Int, waiters: Int, idle: Int, opened: Int, longestWait: Duration?, stalledFor: Duration?) {
            self.size = size; self.inUse = inUse; self.waiters = waiters; self.idle = idle; self.opened = opened
            self.longestWait = longestWait; self.stalledFor = stalledFor
        }
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Void, any Error>
        /// Whether the waiter may take a reserved permit.
        let reserved: Bool
        let since: ContinuousClock.Instant
        /// Fails the wait when it lasts too long; cancelled when a connection comes free first.
        var timer: WaitTimer?
    }

    /// Work run with this set may take the connections the pool keeps back (`reserved`), so a
    /// pool full of requests blocked on a lock cannot stop it. The scheduler sets it.
    @TaskLocal public static var usesReserve = false

    /// What `PGError.timedOut` carries for a statement cancelled because the daemon is stopping.
    public static let cancelledAtShutdown = "cancelled at shutdown"

    /// A pool over one connection string (`PGHosts(conninfo:)`); the parameters are as below.
    public convenience init(conninfo: String, size: Int, waitTimeout: @escaping @Sendable () -> Duration = { .seconds(10) },
                            sessionTimeouts: @escaping @Sendable () -> SessionTimeouts? = { nil }, reserved: Int = 0) {
        self.init(hosts: PGHosts(conninfo: conninfo), size: size, waitTimeout: waitTimeout, sessionTimeouts: sessionTimeouts,
                  reserved: reserved)
    }

    /// - Parameters:
    ///   - hosts: what opens the connections.
    ///   - size: the most connections open at once, and the threads that drive them.
    ///   - waitTimeout: the longest a caller waits for a connection, read at each wait (so a
    ///     reload applies at once).
    ///   - sessionTimeouts: the `statement_timeout` and `lock_timeout` every connection runs
    ///     under, read at each checkout (a change applies at a connection's next use).
    ///   - reserved: connections kept back for work run with `usesReserve` (at most size - 1).
    ///   - observeWait: told each wait for a connection's length (for the metrics), granted or not.
    public init(hosts: PGHosts, size: Int, waitTimeout: @escaping @Sendable () -> Duration = { .seconds(10) },
                sessionTimeouts: @escaping @Sendable () -> SessionTimeouts? = { nil }, reserved: Int = 0,
                observeWait: @escaping @Sendable (Duration) -> Void = { _ in }) {
        precondition(size > 0, "pool size must be positive")
        self.size = size
        self.hosts = hosts
        self.waitTimeout = waitTimeout
        self.sessionTimeouts = sessionTimeouts
        self.reserve = max(0, min(reserved, size - 1))
        self.observeWait = observeWait
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
        try await watched { [self] watch, deadline in
            /// Runs `body` on `connection` under the watch, and puts the connection back when fit.
            func use(_ connection: PGConnection) throws -> T {
                do {
                    let (value, fit) = try watch.run(on: connection, timeouts: sessionTimeouts(), deadline: deadline) { try body(connection) }
                    if fit { keep(connection) }
                    return value
                } catch let error as PGError where error.isReadOnlyTransaction && passOver(connection, after: error) {
                    throw RefusedAsReadOnly(error: error)
                } catch let error as PGError {
                    if !passOver(connection, after: error), error.leavesConnectionFit { keepIfReusable(connection) }
                    throw error
                } catch let error as StatementWatch.Stopped {
                    throw error.error
                } catch {
                    // A domain answer (not found, a conflict, a refusal) leaves the connection as
                    // good as it was; dropping it made the next request pay for a new backend.
                    keepIfReusable(connection)
                    throw error
                }
            }
            let idle = takeOpenIdle()
            do {
                return try use(try idle ?? open(within: deadline))
            } catch let refused as RefusedAsReadOnly {
                // Its host is a standby now and nothing was written: once more, on the primary.
                do { return try use(try open(within: deadline)) } catch is RefusedAsReadOnly { throw refused.error }
            } catch PGError.connectionFailed(let message) {
                guard idle != nil else {
                    if deadline?.hasPassed == true { throw PGError.timedOut("no connection opened before the request's deadline: \(message)") }
                    throw PGError.connectionFailed(message)
                }
                // The idle connection had gone stale (e.g. PostgreSQL restarted): once more, fresh,
                // unless what failed was a statement of a write that may have committed on its own.
                guard idle?.lastStatementMayCommit != true || deadline?.mayWrite != true else { throw PGError.connectionFailed(message) }
                return try use(try open(within: deadline))
            }
        }
    }

    /// Runs `body` on one of the pool's threads under a permit, with a watch that cancels its
    /// statement at the request's deadline (or at shutdown).
    func watched<T: Sendable>(_ body: @escaping @Sendable (StatementWatch, RequestDeadline?) throws -> T) async throws -> T {
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
        return try await threads.runIfActive { try body(watch, deadline) }
    }

    /// A new connection, on the primary when there are several hosts, its connect bounded by
    /// what is left of the request's time.
    func open(within deadline: RequestDeadline?) throws -> PGConnection {
        let connection = try hosts.connect(connectWithin: deadline?.remaining)
        state.withLockedValue { $0.opened += 1 }
        return connection
    }

    /// Hands `connection` back for the next caller.
    func keep(_ connection: PGConnection) { state.withLockedValue { $0.idle.append(connection) } }

    /// Hands `connection` back if it is fit for the next caller, else drops it.
    func keepIfReusable(_ connection: PGConnection) { if connection.isReusable { keep(connection) } }

    /// An idle connection, if any. With several hosts, idle connections to a host that is no
    /// longer the preferred one are closed instead: they were opened before it was passed over
    /// (one busy when its host refused a write as read-only, say), and reads on them would not
    /// see what is written on the primary now.
    func takeIdle() -> PGConnection? {
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

    /// An idle connection the server has said nothing to meanwhile (others are dropped: they
    /// are closing), if one is kept.
    func takeOpenIdle() -> PGConnection? {
        while let connection = takeIdle() {
            if connection.isOpenAfterIdle { return connection }
        }
        return nil
    }

    /// After `error` on `connection`, closes the idle connections to its host when the error
    /// shows the host may be gone or no longer the primary (`PGHosts.demote`); true when it did.
    func passOver(_ connection: PGConnection, after error: PGError) -> Bool {
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

    /// Callers holding a connection now, or waiting for one.
    public var runningCount: Int { state.withLockedValue { $0.running.count + $0.waiters.count } }

    /// What the pool holds now, and whether it is making progress.
    public var usage: Usage {
        let now = ContinuousClock.now, waitTimeout = waitTimeout()
        return state.withLockedValue { state in
            let sinceRelease = now - state.lastRelease
            // Turned away since the last return, and nothing back for longer than a wait: every
            // caller of that time was refused, and the connections are held by what never ends.
            let stalled = (state.lastBusy.map { $0 > state.lastRelease } ?? false) && sinceRelease > waitTimeout
            return Usage(size: size, inUse: size - state.permits, waiters: state.waiters.count, idle: state.idle.count,
                         opened: state.opened, longestWait: state.waiters.first.map { now - $0.since },
                         stalledFor: stalled ? sinceRelease : nil)
        }
    }

    /// Cancels every statement running and every wait for a connection (at shutdown, once
    /// requests have had their time), and refuses later ones: each fails with
    /// `PGError.timedOut(cancelledAtShutdown)`, so its caller can be answered. Returns, with
    /// how many there were, once each was cancelled, or abandoned when its server did not answer.
    @discardableResult
    public func cancelRunning() async -> Int {
        let (running, waiters) = state.withLockedValue { state -> ([StatementWatch], [Waiter]) in
            state.closing = true
            defer { state.waiters.removeAll() }
            return (Array(state.running.values), state.waiters)
        }
        for waiter in waiters {
            waiter.timer?.cancel()
            waiter.continuation.resume(throwing: PGError.timedOut(Self.cancelledAtShutdown))
        }
        await withTaskGroup(of: Void.self) { group in
            for watch in running { group.addTask { await watch.stop(.shutdown) } }
        }
        return running.count + waiters.count
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
        let wait = waitTimeout(), box = state, reserved = Self.usesReserve, reserve = self.reserve, observeWait = self.observeWait
        let since = ContinuousClock.now
        let left = deadline?.remaining
        let timeout = left.map { min($0, wait) } ?? wait
        let expiry: PGError = if let left, left < wait {
            .timedOut("no database connection came free before the request's deadline")
        } else {
            .poolBusy(waited: timeout)
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let granted = state.withLockedValue { state -> Bool? in
                if state.closing { return nil }
                if state.permits > (reserved ? 0 : reserve) {
                    state.permits -= 1
                    return true
                }
                state.nextWaiter += 1
                let id = state.nextWaiter
                // On Dispatch's threads, not Swift's cooperative ones: a wait must end in time even
                // when every cooperative thread is busy (or blocked, as synchronous tests do).
                let timer = WaitTimer(after: timeout) {
                    let expired = box.withLockedValue { state -> Waiter? in
                        let expired = state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
                        if expired != nil { state.lastBusy = .now }
                        return expired
                    }
                    guard let expired else { return }
                    observeWait(.now - since)
                    expired.continuation.resume(throwing: expiry)
                }
                state.waiters.append(Waiter(id: id, continuation: continuation, reserved: reserved, since: since, timer: timer))
                return false
            }
            switch granted {
            case true?:
                observeWait(.zero)
                continuation.resume()
            case nil: continuation.resume(throwing: PGError.timedOut(Self.cancelledAtShutdown))
            case false?: break
            }
        }
    }

    /// Hands the permit to the first waiter that may take it, or back to the pool.
    private func releasePermit() {
        let reserve = self.reserve
        let next = state.withLockedValue { state -> Waiter? in
            state.permits += 1
            state.lastRelease = .now
            guard let index = state.waiters.firstIndex(where: { $0.reserved || state.permits > reserve }) else { return nil }
            state.permits -= 1
            return state.waiters.remove(at: index)
        }
        guard let next else { return }
        next.timer?.cancel()
        observeWait(.now - next.since)
        next.continuation.resume()
    }
}

extension PGPool {
    /// Runs `body` on one of the pool's threads under a permit and the request's watch, with
    /// the pool's connections at hand, for uses of a connection that `withConnection`'s retry
    /// rule does not fit.
    func withPermit<T: Sendable>(_ body: @escaping @Sendable (PooledConnections) throws -> T) async throws -> T {
        try await watched { [self] watch, deadline in try body(PooledConnections(pool: self, watch: watch, deadline: deadline)) }
    }
}

/// The pool's connections as one of its threads sees them while it holds a permit.
struct PooledConnections: Sendable {
    let pool: PGPool
    /// Cancels the statement running at the request's deadline (or at shutdown).
    let watch: StatementWatch
    let deadline: RequestDeadline?

    /// An idle connection the server has not closed meanwhile (others are dropped), if one is kept.
    func takeOpenIdle() -> PGConnection? { pool.takeOpenIdle() }

    /// A new connection; its failure means nothing was sent.
    func open() throws -> PGConnection { try pool.open(within: deadline) }

    /// Runs `body` on `connection` under the watch (`StatementWatch.run`).
    func run<T>(on connection: PGConnection, _ body: () throws -> T) throws -> (value: T, fit: Bool) {
        try watch.run(on: connection, timeouts: pool.sessionTimeouts(), deadline: deadline, body)
    }

    /// Hands `connection` back if it is fit for the next caller, else drops it.
    func keepIfReusable(_ connection: PGConnection) { pool.keepIfReusable(connection) }

    /// After an error on a connection, closes the idle connections to its host when the error
    /// shows the host may be gone or no longer the primary; true when it did.
    func passOver(_ connection: PGConnection, _ error: PGError) -> Bool { pool.passOver(connection, after: error) }
}

/// Runs a closure once after a while unless cancelled first, on Dispatch's threads.
final class WaitTimer: @unchecked Sendable {
    // DispatchWorkItem is thread-safe (cancel from any thread) but not marked Sendable.
    private let item: DispatchWorkItem

    init(after duration: Duration, _ work: @escaping @Sendable () -> Void) {
        item = DispatchWorkItem(block: work)
        DispatchQueue.global().asyncAfter(deadline: .now() + duration.timeInterval, execute: item)
    }

    func cancel() { item.cancel() }
}

/// A write its host refused as read-only, which passed the host over: run once more.
private struct RefusedAsReadOnly: Error {
    let error: PGError
}
