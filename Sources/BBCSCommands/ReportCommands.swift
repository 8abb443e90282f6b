import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The performance report for a period, for GMT and Cabinet: text, markdown, html, csv or json.",
        discussion: """
            The daemon computes the report from live data; this command only lays it out. HTML is one
            self-contained file with a chart per indicator, made to read on screen and print on A4.
            JSON and CSV carry the same data (the README documents the JSON shape).
            """)
    @OptionGroup var connection: Connection
    @Option(help: ArgumentHelp("Period, e.g. \"2025/26 Q2\" or \"2025/26\".", valueName: "period")) var period: Period
    @Option(help: ArgumentHelp("Only this objective, e.g. CS1.", valueName: "code")) var objective: String?
    @Option(help: ArgumentHelp("text, markdown, html, csv or json.", valueName: "format")) var format: ReportFormat = .text
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var output: String?

    func run() throws {
        let report = try connection.session { try $0.call(ReportRequest(period: period, objective: objective)) }
        let text = format.render(report)
        guard let output else { return writeOutput(text) }
        do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch {
            writeError("bbcsctl: cannot write \(output): \(writeFailure(output))\n")
            throw ExitCode(Exit.usage)
        }
        writeError("wrote \(output) (\(format.rawValue), \(text.utf8.count) bytes, \(report.summary.indicators) indicators)\n")
    }
}
