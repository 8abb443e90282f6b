import BBCSCore
import BBCSPostgres
import Foundation
import Logging

/// How reminders are mailed: a shell command reading one message (headers, blank line,
/// body) on standard input, e.g. `/usr/sbin/sendmail -t -i`.
public struct MailSettings: Sendable, Equatable {
    public var command: String
    public var timeout: Duration
    public init(command: String, timeout: Duration) { self.command = command; self.timeout = timeout }
}

/// The reminder scheduler: on a timer and on demand, records the reminders due today
/// (exactly once each, whatever runs it how often) and sends pending mail.
public struct Scheduler: Sendable {
    let store: ReminderStore
    let settings: @Sendable () -> (reminders: ReminderSettings, mail: MailSettings?)
    let clock: @Sendable () -> Date
    let logger: Logger

    public init(pool: PGPool, settings: @escaping @Sendable () -> (reminders: ReminderSettings, mail: MailSettings?),
                clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.store = ReminderStore(pool: pool)
        self.settings = settings
        self.clock = clock
        self.logger = logger
    }

    public struct Outcome: Sendable {
        public var day: CalendarDate
        public var created: Int
        public var mailed: Int
        public var mailFailed: Int
    }

    /// One run, as `principal` (the daemon itself on the timer, an administrator on demand).
    public func run(as principal: Principal) async throws -> Outcome {
        let (reminders, mail) = settings()
        let actor = Actor(principal: principal, method: "scheduler.run", access: .admin, at: clock())
        let created = try await store.generate(settings: reminders, mail: mail != nil, by: actor)
        var mailed = 0, failed = 0
        if let mail {
            // Leases outlast the command's timeout, so no other daemon sends the same mail meanwhile.
            let lease = mail.timeout + .seconds(60)
            // On shutdown, mail not yet sent waits for the next start: its lease runs out by then.
            while !Task.isCancelled {
                let batch = try await store.claimMail(now: clock(), lease: lease)
                if batch.isEmpty { break }
                for message in batch where !Task.isCancelled {
                    let error = await MailCommand.send(Self.compose(message), command: mail.command, timeout: mail.timeout)
                    try await store.recordAttempt(message.id, error: error, now: clock())
                    if let error {
                        failed += 1
                        logger.warning("mail not delivered; will retry", metadata: [
                            "reminder": "\(message.id)", "to": "\(message.to)", "attempt": "\(message.attempts + 1)", "error": "\(error)"])
                    } else {
                        mailed += 1
                        logger.info("mail delivered", metadata: ["reminder": "\(message.id)", "to": "\(message.to)",
                                                                 "attempt": "\(message.attempts + 1)"])
                    }
                }
                // A failure waits for its backoff: nothing failed in this run is claimed again in it.
            }
        }
        logger.log(level: created > 0 || mailed > 0 || failed > 0 ? .info : .debug, "scheduler ran", metadata: [
            "day": "\(actor.today)", "created": "\(created)", "mailed": "\(mailed)", "mail_failed": "\(failed)"])
        return Outcome(day: actor.today, created: created, mailed: mailed, mailFailed: failed)
    }

    /// Runs every `interval` until cancelled; a failed run is logged and the next one tries again.
    public func runPeriodically(every interval: @escaping @Sendable () -> Duration, as principal: Principal) async {
        while !Task.isCancelled {
            do { _ = try await run(as: principal) } catch is CancellationError { return } catch {
                logger.error("scheduler run failed", metadata: ["error": "\(error)"])
            }
            do { try await Task.sleep(for: interval()) } catch { return }
        }
    }

    static func compose(_ mail: ReminderStore.Mail) -> String {
        MailMessage.compose(to: mail.to, subject: "[bbcs] " + mail.title, body: """
            \(mail.body)

            -- 
            bbcs reminder \(mail.id); acknowledge it with: bbcsctl reminders ack \(mail.id)
            """)
    }
}
