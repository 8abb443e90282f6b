import BBCSCore
import BBCSPostgres
import Foundation
import Logging
import Synchronization

/// How reminders are mailed: a shell command reading one message (headers, blank line,
/// body) on standard input, e.g. `/usr/bin/msmtp --file=/etc/bbcs/msmtprc -t`.
public struct MailSettings: Sendable, Equatable {
    public var command: String
    /// How long one run of the command may take, writing the message to it included.
    public var timeout: Duration
    /// Most commands running at once.
    public var concurrency: Int

    public init(command: String, timeout: Duration, concurrency: Int = 4) {
        self.command = command
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
    }
}

/// The delivery worker: sends reminders' mail apart from the scheduler, so a relay that
/// hangs delays only its own messages, never the recording of reminders.
///
/// A pass claims due mail (leased, so several daemons never send one message at once) just
/// before sending it, keeps at most `concurrency` commands running, and records each
/// attempt: sent, or failed and retried after a backoff (`ReminderStore.recordAttempt`).
/// Passes run when the scheduler wakes the worker and every `checkInterval`, which picks up
/// retries whose backoff has passed and mail whose lease another daemon let run out.
public final class MailDelivery: Sendable {
    /// What this daemon's worker has done since it started.
    public struct Totals: Sendable, Equatable {
        public var delivered = 0
        public var failed = 0
    }

    /// The backlog as the health check sees it.
    struct Backlog: Sendable, Equatable {
        /// Reminders whose mail is still to go, by any daemon, when last counted.
        var waiting = 0
        /// Why the last attempt failed, when it did.
        var lastFailure: String?
    }

    private let store: ReminderStore
    private let settings: @Sendable () -> MailSettings?
    private let clock: @Sendable () -> Date
    private let logger: Logger
    private let checkInterval: Duration
    private let wakes: AsyncStream<Void>
    private let doorbell: AsyncStream<Void>.Continuation
    private let counted = Mutex(Totals())
    private let backlogState = Mutex(Backlog())
    private let metrics: DaemonMetrics

    /// - Parameter settings: read at each pass, so a reload applies to the next one.
    public init(pool: PGPool, settings: @escaping @Sendable () -> MailSettings?, clock: @escaping @Sendable () -> Date,
                logger: Logger, checkInterval: Duration = .seconds(15), metrics: DaemonMetrics = DaemonMetrics()) {
        self.metrics = metrics
        self.store = ReminderStore(pool: pool)
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.checkInterval = checkInterval
        (wakes, doorbell) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a pass as soon as the one running, if any, is over.
    public func wake() { doorbell.yield() }

    public var totals: Totals { counted.withLock { $0 } }

    var backlog: Backlog { backlogState.withLock { $0 } }

    /// The mail still to go as just counted (by the scheduler, or after a pass).
    func noteWaiting(_ waiting: Int) { backlogState.withLock { $0.waiting = waiting } }

    /// Delivers until cancelled (called once). On cancellation no more mail is claimed; the
    /// commands running are waited for, each at most its timeout, and their outcome recorded,
    /// so a message sent is not sent again.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { [doorbell, checkInterval] in
                while !Task.isCancelled {
                    doorbell.yield()
                    try? await Task.sleep(for: checkInterval)
                }
            }
            for await _ in wakes {
                guard !Task.isCancelled else { break }
                await deliverDue()
            }
            group.cancelAll()
        }
    }

    /// One pass: every mail due now, each claimed just before its command starts.
    func deliverDue() async {
        guard let mail = settings() else { return }
        // Leases outlast the command's timeout, so no other daemon sends the same mail meanwhile.
        let lease = mail.timeout + .seconds(60)
        let started = ContinuousClock.now
        let pass = await withTaskGroup(of: Bool.self, returning: Totals.self) { group in
            var pass = Totals(), running = 0, more = true
            while true {
                if more, running < mail.concurrency, !Task.isCancelled {
                    let wanted = mail.concurrency - running
                    do {
                        let batch = try await store.claimMail(now: clock(), lease: lease, limit: wanted)
                        // Fewer than asked for: nothing else was due. Mail due later wakes another pass.
                        more = batch.count == wanted
                        for message in batch {
                            group.addTask { await self.send(message, mail) }
                        }
                        running += batch.count
                    } catch {
                        logger.warning("mail not claimed; the next check tries again", metadata: ["error": "\(error)"])
                        more = false
                    }
                }
                guard running > 0, let delivered = await group.next() else { break }
                running -= 1
                if delivered { pass.delivered += 1 } else { pass.failed += 1 }
            }
            return pass
        }
        if pass != Totals() {
            if let waiting = try? await store.mailWaiting() { noteWaiting(waiting) }
            logger.info("mail pass", metadata: ["delivered": "\(pass.delivered)", "failed": "\(pass.failed)",
                                                "concurrency": "\(mail.concurrency)", "elapsed": "\(ContinuousClock.now - started)"])
        }
    }

    /// Sends one message and records the attempt; true when the command took it.
    private func send(_ message: ReminderStore.Mail, _ mail: MailSettings) async -> Bool {
        let failure = await MailCommand.send(Self.compose(message), command: mail.command, timeout: mail.timeout)
        counted.withLock { totals in
            if failure == nil { totals.delivered += 1 } else { totals.failed += 1 }
        }
        backlogState.withLock { $0.lastFailure = failure }
        metrics.mailAttempted(delivered: failure == nil)
        let metadata: Logger.Metadata = ["reminder": "\(message.id)", "to": "\(message.to)", "attempt": "\(message.attempts + 1)"]
        if let failure {
            logger.warning("mail not delivered; will retry", metadata: metadata.merging(["error": "\(failure)"]) { $1 })
        } else {
            logger.info("mail delivered", metadata: metadata)
        }
        // A delivery not recorded would be sent again once its lease ends: worth a few tries
        // over a database that is briefly away (all within the lease's 60 s beyond the timeout).
        var pause = Duration.milliseconds(500)
        for attempt in 1... {
            do {
                try await store.recordAttempt(message.id, error: failure, now: clock())
                break
            } catch {
                guard failure == nil, attempt < 6, (try? await Task.sleep(for: pause)) != nil else {
                    logger.error("mail attempt not recorded; it is tried again when its lease ends", metadata: metadata.merging([
                        "delivered": "\(failure == nil)", "error": "\(error)"]) { $1 })
                    break
                }
                pause *= 2
            }
        }
        return failure == nil
    }

    static func compose(_ mail: ReminderStore.Mail) -> String {
        MailMessage.compose(to: mail.to, subject: "[bbcs] " + mail.title, body: """
            \(mail.body)

            -- 
            bbcs reminder \(mail.id); acknowledge it with: bbcsctl reminders ack \(mail.id)
            """)
    }
}
