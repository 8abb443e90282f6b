import ArgumentParser
import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print changes as they happen on any daemon, one line each, until interrupted.",
        discussion: """
            Shows figures submitted, corrected and validated, targets set, tasks updated and rescheduled,
            and reminders created (yours; administrators see everyone's). --kinds takes a comma-separated
            list of: \(WatchKind.allCases.map(\.rawValue).joined(separator: ", ")).
            --objective and --owner keep changes to that objective's, or that post's, indicators and tasks
            (reminders are about neither, so they pass neither). With --json each line is the event object.
            The command runs until interrupted; if the daemon stops or drops a watcher that reads too slowly,
            it says so and exits 75 (69 when the daemon vanished without a word).
            """)

    @OptionGroup var connection: Connection
    @Option(help: ArgumentHelp("Only this objective's indicators and tasks, e.g. CS1.", valueName: "code")) var objective: String?
    @Option(help: ArgumentHelp("Only the indicators and tasks of this post (a name or alias).", valueName: "post")) var owner: String?
    @Option(help: ArgumentHelp("Only these kinds, comma-separated, e.g. figure_corrected,task_rescheduled.", valueName: "kinds"))
    var kinds: String?

    func run() throws {
        let kinds = self.kinds.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        try connection.session { client in
            let subscribed = try client.call(WatchSubscribeRequest(objective: objective, owner: owner, kinds: kinds))
            var about = subscribed.kinds.count == WatchKind.allCases.count ? "every change" : subscribed.kinds.joined(separator: ", ")
            if let objective = subscribed.objective { about += " of \(objective)" }
            if let owner = subscribed.owner { about += " owned by \(owner)" }
            writeError(printable("watching \(about); interrupt to stop\n"))
            while true {
                let line: Data
                do { line = try client.readLine() } catch {
                    writeError("bbcsctl: bbcsd closed the connection; the watch has ended\n")
                    throw ExitCode(Exit.cannotConnect)
                }
                try show(line)
            }
        }
    }

    /// Prints one event line; a closing line is thrown as the daemon's error.
    private func show(_ line: Data) throws {
        let decoded: EventLine
        do { decoded = try WireCoding.decoder().decode(EventLine.self, from: line) } catch {
            throw ClientError.protocolFailure(Client.sentence(error))
        }
        if let error = decoded.error { throw ClientError.server(error) }
        guard let event = decoded.event else { throw ClientError.protocolFailure("an event line with neither event nor error") }
        if connection.json {
            // The event as the daemon sent it, keys and all, on one line.
            let object = (try? JSONSerialization.jsonObject(with: line) as? [String: Any])?["event"] ?? [:]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            writeOutput(String(decoding: data, as: UTF8.self) + "\n")
        } else {
            print(printable(WatchLine.text(event), lineBreaks: false))
        }
    }
}

/// An event as one line for people:
/// "09:30:02 figure corrected ComS_011 2025/26 Q1 r3: 120 → 118 by alice (reason)".
enum WatchLine {
    static func text(_ event: WatchEvent) -> String {
        let detail: [String: JSONValue]
        if case .object(let object)? = event.detail { detail = object } else { detail = [:] }
        func text(_ key: String) -> String {
            switch detail[key] {
            case .string(let text)?: return text
            case .number(let number)?: return FigureRules.format(number)
            case .bool(let flag)?: return flag ? "yes" : "no"
            default: return "?"
            }
        }
        let time = event.at.split(separator: "T").last.map(String.init) ?? event.at
        let by = " by \(event.login ?? "?")"
        var line = "\(time) \(event.kind.replacingOccurrences(of: "_", with: " ")) "
        switch WatchKind(rawValue: event.kind) {
        case .figureSubmitted?, .figureValidated?:
            line += "\(text("indicator")) \(text("period")) r\(text("revision")): \(text("value"))" + by
            if case .bool(true)? = detail["late"], event.kind == WatchKind.figureSubmitted.rawValue { line += " (late)" }
        case .figureCorrected?:
            let previous = detail["previousValue"] == nil ? "" : "\(text("previousValue")) → "
            line += "\(text("indicator")) \(text("period")) r\(text("revision")): \(previous)\(text("value"))" + by
            if case .string(let reason)? = detail["reason"] { line += " (\(reason))" }
        case .targetSet?:
            line += "\(text("indicator")) \(text("period")): \(text("value"))"
            if detail["tolerance"] != nil, detail["tolerance"] != JSONValue.null { line += " (tolerance \(text("tolerance")))" }
            line += by
        case .taskUpdated?:
            line += "\(text("task")): \(text("status").replacingOccurrences(of: "_", with: " ")), \(text("progress"))%" + by
        case .taskRescheduled?:
            let date = detail["targetDate"] == JSONValue.null ? "no date" : text("targetDate")
            line += "\(text("task")): \(text("oldDate")) → \(date)" + by
        case .reminderCreated?:
            line = "\(time) reminder \(text("reminderKind").replacingOccurrences(of: "_", with: " ")) \(text("subject")) for \(text("recipient")), due \(text("dueDate"))"
        case nil:
            line += by.dropFirst()
        }
        return line
    }
}
