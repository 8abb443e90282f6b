import BBCSCore
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// The real bbcsctl: tables for people, JSON for scripts, distinct exit codes.
@Suite("bbcsctl")
struct ClientCommandTests {
    static let daemon = try! TestDaemon()

    @Test func noDaemonIsOneClearSentenceAndExit69() throws {
        let missing = "/tmp/bbcs-no-such-daemon.sock"
        let result = try runProgram(binDirectory.appendingPathComponent("bbcsctl").path, ["--socket", missing, "tasks"])
        #expect(result.status == 69)
        #expect(result.err.contains(missing))
        #expect(result.err.split(separator: "\n").count == 1)
        #expect(result.out.isEmpty)
    }

    /// A reply the client cannot read (another version's daemon) is one sentence naming the field, not a decoding dump.
    @Test func unreadableReplyIsOneSentence() throws {
        let socket = "/tmp/bbcs-odd-daemon-\(getpid()).sock"
        unlink(socket)
        defer { unlink(socket) }
        // A daemon of sorts: answers each request with a result lacking every field.
        let server = """
            import json, os, socket, sys
            s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1] + ".new"); s.listen(1)
            os.rename(sys.argv[1] + ".new", sys.argv[1])  # there only once it listens
            c, _ = s.accept(); f = c.makefile("rwb")
            for line in f:
                f.write(json.dumps({"id": json.loads(line)["id"], "result": {"odd": True}}).encode() + b"\\n"); f.flush()
            """
        let fake = try ChildProcess("/usr/bin/python3", ["-c", server, socket], logPath: socket + ".log")
        defer { _ = fake.stop(SIGKILL); unlink(socket + ".log") }
        for _ in 0..<200 where access(socket, F_OK) != 0 { usleep(50_000) }
        let result = try runProgram(binDirectory.appendingPathComponent("bbcsctl").path, ["--socket", socket, "whoami"])
        #expect(result.status != 0)
        #expect(result.err.split(separator: "\n").count == 1, "\(result.err)")
        #expect(result.err.contains("the reply's result."), "\(result.err)")
        #expect(!result.err.contains("CodingKeys"), "\(result.err)")
    }

    @Test func socketComesFromTheEnvironment() throws {
        let result = try runProgram(binDirectory.appendingPathComponent("bbcsctl").path, ["whoami"],
                                    environment: ["BBCS_SOCKET": Self.daemon.socketPath])
        #expect(result.status == 0)
        let name = String(cString: getpwuid(getuid())!.pointee.pw_name)
        #expect(result.out.hasPrefix("\(name) (uid \(getuid())"))
    }

    @Test func exitCodes() throws {
        #expect(try Self.daemon.ctl(["indicator", "show", "ComS_999"]).status == 3)
        #expect(try Self.daemon.ctl(["tasks", "--status", "sleeping"]).status == 64)
        #expect(try Self.daemon.ctl(["no-such-command"]).status == 64)
        #expect(try Self.daemon.ctl(["plan", "import", "/nonexistent/plan.json"]).status == 64)
    }

    @Test func indicatorShowPrintsTheDocumentsFigures() throws {
        let result = try Self.daemon.ctl(["indicator", "show", "ComS_001"])
        #expect(result.status == 0)
        let want = try #require(shippedPlan.indicators.first { $0.code == "ComS_001" })
        #expect(result.out.contains(want.title))
        for (period, value) in want.actuals.compactMapValues({ $0 }) {
            #expect(result.out.contains("\(period) \(Int(value))"), "\(period)")
        }
    }

    @Test func jsonPrintsTheResultForScripts() throws {
        let result = try Self.daemon.ctl(["--json", "tasks"])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
        let tasks = try #require(object?["tasks"] as? [[String: Any]])
        #expect(tasks.count == shippedPlan.tasks.count)
        #expect(tasks.first?["code"] as? String == shippedPlan.tasks.first?.code)
    }

    @Test(arguments: [["whoami"], ["plan", "show"], ["objectives"], ["indicators"], ["indicator", "show", "ComS_012"], ["tasks"],
                      ["task", "show", "BCRPASB_27"], ["strategies"], ["risks"], ["posts"], ["post", "list"],
                      ["figure", "history", "ComS_011"], ["due", "--all"], ["target", "history", "ComS_011"], ["user", "list"],
                      ["post", "holders", "admin"], ["audit"], ["tasks", "--overdue"], ["tasks", "--due-within", "400"],
                      ["task", "history", "BCRPASB_27"], ["reminders", "--all"], ["scheduler", "run"],
                      ["report", "--period", "2025/26 Q2"]])
    func everyCommandRunsAndHasHelp(_ arguments: [String]) throws {
        let result = try Self.daemon.ctl(arguments)
        #expect(result.status == 0, "\(arguments): \(result.err)")
        #expect(!result.out.isEmpty)
        let command = arguments.prefix { !$0.hasPrefix("Com") && !$0.hasPrefix("BCRP") }
        let help = try Self.daemon.ctl(Array(command) + ["--help"])
        #expect(help.status == 0)
        #expect(help.out.contains("USAGE"))
    }

