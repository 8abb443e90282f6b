import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Performance reports: build one for a period, publish a round's for its meeting, show a published one.",
        subcommands: [Build.self, Publish.self, Show.self, List.self], defaultSubcommand: Build.self)
}

extension Report {
    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The performance report for a period, for GMT and Cabinet: text, markdown, html, csv or json.",
            discussion: """
                The daemon computes the report from live data; this command only lays it out. HTML is one
                self-contained file with a chart per indicator, made to read on screen and print on A4.
                JSON and CSV carry the same data (the README documents the JSON shape).
                """)
        @OptionGroup var connection: Connection
        @OptionGroup var plan: PlanOption
        @Flag(help: "The council-wide summary across every plan, by Corporate Plan priority (text or json).") var corporate = false
        @Option(help: ArgumentHelp("Period, e.g. \"2025/26 Q2\" or \"2025/26\".", valueName: "period")) var period: Period
        @Option(help: ArgumentHelp("Only this objective, e.g. CS1.", valueName: "code")) var objective: String?
        @Option(help: ArgumentHelp("text, markdown, html, csv or json.", valueName: "format")) var format: ReportFormat = .text
        @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var output: String?

        func run() throws {
            if corporate { return try runCorporate() }
            let report = try connection.session { try $0.call(plan.scoped(ReportRequest(period: period, objective: objective))) }
            try writeFile(format.render(report), to: output, what: "\(format.rawValue), \(report.summary.indicators) indicators")
        }
    }

    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Freeze a round's report for its meeting under a citable number (administrators).",
            discussion: """
                The daemon builds the report of the round's period, renders its HTML and keeps both byte for byte with their \
                SHA-256; `report show NUMBER` gives the same bytes back whatever is corrected later. Corrections of figures it \
                showed are listed as restatements in the next report.
                """)
        @OptionGroup var connection: Connection
        @OptionGroup var plan: PlanOption
        @Option(help: ArgumentHelp("The round's period, e.g. \"2025/26 Q2\".", valueName: "period")) var round: Period

        func run() throws {
            try connection.run(plan.scoped(ReportPublishRequest(round: round))) { p in
                print("published \(p.number) for \(p.meeting) by \(p.publishedBy) at \(p.publishedAt): \(p.figures.count) figures")
                print("  JSON SHA-256 \(p.jsonSHA256)\n  HTML SHA-256 \(p.htmlSHA256)")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A published report exactly as it was frozen (html or json), or the restatements of its figures since.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("The report's number, e.g. CS-2025/26-Q2-1.", valueName: "number")) var number: String
        @Option(help: ArgumentHelp("html or json: the document as published.", valueName: "format")) var format: ReportFormat = .html
        @Flag(help: "List the corrections made since to figures the report showed, instead of the report.") var restatements = false
        @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var output: String?

        func validate() throws {
            guard restatements || format == .html || format == .json else {
                throw ValidationError("a published report is kept as html and json; --format \(format.rawValue) would be a new rendering")
            }
        }

        func run() throws {
            // --json: the whole reply (publication, both documents, restatements) as the daemon sent it.
            if connection.json { return try connection.run(ReportShowRequest(number: number)) { _ in } }
            let r = try connection.session { try $0.call(ReportShowRequest(number: number)) }
            let p = r.publication
            guard restatements else {
                return try writeFile(format == .json ? r.json : r.html, to: output, what: "\(p.number), \(format.rawValue) as published")
            }
            guard !r.restatements.isEmpty else { return print("\(p.number): no figure it showed has been restated since") }
            var table = Table("Indicator", "Period", "Reported", "Now", "Revision", "By", "At", "Reason")
            for s in r.restatements {
                table.add(s.indicator, s.period.description, FigureRules.format(s.reportedValue), FigureRules.format(s.restatedValue),
                          "\(s.reportedRevision) → \(s.revision)", s.by, s.at, s.reason ?? "")
            }
            print("\(p.number) (\(p.meeting)): \(r.restatements.count) figures restated since\n" + table.render())
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every published report, oldest first.")
        @OptionGroup var connection: Connection
        @OptionGroup var plan: PlanOption

        func run() throws {
            try connection.run(plan.scoped(ReportListRequest())) { r in
                guard !r.reports.isEmpty else { return print("no report has been published") }
                var table = Table("Number", "Period", "Meeting", "Published by", "At", "Figures")
                for p in r.reports { table.add(p.number, p.period.description, p.meeting, p.publishedBy, p.publishedAt, "\(p.figures.count)") }
                print(table.render())
            }
        }
    }
}

extension Report.Build {
    func runCorporate() throws {
        guard format == .text || format == .json else {
            writeError("bbcsctl: the corporate report is text or json\n")
            throw ExitCode(Exit.usage)
        }
        if format == .json || connection.json { return try connection.run(ReportCorporateRequest(period: period)) { _ in } }
        let r = try connection.session { try $0.call(ReportCorporateRequest(period: period)) }
        func tally(_ t: CorporateReport.Tally) -> [String] {
            ["\(t.indicators)"] + RAG.allCases.map { "\(t.rag[$0.rawValue] ?? 0)" } + ["\(t.notSubmitted)", "\(t.overdueTasks)"]
        }
        var text = "\(r.council): corporate performance summary, \(r.period) (as at \(r.asAt))\n\n"
        text += "Exceptions (\(r.exceptions.count))\n"
        for e in r.exceptions { text += "  [\(e.priority) / \(e.plan)] \(e.kind.rawValue.replacingOccurrences(of: "_", with: " ")): \(e.text)\n" }
        if r.exceptions.isEmpty { text += "  none\n" }
        var table = Table("Priority / plan", "Indicators", "Green", "Amber", "Red", "Grey", "Not submitted", "Overdue tasks")
        for p in r.priorities {
            table.rows.append([p.name] + tally(p.tally))
            for line in p.plans { table.rows.append(["  \(line.plan) \(line.title)"] + tally(line.tally)) }
        }
        table.rows.append(["Council"] + tally(r.totals))
        text += "\n" + table.render() + "\n"
        try writeFile(text, to: output, what: "corporate summary, \(r.priorities.count) priorities")
    }
}
