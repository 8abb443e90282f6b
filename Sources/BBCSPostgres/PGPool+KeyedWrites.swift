import Foundation
import Logging

/// Writes that are never run twice. A write stores a fresh request key with its change
/// (`RequestKey`); when the connection breaks with the write or its COMMIT in flight, the key
/// is fenced on a fresh connection: committed, the write is answered as it was stored;
/// fenced, it did not commit and now never can, so it runs once more under a new key.
extension PGPool {
    /// Runs one statement that stores `key` with its change (through `RequestKey.insert`), and
    /// answers it with `committed(seq)` when it committed on a connection that then broke.
    /// Throws `PGError.outcomeUnknown` when PostgreSQL could not say in time whether it
    /// committed, and `connectionFailed` only when nothing was stored.
    public func keyedStatement<T: Sendable>(_ statement: @escaping @Sendable (PGConnection, RequestKey) throws -> T,
                                             committed: @escaping @Sendable (Int64) -> T) async throws -> T {
        let bound = waitTimeout(), request = RequestDeadline.current
        return try await withPermit { connections in
            // Taken once the permit is held: outside a request, the wait for it must not use up the time.
            try KeyedWrite(connections: connections, deadline: Self.resolutionDeadline(request, bound)).run { db, key in
                do {
                    return .done(try statement(db, key))
                } catch let error as PGError where error.isConnectionFailure {
                    return .inFlight(error, answer: committed)
                }
            }
        }
    }

    /// Runs `body` in a transaction; `body` stores `key` with the change it records (through
    /// `ChangeLog.record(..., key:)`). When COMMIT meets a broken connection and the fence finds
    /// it committed, the answer is what `body` returned before COMMIT: what was stored. A body
    /// that stores no key (it changed nothing, or running it again finds its own work done) is
    /// run once more. Throws as `keyedStatement` does.
    public func keyedTransaction<T: Sendable>(_ body: @escaping @Sendable (PGConnection, RequestKey) throws -> T) async throws -> T {
        let bound = waitTimeout(), request = RequestDeadline.current
        return try await withPermit { connections in
            try KeyedWrite(connections: connections, deadline: Self.resolutionDeadline(request, bound)).run { db, key in
                do {
                    try db.execute("BEGIN")
                } catch let error as PGError where error.isConnectionFailure {
                    return .notSent(error)
                }
                let value: T
                do {
                    value = try body(db, key)
                } catch {
                    if db.isHealthy { _ = try? db.execute("ROLLBACK") }
                    // Without COMMIT nothing commits: the transaction may simply run again.
                    if let error = error as? PGError, error.isConnectionFailure { return .notSent(error) }
                    throw error
                }
                do {
                    try db.execute("COMMIT")
                } catch let error as PGError where error.isConnectionFailure {
                    return .inFlight(error, answer: { _ in value })
                }
                return .done(value)
            }
        }
    }

    /// When the search for a write's outcome stops: the request's deadline (a connection
    /// abandoned then, its server not answering even a cancel, is answered outcome unknown at
    /// once: a fence would not be answered either); outside a request, the pool's wait
    /// timeout from now.
    static func resolutionDeadline(_ request: RequestDeadline?, _ bound: Duration) -> ContinuousClock.Instant {
        request?.instant ?? .now + bound
    }
}

/// One keyed write on a pool thread: at most two runs, each under a key of its own.
struct KeyedWrite: Sendable {
    let connections: PooledConnections
    let deadline: ContinuousClock.Instant

    /// What one run of a write came to.
    enum Attempt<T> {
        case done(T)
        /// The connection broke before anything that could commit was sent.
        case notSent(PGError)
        /// The connection broke with the write or its COMMIT in flight; `answer` is the reply
        /// when it turns out to have committed, from its change's seq.
        case inFlight(PGError, answer: (Int64) -> T)
    }

    private static let logger = Logger(label: "bbcsd")

    func run<T>(_ attempt: (PGConnection, RequestKey) throws -> Attempt<T>) throws -> T {
        var connection = connections.takeOpenIdle()
        var runs = 0
        while true {
            runs += 1
            let key = RequestKey()
            // A connection that cannot be opened has sent nothing: its error is the answer.
            let db = try connection ?? connections.open()
            connection = nil
            let outcome: Attempt<T>, fit: Bool
            do {
                (outcome, fit) = try connections.run(on: db) { try attempt(db, key) }
            } catch let stopped as StatementWatch.Stopped {
                throw stopped.error
            } catch let error as PGError {
                // Refused as read-only, the host is a standby now and nothing was written: once
                // more on a fresh connection, which opens on the primary.
                let passedOver = connections.passOver(db, error)
                if passedOver && error.isReadOnlyTransaction && runs == 1 { continue }
                if !passedOver { connections.keepIfReusable(db) }
                throw error
            } catch {
                connections.keepIfReusable(db)
                throw error
            }
            switch outcome {
            case .done(let value):
                if fit { connections.keepIfReusable(db) }
                return value
            case .notSent(let error):
                _ = connections.passOver(db, error)
                if runs == 2 { throw error }
            case .inFlight(let error, let answer):
                _ = connections.passOver(db, error)
                let fence = try resolve(key, after: error, backend: db.backendPID)
                Self.logger.info("ambiguous commit resolved", metadata: [
                    "key": "\(key)", "outcome": "\(fence == .fenced ? "not committed" : "committed")", "error": "\(error)"])
                switch fence {
                case .committed(let seq): return answer(seq)
                case .fenced: if runs == 2 { throw error }
                }
            }
        }
    }

    /// Fences `key` on fresh connections, pausing a little longer after each failure, until
    /// PostgreSQL answers or the deadline passes (then `PGError.outcomeUnknown`).
    func resolve(_ key: RequestKey, after failure: PGError, backend: Int32) throws -> RequestKey.Fence {
        var pause = Duration.milliseconds(20), last: any Error = failure
        while true {
            let remaining = deadline - .now
            guard remaining > .zero else {
                throw PGError.outcomeUnknown("request key \(key) could not be fenced in time; last: \(last)")
            }
            do {
                let db = try connections.open()
                // The fence may wait for a backend that still holds the key: no longer than the deadline.
                let milliseconds = max(1, remaining.wholeMilliseconds)
                try db.execute("SELECT set_config('statement_timeout', \(String(milliseconds)), false)")
                do {
                    return try key.fence(db)
                } catch let error as PGError where error.isReadOnlyTransaction {
                    // No host takes writes now (a single host turned read-only): what a read can tell.
                    guard let found = try key.lookUp(db, backend: backend) else {
                        throw PGError.outcomeUnknown("request key \(key) cannot be fenced on a read-only database while its backend lives")
                    }
                    return found
                }
            } catch let error as PGError where error.isConnectionFailure || error.isTimedOut {
                last = error
            } catch {
                throw PGError.outcomeUnknown("request key \(key) could not be fenced: \(error)")
            }
            let wait = min(pause, deadline - .now)
            if wait > .zero { Thread.sleep(forTimeInterval: wait.timeInterval) }
            pause = min(pause * 2, .seconds(1))
        }
    }
}