    /// The README's protocol table is written by hand: it must name every method the daemon has.
    @Test func readmeListsEveryMethod() throws {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        for method in try Self.daemon.client().call(DescribeRequest()).methods {
            #expect(readme.contains("| `\(method.name)` |"), "\(method.name) is missing from README.md")
            #expect(readme.contains("| \(method.access.rawValue) | \(method.summary) |"), "\(method.name)'s row is out of date")
        }
    }

    @Test func importPrintsWhatChanged() throws {
        let result = try Self.daemon.ctl(["plan", "import", shippedPlanURL.path])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("nothing changed"))
        #expect(result.err.contains("importing"))
    }

    /// A reader that stops early: each listing (JSON, a report, a table) is longer than a pipe
    /// holds (64 KiB) plus what `head` reads at once (8 KiB), so bbcsctl is still writing when
    /// the pipe closes.
    @Test(arguments: [["--json", "audit", "--limit", "1000"], ["report", "--period", "2025/26 Q2", "--format", "html"],
                      ["audit", "--limit", "1000"]])
    func aClosedPipeEndsTheListingQuietly(_ arguments: [String]) throws {
        let ctl = binDirectory.appendingPathComponent("bbcsctl").path
        let whole = try Self.daemon.ctl(arguments)
        try #require(whole.status == 0 && whole.out.utf8.count > 80_000, "\(arguments) prints \(whole.out.utf8.count) bytes")
        let result = try runProgram("/bin/bash", ["-c", "set -o pipefail; \"$@\" | head -1", "bash", ctl, "--socket", Self.daemon.socketPath]
                                        + arguments)
        #expect(result.status == 0, "\(arguments): \(result.status)")
        #expect(result.err.isEmpty, "\(arguments): \(result.err)")
        #expect(result.out == String(whole.out.prefix { $0 != "\n" }) + "\n")
    }

    /// A refusal is one line on stderr, even when the daemon's message quotes a line break typed by the caller.
    @Test func aRefusalIsOneLine() throws {
        let result = try Self.daemon.ctl(["indicator", "show", "ComS_999\nrm -rf ~"])
        #expect(result.status == 64)
        #expect(result.err.contains("U+000A"), "\(result.err)")
        #expect(result.out.isEmpty)
        #expect(result.err.hasPrefix("bbcsctl: ") && result.err.hasSuffix("\n"), "\(result.err)")
        #expect(result.err.split(separator: "\n").count == 1, "\(result.err)")
        let json = try Self.daemon.ctl(["--json", "indicator", "show", "ComS_999\nrm -rf ~"])
        #expect(json.status == 64)
        #expect(json.err.split(separator: "\n").count == 1, "\(json.err)")
    }

    /// A file bbcsctl cannot read or write is named with the system's reason, in one sentence.
    @Test func aFileThatFailsIsOneSentence() throws {
        let read = try Self.daemon.ctl(["plan", "import", "/nonexistent/plan.json"])
        #expect(read.status == 64)
        #expect(read.err == "bbcsctl: cannot read /nonexistent/plan.json: No such file or directory\n")
        let written = try Self.daemon.ctl(["report", "--period", "2025/26 Q2", "-o", "/nonexistent/q2.txt"])
        #expect(written.status == 64)
        #expect(written.err == "bbcsctl: cannot write /nonexistent/q2.txt: No such file or directory\n")
    }

    /// The daemon names the method to call; the client writes the command line for people.
    @Test func aRefusalSaysWhichCommandToRun() throws {
        let first = try Self.daemon.ctl(["figure", "submit", "ComS_013", "2025/26 Q1", "20"])
        #expect(first.status == 0, "\(first.err)")
        let again = try Self.daemon.ctl(["figure", "submit", "ComS_013", "2025/26 Q1", "21"])
        #expect(again.status == 4)
        #expect(again.err.contains("\n  run: bbcsctl figure correct ComS_013 \"2025/26 Q1\" VALUE --reason TEXT\n"), "\(again.err)")
        let json = try Self.daemon.ctl(["--json", "figure", "submit", "ComS_013", "2025/26 Q1", "21"])
        #expect(json.err.contains("\"hint\":\"figure.correct\"") && !json.err.contains("run: bbcsctl"), "\(json.err)")
    }
}
