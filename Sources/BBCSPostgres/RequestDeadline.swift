/// The instant by which the request in hand must be answered, set by the daemon's dispatcher
/// for each request (now + `request_timeout`), and by the scheduler for each periodic run. `PGPool` reads it: a wait for a connection
/// ends there, and a statement still running then is cancelled (`PQcancel`).
public struct RequestDeadline: Sendable {
    /// When the request's time is up.
    public let instant: ContinuousClock.Instant
    /// The whole time the request was given (the `request_timeout` in force), for messages.
    public let budget: Duration
    /// Whether the request may write: a write abandoned mid-statement may have committed.
    public let mayWrite: Bool

    public init(budget: Duration, mayWrite: Bool, from start: ContinuousClock.Instant = .now) {
        self.instant = start + budget
        self.budget = budget
        self.mayWrite = mayWrite
    }

    /// The deadline of the request (or scheduler run) this task serves; nil outside one (start-up).
    @TaskLocal public static var current: RequestDeadline?

    /// The time left, zero once the deadline has passed.
    public var remaining: Duration { max(.zero, instant - .now) }

    public var hasPassed: Bool { ContinuousClock.now >= instant }
}

/// The per-session limits a pooled connection runs under (`statement_timeout`, `lock_timeout`).
public struct SessionTimeouts: Sendable, Equatable {
    public var statement: Duration
    public var lock: Duration

    public init(statement: Duration, lock: Duration) {
        self.statement = statement
        self.lock = lock
    }

    /// The SET statements that put these limits in force, in whole milliseconds.
    var script: String {
        "SET statement_timeout = \(statement.wholeMilliseconds); SET lock_timeout = \(lock.wholeMilliseconds)"
    }
}

extension Duration {
    var wholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

extension Duration {
    /// The duration in seconds, for Foundation's and Dispatch's clocks.
    public var timeInterval: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
