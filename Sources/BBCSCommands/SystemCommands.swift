import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct WhoAmI: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Show who the daemon takes you to be, and your posts.")
    @OptionGroup var connection: Connection

    func run() throws {
        try connection.run(HelloRequest()) { hello in
            let id = hello.identity
            print("\(id.user) (uid \(id.uid), gid \(id.gid), pid \(id.pid))")
            print("posts: \(hello.posts.isEmpty ? "none" : hello.posts.joined(separator: ", "))")
            print("server: \(hello.server) \(hello.version), protocol \(hello.protocolVersion)")
        }
    }
}

struct Health: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Say whether the daemon is ok, degraded or failing, and why.",
        discussion: """
            Prints "ok", or the status with one reason per line: the database unreachable
            since when, the pool exhausted or wedged, the scheduler late, a mail backlog.
            Exit status, as a monitoring check reads it: 0 ok, 1 degraded, 2 failing (a
            daemon that cannot be reached is failing too).
            """)
    @OptionGroup var connection: Connection

    func run() throws {
        let status: HealthStatus
        do {
            status = try connection.session { client -> HealthStatus in
                let health = try client.call(HealthRequest())
                if connection.json {
                    printJSON(["status": health.status.rawValue, "reasons": health.reasons, "line": health.line])
                } else {
                    writeOutput(printable(([health.status.rawValue] + health.reasons.map { "  " + $0 }).joined(separator: "\n") + "\n"))
                }
                return health.status
            }
        } catch let exit as ExitCode where exit.rawValue == Exit.cannotConnect {
            // Told why on standard error already; to a monitoring check, a daemon that does not answer is failing.
            writeOutput("failing\n")
            throw ExitCode(Int32(HealthStatus.failing.level))
        }
        if status != .ok { throw ExitCode(Int32(status.level)) }
    }
}

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the daemon's metrics in the Prometheus text format (administrators).",
        discussion: """
            The same text the daemon writes to metrics_textfile for node_exporter's textfile
            collector; the README lists every metric and what it means.
            """)
    @OptionGroup var connection: Connection

    func run() throws {
        try connection.run(MetricsRequest()) { metrics in writeOutput(metrics.text) }
    }
}
