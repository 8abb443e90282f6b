import Foundation
import Logging
import Synchronization

/// LISTENs on `ChangeLog.channel` over a libpq connection of its own, driven by a thread of
/// its own (neither the pool's nor Swift's cooperative threads), and tells `onEvent` when
/// changes were committed. When the connection breaks it reconnects with a backoff that
/// doubles up to `maxBackoff`, logging once when the outage begins and once when it ends.
///
/// Notifications sent while it was disconnected are lost: `.connected` (after every
/// connection, the first included) is the listener's cue to read what changed meanwhile.
public final class ChangeFeed: Sendable {
    public enum Event: Sendable, Equatable {
        /// LISTEN is in place (again): changes may have been missed before it.
        case connected
        /// A statement committed changes up to this seq (nil when the payload is not a seq).
        case notified(Int64?)
    }

    private let hosts: PGHosts
    private let logger: Logger
    private let maxBackoff: Duration
    private let state = Mutex(State())
    /// Written to by `stop`, so the thread wakes from its wait at once.
    private let wakePipe: (read: Int32, write: Int32)

    private struct State {
        var started = false
        var stopping = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    public convenience init(conninfo: String, logger: Logger, maxBackoff: Duration = .seconds(5)) {
        self.init(hosts: PGHosts(conninfo: conninfo), logger: logger, maxBackoff: maxBackoff)
    }

    /// Listens on connections `hosts` opens: with a multi-host string, on the current primary,
    /// where the changes are committed (a standby delivers no NOTIFY).
    public init(hosts: PGHosts, logger: Logger, maxBackoff: Duration = .seconds(5)) {
        self.hosts = hosts
        self.logger = logger
        self.maxBackoff = maxBackoff
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        }
        wakePipe = (fds[0], fds[1])
    }

    deinit {
        for fd in [wakePipe.read, wakePipe.write] where fd >= 0 { close(fd) }
    }

    /// Starts the thread; `onEvent` is called on it, so it must return quickly. Once only.
    public func start(_ onEvent: @escaping @Sendable (Event) -> Void) {
        let first = state.withLock { state -> Bool in
            defer { state.started = true }
            return !state.started && !state.stopping
        }
        guard first else { return }
        let thread = Thread { [self] in
            run(onEvent)
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.finished = true
                defer { state.waiters = [] }
                return state.waiters
            }
            waiters.forEach { $0.resume() }
        }
        thread.name = "bbcs-change-feed"
        thread.start()
    }

    /// Stops listening and returns once the thread has closed its connection.
    public func stop() async {
        let running = state.withLock { state -> Bool in
            state.stopping = true
            return state.started && !state.finished
        }
        guard running else { return }
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.finished { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    private var isStopping: Bool { state.withLock { $0.stopping } }

    private func run(_ onEvent: @Sendable (Event) -> Void) {
        var backoff = Duration.milliseconds(100)
        var outage: (since: ContinuousClock.Instant, attempts: Int)?
        while !isStopping {
            do {
                let connection = try hosts.connect()
                try connection.listen(ChangeLog.channel)
                if let lost = outage {
                    logger.notice("change feed listening again", metadata: [
                        "down_for": "\(ContinuousClock.now - lost.since)", "attempts": "\(lost.attempts)"])
                    outage = nil
                }
                backoff = .milliseconds(100)
                onEvent(.connected)
                while !isStopping {
                    for notification in try connection.notifications(waitingUpTo: .seconds(10), interrupt: wakePipe.read) {
                        onEvent(.notified(Int64(notification.payload)))
                    }
                }
            } catch {
                guard !isStopping else { break }
                if outage == nil {
                    logger.warning("change feed lost its database connection; reconnecting", metadata: ["error": "\(error)"])
                    outage = (ContinuousClock.now, 0)
                }
                outage?.attempts += 1
                pause(backoff)
                backoff = min(backoff * 2, maxBackoff)
            }
        }
    }

    /// Sleeps for `duration`, or less when `stop` is called.
    private func pause(_ duration: Duration) {
        var descriptor = pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, duration.pollMilliseconds)
    }
}
