import Foundation
import NIOPosix
import Synchronization

/// Asks the database for its newest change seq every `interval`, over a connection of its own
/// on a thread of its own, so whether the database answers is known without a request having
/// to find out, and is known within seconds whatever the pool is doing. A probe unanswered
/// for `timeout` (a frozen server) counts as an outage from the moment it was sent; its
/// connection is then abandoned, as a request's is.
public final class DatabaseProbe: Sendable {
    /// What the probes have found, as of now.
    public struct Reading: Sendable, Equatable {
        public var reachable: Bool
        /// When the database stopped answering, while it does not.
        public var unreachableSince: Date?
        /// Why the last probe failed, while the database does not answer.
        public var error: String?
        /// The newest seq of the change sequence, at the last answer.
        public var head: Int64?
        /// Outages that have ended: times the database answered again after it did not.
        public var recoveries: Int

        public init(reachable: Bool, unreachableSince: Date? = nil, error: String? = nil, head: Int64? = nil, recoveries: Int) {
            self.reachable = reachable; self.unreachableSince = unreachableSince; self.error = error
            self.head = head; self.recoveries = recoveries
        }
    }

    private struct State {
        var reading = Reading(reachable: true, recoveries: 0)
        /// The probe in flight, since when (monotonic and wall clock).
        var inFlight: (since: ContinuousClock.Instant, at: Date)?
        var connection: PGConnection?
    }

    private let hosts: PGHosts
    private let interval: Duration
    private let timeout: Duration
    private let onRecovery: @Sendable () -> Void
    private let state = Mutex(State())
    private let thread: NIOThreadPool

    /// - Parameters:
    ///   - hosts: what opens its connection (the current primary, with several hosts).
    ///   - onRecovery: called each time the database answers again after an outage.
    public init(hosts: PGHosts, interval: Duration = .seconds(1), timeout: Duration = .seconds(2),
                onRecovery: @escaping @Sendable () -> Void = {}) {
        self.hosts = hosts
        self.interval = interval
        self.timeout = timeout
        self.onRecovery = onRecovery
        self.thread = NIOThreadPool(numberOfThreads: 1)
    }

    public var reading: Reading {
        let now = ContinuousClock.now, timeout = self.timeout
        return state.withLock { state in
            var reading = state.reading
            if reading.reachable, let probe = state.inFlight, now - probe.since > timeout {
                reading.reachable = false
                reading.unreachableSince = probe.at
                reading.error = "the database has not answered a probe for \(Self.seconds(now - probe.since))"
            }
            return reading
        }
    }

    /// Probes every `interval` until cancelled.
    public func run() async {
        thread.start()
        while !Task.isCancelled {
            await probe()
            guard (try? await Task.sleep(for: interval)) != nil else { break }
        }
        let connection = state.withLock { state -> PGConnection? in
            defer { state.connection = nil }
            return state.connection
        }
        _ = connection  // closed here, outside the lock
        try? await thread.shutdownGracefully()
    }

    /// One probe: the newest seq, within `timeout`.
    func probe() async {
        let (hosts, timeout) = (self.hosts, self.timeout)
        let kept = state.withLock { state -> PGConnection? in
            state.inFlight = (.now, Date())
            defer { state.connection = nil }
            return state.connection
        }
        // With several hosts, the primary may have moved since: the probe follows the pool to it.
        let held = kept.flatMap { !hosts.isMultiHost || $0.endpoint == hosts.preferred ? $0 : nil }
        let watch = StatementWatch()
        let timer = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            await watch.stop(.deadline)
        }
        defer { timer.cancel() }
        let outcome: Result<(Int64, PGConnection?), any Error>
        do {
            outcome = .success(try await thread.runIfActive {
                // The pool and the change feed find the primary; the probe asks the one they chose,
                // never trying the other hosts itself (a former primary among them, say).
                let connection = try held ?? hosts.connect(connectWithin: timeout, preferredOnly: true)
                // A read: a connection cut from under it leaves nothing in doubt.
                let (head, fit) = try watch.run(on: connection, timeouts: SessionTimeouts(statement: timeout, lock: timeout),
                                                deadline: RequestDeadline(budget: timeout, mayWrite: false)) {
                    try connection.one(Int64.self, "SELECT coalesce(max(seq), 0) FROM changes")
                }
                return (head, fit ? connection : nil)
            })
        } catch is StatementWatch.Stopped {
            outcome = .failure(Unanswered(timeout: timeout))
        } catch {
            outcome = .failure(error)
        }
        let recovered = state.withLock { state -> Bool in
            let at = state.inFlight?.at ?? Date()
            state.inFlight = nil
            switch outcome {
            case .success(let (head, connection)):
                let recovered = !state.reading.reachable
                state.connection = connection
                state.reading.reachable = true
                state.reading.unreachableSince = nil
                state.reading.error = nil
                state.reading.head = head
                if recovered { state.reading.recoveries += 1 }
                return recovered
            case .failure(let error):
                if state.reading.reachable { state.reading.unreachableSince = at }
                state.reading.reachable = false
                // libpq's text runs over lines; a health reason is one.
                state.reading.error = ((error as? PGError)?.reason ?? "\(error)").split(whereSeparator: \.isWhitespace).joined(separator: " ")
                return false
            }
        }
        if recovered { onRecovery() }
    }

    static func seconds(_ duration: Duration) -> String {
        "\(duration.components.seconds)s"
    }

    /// A probe cut off at its timeout.
    struct Unanswered: Error, CustomStringConvertible {
        let timeout: Duration
        var description: String { "the database did not answer a probe within \(DatabaseProbe.seconds(timeout))" }
    }
}
