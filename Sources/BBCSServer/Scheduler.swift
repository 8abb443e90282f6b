#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BBCSCore
import BBCSPostgres
import Foundation
import Logging

/// How reminders are mailed: a shell command reading one message (headers, blank line,
/// body) on standard input, e.g. `/usr/sbin/sendmail -t`.
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
        let actor = Actor(principal: principal, method: "scheduler.run", at: clock())
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
        """
        To: \(mail.to)
        Subject: [bbcs] \(mail.title.replacingOccurrences(of: "\n", with: " "))
        Content-Type: text/plain; charset=utf-8
        Auto-Submitted: auto-generated

        \(mail.body)

        -- 
        bbcs reminder \(mail.id); acknowledge it with: bbcsctl reminders ack \(mail.id)

        """
    }
}

/// Runs the configured mail command once, on a thread of its own (it blocks).
enum MailCommand {
    /// nil when the command exited 0; otherwise why it failed.
    static func send(_ message: String, command: String, timeout: Duration) async -> String? {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: run(message, command: command, timeout: timeout)) }.start()
        }
    }

    private static func run(_ message: String, command: String, timeout: Duration) -> String? {
        var input: [CInt] = [0, 0]
        guard pipe(&input) == 0 else { return "cannot create a pipe: \(String(cString: strerror(errno)))" }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("bbcs-mail-\(UUID().uuidString)").path
        defer { unlink(output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_addclose(&actions, input[1])
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, environ)
        close(input[0])
        guard spawned == 0 else {
            close(input[1])
            return "cannot start /bin/sh: \(String(cString: strerror(spawned)))"
        }
        // A command that stops reading early must not stop the daemon (SIGPIPE is ignored; EPIPE is fine).
        _ = message.utf8CString.withUnsafeBufferPointer { write(input[1], $0.baseAddress, $0.count - 1) }
        close(input[1])

        let deadline = ContinuousClock.now + timeout
        var status: CInt = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if ContinuousClock.now >= deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                return "the mail command did not finish within \(timeout) and was stopped"
            }
            usleep(20_000)
        }
        let exited = (status & 0x7f) == 0
        let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        if code == 0 { return nil }
        let said = ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        return "the mail command exited with status \(code)" + (said.isEmpty ? "" : ": " + String(said.prefix(300)))
    }
}
