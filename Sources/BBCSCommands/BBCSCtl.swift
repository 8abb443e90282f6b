import ArgumentParser
import BBCSCore
import BBCSProtocol
import Foundation

/// The `bbcsctl` command line: every noun's commands under one root.
public struct BBCSCtl: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bbcsctl",
        abstract: "Read and manage the council business plan held by bbcsd.",
        discussion: """
            Exit status: 0 success, 3 not found, 4 conflict, 64 usage or invalid parameters,
            69 cannot connect to the daemon, 70 daemon failure, 75 database unavailable or timed out, daemon full or watch ended by it,
            76 reply not understood, 77 unauthenticated or permission denied.
            """,
        version: bbcsVersion,
        subcommands: [WhoAmI.self, PlanCommand.self, Objectives.self, Indicators.self, IndicatorCommand.self,
                      FigureCommand.self, Due.self, RoundCommand.self, TargetCommand.self,
                      Tasks.self, TaskCommand.self, Strategies.self, Risks.self, RiskCommand.self, Posts.self,
                      Reminders.self, SchedulerCommand.self, Report.self,
                      UserCommand.self, PostCommand.self, Audit.self, Watch.self, SiteCommand.self, Health.self, Metrics.self])

    public init() {}

    /// Runs the command line of this process.
    public static func main() {
        // A reader that stops early (`| head`) is a write failing with EPIPE (see `writeOutput`), not a kill.
        signal(SIGPIPE, SIG_IGN)
        main(hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
    }

    /// `bbcsctl --socket P --json tasks` is the documented form, but argument-parser only
    /// accepts a subcommand's options after its name: move the leading ones to the end.
    static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first {
            if first == "--json" {
                leading.append(first)
                rest = rest.dropFirst()
            } else if first == "--socket", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--socket=") {
                leading.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        if leading.isEmpty || rest.isEmpty { return arguments }
        if let terminator = rest.firstIndex(of: "--") {
            return Array(rest[..<terminator]) + leading + Array(rest[terminator...])
        }
        return Array(rest) + leading
    }
}
