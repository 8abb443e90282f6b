import Foundation
import Logging
import Synchronization

/// Logs the database failures that requests are refused for without a line per request.
///
/// The first failure of a kind logs its cause (libpq's text) once; so does a failure whose
/// cause is new to the episode (requests in flight when a server goes see "server closed the
/// connection", new ones "connection refused": each is logged once, not at every turn).
/// Repeats are counted, and every `interval` the count is logged as one line ("database
/// unavailable, 3,384 requests refused in the last 5 s", with `refused=3384`), so the
/// `refused` values of a kind's count lines add up to the requests refused. An episode ends
/// when a write succeeds a second or more after its last failure (`recovered()`: the database
/// answers again; a write that was already under way when the failures began does not end
/// it), or when an interval passes without a failure of that kind; its end is logged once,
/// with the total.
public final class FailureLog: Sendable {
    /// What a request was refused for.
    public enum Kind: String, Sendable, CaseIterable {
        case unavailable
        case poolBusy = "pool_busy"
        case timeout

        var message: String {
            switch self {
            case .unavailable: return "database unavailable"
            case .poolBusy: return "database pool busy"
            case .timeout: return "database requests timed out"
            }
        }

        var endMessage: String {
            switch self {
            case .unavailable: return "database reachable again"
            case .poolBusy: return "database pool serving again"
            case .timeout: return "database requests finishing in time again"
            }
        }
    }

    /// One kind's failures since its first: the causes logged and the refusals not yet logged.
    private struct Episode {
        let began: ContinuousClock.Instant
        /// The causes logged in this episode (at most `causeLimit`).
        var causes: Set<String> = []
        var lastFailure: ContinuousClock.Instant
        /// Refusals since `countedSince`, not yet in a count line.
        var counted = 0
        var countedSince: ContinuousClock.Instant
        var total = 0
    }

    /// A line to log, decided under the lock and written after it.
    private struct Line {
        let level: Logger.Level
        let message: String
        let metadata: Logger.Metadata
    }

    /// Distinct causes logged in one episode; more are counted, not logged.
    static let causeLimit = 16

    private let interval: Duration
    private let logger: Logger
    private let now: @Sendable () -> ContinuousClock.Instant
    private let episodes = Mutex<[Kind: Episode]>([:])

    /// - Parameters:
    ///   - interval: how often a count line is written while failures go on, and how long
    ///     without one ends a kind's episode.
    ///   - now: the clock (injectable for tests).
    public init(interval: Duration = .seconds(5), logger: Logger, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.interval = interval
        self.logger = logger
        self.now = now
    }

    /// Counts one request refused for `kind`; logs `cause` the first time it is seen in the episode (up to `causeLimit` causes).
    public func record(_ kind: Kind, cause: String, method: String) {
        let at = now()
        let lines = episodes.withLock { episodes -> [Line] in
            var lines: [Line] = []
            var episode = episodes[kind] ?? Episode(began: at, lastFailure: at, countedSince: at)
            if !episode.causes.contains(cause) && episode.causes.count < Self.causeLimit {
                lines.append(Line(level: .warning, message: kind.message, metadata: ["kind": "\(kind.rawValue)", "method": "\(method)", "error": "\(cause)"]))
                episode.causes.insert(cause)
            }
            episode.counted += 1
            episode.total += 1
            episode.lastFailure = at
            if at - episode.countedSince >= interval { lines.append(countLine(kind, &episode, at: at)) }
            episodes[kind] = episode
            return lines
        }
        write(lines)
    }

    /// The database answered a write: every episode whose last failure is a second or more ago ends now.
    public func recovered() {
        // The common case, nothing failing, takes the lock once and logs nothing.
        let at = now()
        let settle = min(interval, .seconds(1))
        let lines = episodes.withLock { episodes -> [Line] in
            guard !episodes.isEmpty else { return [] }
            let ended = Kind.allCases.compactMap { kind in episodes[kind].map { (kind, $0) } }.filter { at - $0.1.lastFailure >= settle }
            for (kind, _) in ended { episodes[kind] = nil }
            return ended.flatMap { kind, episode in end(kind, episode, at: at) }
        }
        write(lines)
    }

    /// Writes the count lines that are due and ends the episodes that went quiet; `final` (at shutdown) writes every count now.
    public func flush(final: Bool = false) {
        let at = now()
        let lines = episodes.withLock { episodes -> [Line] in
            var lines: [Line] = []
            for kind in Kind.allCases {
                guard var episode = episodes[kind] else { continue }
                if final {
                    // Stopping says nothing about the database: the counts only, no end.
                    if episode.counted > 0 { lines.append(countLine(kind, &episode, at: at)) }
                    episodes[kind] = nil
                } else if episode.counted == 0 && at - episode.lastFailure >= interval {
                    lines += end(kind, episode, at: at)
                    episodes[kind] = nil
                } else if episode.counted > 0 && at - episode.countedSince >= interval {
                    lines.append(countLine(kind, &episode, at: at))
                    episodes[kind] = episode
                }
            }
            return lines
        }
        write(lines)
    }

    /// Flushes every second until cancelled, then writes what is still counted.
    public func flushPeriodically() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: min(interval, .seconds(1))) } catch { break }
            flush()
        }
        flush(final: true)
    }

    private func countLine(_ kind: Kind, _ episode: inout Episode, at: ContinuousClock.Instant) -> Line {
        let seconds = Self.seconds(at - episode.countedSince)
        let line = Line(level: .warning, message: "\(kind.message), \(Self.grouped(episode.counted)) requests refused in the last \(seconds) s",
                        metadata: ["kind": "\(kind.rawValue)", "refused": "\(episode.counted)", "seconds": "\(seconds)"])
        episode.counted = 0
        episode.countedSince = at
        return line
    }

    /// The last count of an episode and the line saying it ended.
    private func end(_ kind: Kind, _ episode: Episode, at: ContinuousClock.Instant) -> [Line] {
        var episode = episode
        var lines: [Line] = []
        if episode.counted > 0 { lines.append(countLine(kind, &episode, at: at)) }
        lines.append(Line(level: .notice, message: kind.endMessage,
                          metadata: ["kind": "\(kind.rawValue)", "total": "\(episode.total)", "lasted": "\(Self.seconds(at - episode.began)) s"]))
        return lines
    }

    private func write(_ lines: [Line]) {
        for line in lines { logger.log(level: line.level, "\(line.message)", metadata: line.metadata) }
    }

    /// "5", "0.4": whole seconds when over ten, one decimal below.
    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let value = Double(seconds) + Double(attoseconds) / 1e18
        return value >= 10 ? String(Int(value.rounded())) : String(format: "%.1f", value)
    }

    /// 3384 as "3,384".
    static func grouped(_ n: Int) -> String {
        let digits = String(n)
        var out = ""
        for (i, c) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }
}
