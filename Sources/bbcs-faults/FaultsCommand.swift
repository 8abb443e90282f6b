// `bbcs-faults`: the fault suite. Each scenario runs the real bbcsd over a private PostgreSQL
// cluster under writers correcting figures through the socket, applies one fault, and checks
// every reply against the database. Prints one Markdown table row per scenario.
import ArgumentParser
import BBCSFaults
import Foundation

@main
struct FaultsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bbcs-faults",
        abstract: "Apply faults to bbcsd and PostgreSQL under load and check every reply against the database.",
        discussion: """
            Scenarios:
            \(FaultScenario.allCases.map { "  \($0.rawValue): \($0.summary)" }.joined(separator: "\n"))

            A write acknowledged must be stored exactly once, as the revision its reply named; a write refused \
            (conflict, timeout, unavailable without outcome "unknown", ...) must not be stored; outcome unknown, \
            internal and no reply may be either and are counted. A scenario also fails if its fault was not \
            applied, if fewer writes than writers were acknowledged, or if no write after the fault was; held-lock \
            and frozen-primary fail when any reply outlasts the request deadline by more than 3 s, or a read is \
            not answered with a result.

            Exit status 0 when every scenario run passes, 1 when one fails, 2 when the cluster could not start, 64 for wrong options. \
            Run it as root (PostgreSQL runs as the postgres account) or as an ordinary user, from a build of the checkout.
            """)

    @Option(name: .customLong("scenario"), parsing: .upToNextOption,
            help: ArgumentHelp("Scenarios to run, by name (several may follow the flag).", valueName: "name"))
    var scenarios: [String] = []

    @Flag(help: "Run every scenario.")
    var all = false

    @Flag(help: "CI lengths: 6 s of load, a 3 s outage, a 3 s request deadline (flags given still win).")
    var short = false

    @Option(help: "Seconds of load around each fault: a third before it, the rest after it ends (default 30; 6 with --short).")
    var seconds: Int?

    @Option(help: "Concurrent writers, each correcting a figure of its own (default 32).")
    var writers: Int?

    @Option(help: "Concurrent readers asking for objective.list and system.hello (default 2).")
    var readers: Int?

    @Option(help: "Seconds PostgreSQL is stopped, or backends are terminated; held-lock and frozen-primary last at least this long (default 10; 3 with --short).")
    var outage: Int?

    @Option(name: .customLong("request-timeout"),
            help: "The daemon's request_timeout in seconds, passed as BBCS_REQUEST_TIMEOUT; held-lock and frozen-primary last 6 s past it (default 15; 3 with --short).")
    var requestTimeout: Int?

    @Option(name: .customLong("reply-timeout"), help: "Seconds a writer waits for a reply before it counts the write as unanswered (default 120).")
    var replyTimeout: Int?

    @Flag(help: "Keep the cluster's folder, with PostgreSQL's and each daemon's log, and print where it is.")
    var keep = false

    func validate() throws {
        if !all && scenarios.isEmpty { throw ValidationError("name a --scenario or give --all") }
        for name in scenarios where FaultScenario(rawValue: name) == nil {
            throw ValidationError("no scenario \"\(name)\"; the scenarios are \(FaultScenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for (flag, value, range) in [("--seconds", seconds, 1...3600), ("--writers", writers, 1...256), ("--readers", readers, 0...64),
                                     ("--outage", outage, 1...600), ("--request-timeout", requestTimeout, 1...600),
                                     ("--reply-timeout", replyTimeout, 1...3600)] {
            if let value, !range.contains(value) {
                throw ValidationError("\(flag) takes a whole number from \(range.lowerBound) to \(range.upperBound), not \(value)")
            }
        }
    }

    func run() throws {
        var settings = short ? FaultSettings.short : FaultSettings()
        if let seconds { settings.seconds = seconds }
        if let writers { settings.writers = writers }
        if let readers { settings.readers = readers }
        if let outage { settings.outage = outage }
        if let requestTimeout { settings.requestTimeout = requestTimeout }
        if let replyTimeout { settings.replyTimeout = replyTimeout }
        let chosen = all ? FaultScenario.allCases : scenarios.compactMap(FaultScenario.init(rawValue:))

        let rig: FaultRig
        do {
            rig = try FaultRig(maxConnections: max(100, settings.writers + settings.readers + 64))
        } catch {
            say("cannot start the PostgreSQL cluster: \(error)")
            throw ExitCode(2)
        }
        defer {
            rig.remove(keep: keep)
            if keep { say("kept \(rig.work.path)") }
        }
        let runner = FaultRunner(rig: rig, settings: settings, say: say)
        out("bbcs-faults, \(ISO8601DateFormatter().string(from: Date())): \(ProcessInfo.processInfo.activeProcessorCount) cores, "
              + "\(settings.writers) writers, \(settings.readers) readers, \(settings.seconds) s of load, \(settings.outage) s outage, "
              + "request_timeout \(settings.requestTimeout) s\n")
        out(ScenarioResult.header)
        var failed = false
        for scenario in chosen {
            do {
                let result = try runner.run(scenario)
                out(result.row)
                say("\(scenario.rawValue): \(result.evidence); " + (result.passed ? "pass" : "FAIL: " + result.problems.joined(separator: "; ")))
                failed = failed || !result.passed
            } catch {
                say("\(scenario.rawValue): could not run: \(error)")
                out("| \(scenario.rawValue) | could not run: \(error) |")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

/// A line on standard output at once (unbuffered), so each row shows as its scenario ends.
func out(_ text: String) { FileHandle.standardOutput.write(Data("\(text)\n".utf8)) }

func say(_ text: String) { FileHandle.standardError.write(Data("faults: \(text)\n".utf8)) }
