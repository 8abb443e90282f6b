import ArgumentParser
import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

/// Options every command takes.
struct Connection: ParsableArguments {
    @Option(help: ArgumentHelp("The daemon's socket (default: $BBCS_SOCKET, else /run/bbcs/bbcsd.sock).", valueName: "path"))
    var socket: String?

    @Flag(help: "Print the reply's result as JSON, for scripts (a refusal goes to stderr as {\"error\": {...}}).")
    var json = false

    /// Sends `request`; prints the raw result under --json, else hands the typed result to `render`.
    func run<R: RequestType>(_ request: R, render: (R.Response) -> Void) throws {
        try session { client in
            if json {
                printJSON(try client.callRaw(request))
            } else {
                render(try client.call(request))
            }
        }
    }

    /// Runs `body` with a connected client; a failure is printed and becomes the exit status.
    func session<T>(_ body: (Client) throws -> T) throws -> T {
        do {
            return try body(try Client(socketPath: socket ?? Client.defaultSocketPath))
        } catch let error as ClientError {
            if json, case .server(let wire) = error, let line = try? WireCoding.encoder().encode(["error": wire]) {
                writeError(String(decoding: line, as: UTF8.self) + "\n")
            } else {
                // One sentence, even when the message quotes a value with a line break in it.
                var text = "bbcsctl: " + "\(error)".replacingOccurrences(of: "\n", with: "\u{FFFD}") + "\n"
                if case .server(let wire) = error, let hint = HintCommand.line(for: wire) { text += "  \(hint)\n" }
                writeError(printable(text))
            }
            throw ExitCode(Exit.status(for: error))
        }
    }
}

func printJSON(_ value: Any) {
    let options: JSONSerialization.WritingOptions = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]
    if let data = try? JSONSerialization.data(withJSONObject: value, options: options) {
        writeOutput(String(decoding: data, as: UTF8.self) + "\n")
    }
}

/// The plan a command is about, where the database holds several.
struct PlanOption: ParsableArguments {
    @Option(help: ArgumentHelp("The plan's code, where the database holds several (default: default_plan, or the only plan).",
                               valueName: "code"))
    var plan: String?

    /// `request` about this plan.
    func scoped<R: PlanScoped>(_ request: R) -> R {
        var request = request
        request.plan = plan
        return request
    }
}
