@testable import BBCSServer
import BBCSTestSupport
import Foundation
import Testing

/// The mail command as the delivery worker runs it: its verdict decides whether a reminder's mail
/// is recorded as sent or retried. Run through `blocking`, so the timings measured are the
/// command's, not a wait for a thread of the pool the other tests hold.
@Suite("mail command")
struct MailCommandTests {
    init() {
        // As in bbcsd: a command that exits before reading its message must not kill us.
        signal(SIGPIPE, SIG_IGN)
    }

    let message = "To: someone@example.org\nSubject: [bbcs] due\n\nbody\n"

    @Test func theMessageArrivesOnStandardInput() throws {
        let dir = makeTemporaryDirectory("bbcs-mail-unit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("sent").path
        #expect(try send(message, command: "cat > '\(file)'", timeout: .seconds(10)) == nil)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == message)
    }

    @Test func aFailureReportsTheStatusAndWhatTheCommandSaid() throws {
        let error = try send(message, command: "cat >/dev/null; echo 'relay refused' >&2; exit 3", timeout: .seconds(10))
        #expect(error == "the mail command exited with status 3: relay refused")
        #expect(try send(message, command: "kill -9 $$", timeout: .seconds(10)) == "the mail command exited with status 137")
    }

    @Test func aCommandThatExitsBeforeReadingIsJudgedByItsStatus() throws {
        // Larger than a pipe's buffer, so the write fails once the command has gone.
        let long = message + String(repeating: "x", count: 1 << 20)
        #expect(try send(long, command: "exit 0", timeout: .seconds(10)) == nil)
        #expect(try send(long, command: "exit 4", timeout: .seconds(10)) == "the mail command exited with status 4")
    }

    @Test func aHangingCommandIsKilledAtItsTimeout() throws {
        let started = ContinuousClock.now
        let error = try send(message, command: "exec sleep 30", timeout: .milliseconds(300))
        #expect(error == "the mail command did not finish within 0.3 seconds and was stopped")
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    /// The timeout covers writing the message: a command that never reads a message larger
    /// than a pipe holds is stopped at it, and so is the child it started, which holds the
    /// pipe open and would otherwise run on.
    @Test func aCommandThatNeverReadsIsStoppedAtItsTimeoutWithItsChildren() throws {
        let dir = makeTemporaryDirectory("bbcs-mail-group")
        defer { try? FileManager.default.removeItem(at: dir) }
        let pidFile = dir.appendingPathComponent("child").path
        let long = message + String(repeating: "x", count: 1 << 20)
        let started = ContinuousClock.now
        let error = try send(long, command: "sh -c 'echo $$ > \(pidFile); exec sleep 60'; echo never", timeout: .seconds(1))
        print("a command that never reads 1 MiB, mail_timeout 1 s: stopped after \(ContinuousClock.now - started)")
        #expect(error == "the mail command did not finish within 1.0 seconds and was stopped")
        let child = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // Killed; it may stay a zombie for a moment until whoever inherited it reaps it.
        func runs() -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8) else { return false }
            return !stat.contains(") Z ")
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while runs() && ContinuousClock.now < deadline { usleep(20_000) }
        #expect(!runs(), "the command's child \(child) still runs")
        if runs() { kill(child, SIGKILL) }
    }

    @Test func aBackgroundChildKeepingTheOutputOpenIsNotWaitedFor() throws {
        let started = ContinuousClock.now
        #expect(try send(message, command: "cat >/dev/null; sleep 5 & exit 0", timeout: .seconds(20)) == nil)
        #expect(ContinuousClock.now - started < .seconds(4))
    }

    @Test func aMissingShellCommandIsAFailure() throws {
        let error = try send(message, command: "/nonexistent/sendmail -t", timeout: .seconds(10))
        #expect(error?.hasPrefix("the mail command exited with status 127: ") == true)
    }
}

/// The mail command's verdict, waited for from a synchronous test.
private func send(_ message: String, command: String, timeout: Duration) throws -> String? {
    try blocking { await MailCommand.send(message, command: command, timeout: timeout) }
}
