import BBCSProcess
import Foundation

/// Runs the configured mail command once: `/bin/sh -c COMMAND` with the message on its
/// standard input, in a process group of its own. The delivery worker retries whatever this
/// reports as a failure.
enum MailCommand {
    /// nil when the command exited 0; otherwise why it failed. A command that exits before
    /// reading the message is judged by its exit status (the daemon ignores SIGPIPE); one that
    /// outlasts `timeout`, writing the message included, is killed with whatever it started,
    /// and reported. It inherits no descriptor but its standard input, output and error, and
    /// none of the daemon's settings or libpq's variables (`withheld`).
    static func send(_ message: String, command: String, timeout: Duration) async -> String? {
        var program = Program("/bin/sh", ["-c", command], ownProcessGroup: true)
        program.withheld = withheld(from: ProcessInfo.processInfo.environment)
        let outcome: Program.Outcome
        do {
            outcome = try await program.run(input: message, deadline: timeout, outputLimit: 64 * 1024)
        } catch {
            return "cannot start /bin/sh: \(error)"
        }
        if outcome.timedOut { return "the mail command did not finish within \(timeout) and was stopped" }
        if outcome.status == 0 { return nil }
        let said = outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return "the mail command exited with status \(outcome.status)" + (said.isEmpty ? "" : ": " + String(said.prefix(300)))
    }

    /// The variables a mail command does without: `BBCS_*` may hold the database's connection
    /// string, `PG*` libpq's password or password file; neither is the mail's business.
    static func withheld(from environment: [String: String]) -> [String] {
        environment.keys.filter { $0.hasPrefix("BBCS_") || $0.hasPrefix("PG") }.sorted()
    }
}
