import BBCSCore
import BBCSPostgres
import Foundation
import Logging
import Synchronization

/// Audits and logs every refusal while keeping a refusal storm's trail bounded.
///
/// A uid's first refusal opens a window for that uid. Within it, each distinct refusal
/// (method, outcome, object, parameters, message) is written and logged at once, up to
/// `distinctPerUid` of them; identical repeats are counted in memory, and so is every
/// refusal beyond that limit. When the window ends (or the daemon stops gracefully) the
/// counts are written as new rows, one per repeated refusal and one for all beyond the
/// limit, each with its number of attempts, and logged as one line each. Rows are only ever
/// inserted, so the count of attempts a uid made is the sum of its rows' `attempts`.
public final class RefusalThrottle: Sendable {
    /// The window and the distinct limit; read when a window opens, so a reload applies to the next one.
    public struct Limits: Sendable, Equatable {
        public var window: Duration
        public var distinctPerUid: Int
        public init(window: Duration = .seconds(60), distinctPerUid: Int = 50) {
            self.window = window; self.distinctPerUid = distinctPerUid
        }
    }

    /// What makes two refusals of one uid identical: everything their rows hold but pid and time.
    private struct Key: Hashable {
        var login: String, method: String, outcome: AuditEntry.Outcome, object: String?, params: String?, message: String
        init(_ r: AuditLog.Refusal) {
            login = r.login; method = r.method; outcome = r.outcome; object = r.object; params = r.params; message = r.message
        }
    }

    /// Attempts counted in memory: the row they will become and what the log line names as missing.
    private struct Counted {
        var row: AuditLog.Refusal
        var missing: String
        /// Beyond the limit: attempts by method.
        var methods: [String: Int] = [:]

        init(_ refusal: AuditLog.Refusal, missing: String) {
            row = refusal
            self.missing = missing
        }

        mutating func add(_ refusal: AuditLog.Refusal) {
            row.attempts += 1
            row.pid = refusal.pid
            // Requests running side by side may reach here out of the order of their times.
            row.lastAt = max(row.lastAt ?? row.at, refusal.at)
            row.at = min(row.at, refusal.at)
        }
    }

    private struct Window {
        let ends: ContinuousClock.Instant
        let distinctLimit: Int
        /// Every distinct refusal written in this window.
        var written: Set<Key> = []
        /// Their repeats since.
        var repeats: [Key: Counted] = [:]
        /// Refusals beyond the distinct limit, by outcome.
        var beyond: [AuditEntry.Outcome: Counted] = [:]

        /// The rows of the attempts counted in this window, in the order they began.
        var rows: [Counted] {
            (Array(repeats.values) + beyond.values.map { summary($0) }).sorted { $0.row.at < $1.row.at }
        }

        private func summary(_ beyond: Counted) -> Counted {
            var summary = beyond
            summary.row.method = beyond.methods.count == 1 ? beyond.row.method : "(several)"
            summary.row.object = nil
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            summary.row.params = (try? encoder.encode(["methods": beyond.methods])).map { String(decoding: $0, as: UTF8.self) }
            summary.row.message = "refusals unlike the \(distinctLimit) already recorded for this uid in the window"
            summary.missing = "-"
            return summary
        }
    }

    private let audit: AuditLog
    private let limits: @Sendable () -> Limits
    private let logger: Logger
    private let windows = Mutex<[UInt32: Window]>([:])

    public init(audit: AuditLog, limits: @escaping @Sendable () -> Limits, logger: Logger) {
        self.audit = audit
        self.limits = limits
        self.logger = logger
    }

    /// Audits and logs `refusal` at once if it is the first of its kind in its uid's window;
    /// otherwise counts it for the window's end. `missing` is what the log line names.
    public func record(_ refusal: AuditLog.Refusal, missing: String) async {
        let now = ContinuousClock.now
        let limits = self.limits()
        let (writeNow, ended) = windows.withLock { windows -> (Bool, Window?) in
            var ended: Window?
            if let open = windows[refusal.uid], open.ends <= now {
                ended = open
                windows[refusal.uid] = nil
            }
            var window = windows[refusal.uid] ?? Window(ends: now + limits.window, distinctLimit: limits.distinctPerUid)
            defer { windows[refusal.uid] = window }
            let key = Key(refusal)
            if window.written.contains(key) {
                if window.repeats[key] != nil { window.repeats[key]?.add(refusal) }
                else { window.repeats[key] = Counted(refusal, missing: missing) }
                return (false, ended)
            }
            if window.written.count < window.distinctLimit {
                window.written.insert(key)
                return (true, ended)
            }
            if window.beyond[refusal.outcome] != nil { window.beyond[refusal.outcome]?.add(refusal) }
            else { window.beyond[refusal.outcome] = Counted(refusal, missing: missing) }
            window.beyond[refusal.outcome]?.methods[refusal.method, default: 0] += 1
            return (false, ended)
        }
        if let ended { await write(ended.rows) }
        if writeNow { await write([Counted(refusal, missing: missing)]) }
    }

    /// Writes the windows that have ended, as they end, until cancelled.
    public func flushPeriodically() async {
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let next = windows.withLock { $0.values.map(\.ends).min() } ?? now + .seconds(1)
            // Never more than a second, so a window shortened by a reload ends on time too.
            do { try await Task.sleep(until: min(next, now + .seconds(1)), clock: .continuous) } catch { return }
            await flush(endedBy: .now)
        }
    }

    /// Writes every window now, ended or not: the last thing a daemon stopping gracefully does with refusals.
    public func flushAll() async {
        await flush(endedBy: nil)
    }

    private func flush(endedBy now: ContinuousClock.Instant?) async {
        let ended = windows.withLock { windows -> [Window] in
            let uids = windows.filter { entry in now.map { entry.value.ends <= $0 } ?? true }.map(\.key)
            return uids.compactMap { windows.removeValue(forKey: $0) }
        }
        for window in ended { await write(window.rows) }
    }

    /// One transaction for the rows, one "refused" line for each: a failure to audit is logged with the attempts lost.
    private func write(_ counted: [Counted]) async {
        do {
            try await audit.record(counted.map(\.row))
        } catch {
            logger.error("refusal not audited", metadata: ["attempts": "\(counted.map(\.row.attempts).reduce(0, +))",
                                                           "user": "\(counted.first?.row.login ?? "-")", "error": "\(error)"])
        }
        for c in counted {
            var metadata: Logger.Metadata = ["method": "\(c.row.method)", "user": "\(c.row.login)", "uid": "\(c.row.uid)",
                                             "missing": "\(c.missing)"]
            if let last = c.row.lastAt {
                metadata["attempts"] = "\(c.row.attempts)"
                metadata["first"] = "\(c.row.at.ISO8601Format())"
                metadata["last"] = "\(last.ISO8601Format())"
            }
            logger.notice("refused", metadata: metadata)
        }
    }
}
