import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

private func printFigure(_ result: FigureResult, unit percent: Bool = false) {
    let s = result.status
    guard let f = s.figure else { return }
    var line = "\(result.indicator) \(s.period): \(formatValue(f.value, percent: percent)) (revision \(f.revision)), \(s.rag.rawValue)"
    if let target = s.target { line += " against target \(formatValue(target, percent: percent))" }
    print(line)
    var details: [String] = []
    if let t = s.sincePrevious { details.append("\(t.rawValue) since the previous period") }
    if let t = s.sinceYearEarlier { details.append("\(t.rawValue) since a year earlier") }
    if f.provisional { details.append("provisional") }
    if let forecast = f.forecast {
        details.append("year-end forecast \(formatValue(forecast, percent: percent)), \(s.forecastRAG?.rawValue ?? "grey")"
                       + (s.annualTarget.map { " against the year's target \(formatValue($0, percent: percent))" } ?? ""))
    }
    if f.late { details.append("late") }
    if let by = f.validatedBy { details.append("validated by \(by)") }
    if !details.isEmpty { print("  " + details.joined(separator: "; ")) }
}

/// The period's current revision, read before a correction that names none.
private func currentRevision(_ connection: Connection, _ code: String, _ period: Period) throws -> Int {
    try connection.session { client in
        let history = try client.call(FigureHistoryRequest(code: code, period: period))
        guard let current = history.revisions.last else {
            writeError("bbcsctl: \(code) \(period) has no figure to correct; use `bbcsctl figure submit`\n")
            throw ExitCode(Exit.conflict)
        }
        return current.revision
    }
}

struct FigureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figure", abstract: "Submit, correct, validate and read an indicator's figures.",
        discussion: """
            Periods are "2025/26" for annual indicators and "2025/26 Q2" for quarterly ones (2025/26-Q2 also works).
            A figure is never overwritten: a correction is a new revision with a reason.
            """,
        subcommands: [Submit.self, Correct.self, Finalise.self, Import.self, Export.self, History.self, Validate.self])

    struct Submit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit the first figure for a period of an indicator your post owns.",
            discussion: "A note is required when the figure is red against its target. A second submission is refused: use `figure correct`.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code, e.g. ComS_011.", valueName: "code")) var code: String
        @Argument(help: ArgumentHelp("Period, e.g. \"2025/26 Q2\".", valueName: "period")) var period: Period
        @Argument(help: ArgumentHelp("The value: a whole number for counts, a number for percentages.", valueName: "value")) var value: Amount
        @Option(help: ArgumentHelp("Commentary; required when the figure is red.", valueName: "text")) var note: String?
        @Flag(help: "The figure is an estimate you will confirm (a provisional out-turn); `figure finalise` confirms it.")
        var provisional = false
        @Option(help: ArgumentHelp("Quarterly indicators: your forecast of the year-end outturn, judged against the year's target.",
                                   valueName: "value")) var forecast: Amount?

        func run() throws {
            let request = FigureSubmitRequest(code: code, period: period, value: value.value, note: note, provisional: provisional ? true : nil,
                                              forecast: forecast?.value)
            try connection.run(request) { printFigure($0) }
        }
    }

    struct Correct: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct a period's figure: a new revision with a reason; the old one stays.",
            discussion: "Corrects the current revision unless --revision names the one you read; if someone changed it since, the correction is refused.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code.", valueName: "code")) var code: String
        @Argument(help: ArgumentHelp("Period.", valueName: "period")) var period: Period
        @Argument(help: ArgumentHelp("The corrected value (default: keep it, to change only --forecast or the marks).", valueName: "value"))
        var value: Amount?
        @Option(help: ArgumentHelp("Why the figure changed (required).", valueName: "text")) var reason: String
        @Option(help: ArgumentHelp("New commentary (default: keep the previous).", valueName: "text")) var note: String?
        @Option(help: ArgumentHelp("The revision being corrected (default: the current one).", valueName: "n")) var revision: Int?
        @Option(help: ArgumentHelp("A new year-end forecast (quarterly indicators).", valueName: "value")) var forecast: Amount?
        @Flag(inversion: .prefixedNo, help: "Mark the corrected figure provisional, or --no-provisional final (default: as it was).")
        var provisional: Bool?

        func run() throws {
            let revision = try self.revision ?? currentRevision(connection, code, period)
            let request = FigureCorrectRequest(code: code, period: period, value: value?.value, reason: reason, revision: revision, note: note,
                                               provisional: provisional, forecast: forecast?.value)
            try connection.run(request) { printFigure($0) }
        }
    }

    struct Finalise: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Confirm a provisional figure as final: a correction that changes only that mark.",
            discussion: "The value, note and forecast stay; the history records who confirmed it and when.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code.", valueName: "code")) var code: String
        @Argument(help: ArgumentHelp("Period.", valueName: "period")) var period: Period
        @Option(help: ArgumentHelp("Why (default: \"provisional figure confirmed\").", valueName: "text"))
        var reason = "provisional figure confirmed"
        @Option(help: ArgumentHelp("The revision being confirmed (default: the current one).", valueName: "n")) var revision: Int?

        func run() throws {
            let revision = try self.revision ?? currentRevision(connection, code, period)
            let request = FigureCorrectRequest(code: code, period: period, value: nil, reason: reason, revision: revision, provisional: false)
            try connection.run(request) { printFigure($0) }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit and correct many figures from a CSV file, all or nothing.",
            discussion: """
                The first line names the columns: code, period, value, and optionally note, forecast, provisional (yes or no) \
                and reason. Each line is checked as `figure submit` would check it, or as `figure correct` when the period has \
                a figure (a reason is then required); a line repeating the figure as it stands changes nothing. One refused \
                line refuses the file, naming the line and column. `figure export` writes a file that imports back unchanged.
                """)
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("The CSV file.", valueName: "file")) var file: String
        @Flag(help: "Say what would be submitted, corrected or left, and write nothing.") var dryRun = false

        func run() throws {
            let content: String
            do { content = try String(contentsOfFile: file, encoding: .utf8) } catch {
                writeError("bbcsctl: cannot read \(file): \(readFailure(file))\n")
                throw ExitCode(Exit.usage)
            }
            try connection.run(FigureImportRequest(content: content, dryRun: dryRun ? true : nil)) { r in
                if r.lines.count <= 50 {
                    var table = Table("Line", "Code", "Period", "Value", "Revision", r.dryRun ? "Would be" : "Done")
                    for l in r.lines { table.add("\(l.line)", l.code, l.period.description, FigureRules.format(l.value), "\(l.revision)", l.action.rawValue) }
                    print(table.render())
                }
                print("\(r.dryRun ? "would submit" : "submitted") \(r.submitted), \(r.dryRun ? "would correct" : "corrected") \(r.corrected), "
                      + "unchanged \(r.unchanged) of \(r.lines.count) lines" + (r.dryRun ? " (dry run: nothing written)" : ""))
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every current figure as open-data CSV, which imports back unchanged.",
            discussion: """
                Columns plan, code, period, period_start, period_end, value, note, forecast, provisional, reason: RFC 4180, \
                UTF-8, ISO 8601 dates. --metadata writes the W3C CSV on the Web (CSVW) description of the file beside it, \
                with its licence (README, Open data).
                """)
        @OptionGroup var connection: Connection
        @OptionGroup var plan: PlanOption
        @Flag(help: "Retired indicators' figures too.") var all = false
        @Option(help: ArgumentHelp("Also write the file's CSVW metadata (JSON) here.", valueName: "file")) var metadata: String?
        @Option(help: ArgumentHelp("Only this period.", valueName: "period")) var period: Period?
        @Option(help: ArgumentHelp("Only this objective's indicators, e.g. CS1.", valueName: "code")) var objective: String?
        @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var output: String?

        func run() throws {
            var request = plan.scoped(IndicatorListRequest(objective: objective))
            request.all = all ? true : nil
            let (overview, list) = try connection.session { client in
                (try client.call(plan.scoped(PlanShowRequest())), try client.call(request))
            }
            let rows = list.indicators.flatMap { i in
                i.periods.compactMap { p in
                    p.figure.flatMap { f in period == nil || f.period == period ? FigureCSV.cells(plan: overview.code, code: i.code, f) : nil }
                }
            }
            try writeFile(FigureCSV.render(rows), to: output, what: "\(rows.count) figures")
            if let metadata {
                try writeFile(OpenData.figures.metadata(csv: output.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "figures.csv",
                                                        publisher: overview.council, title: "\(overview.title): figures"),
                              to: metadata, what: "CSVW metadata")
            }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every revision of an indicator's figures, with who, when and why.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code.", valueName: "code")) var code: String
        @Option(help: ArgumentHelp("Only this period.", valueName: "period")) var period: Period?

        func run() throws {
            try connection.run(FigureHistoryRequest(code: code, period: period)) { result in
                guard !result.revisions.isEmpty else { return print("\(result.indicator): no figures" + (period.map { " for \($0)" } ?? "")) }
                var table = Table("Period", "Rev", "Value", "By", "At", "Flags", "Reason / note")
                for f in result.revisions {
                    let flags = [f.late ? "late" : nil, f.validatedBy.map { "validated by \($0)" }].compactMap { $0 }
                    table.add(f.period.description, "\(f.revision)", FigureRules.format(f.value), f.submittedBy, f.submittedAt,
                              flags.joined(separator: ", "), [f.reason, f.note].compactMap { $0 }.joined(separator: " / "))
                }
                print(table.render())
            }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a period's current revision checked (administrators); a later correction clears the mark.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code.", valueName: "code")) var code: String
        @Argument(help: ArgumentHelp("Period.", valueName: "period")) var period: Period
        @Option(help: ArgumentHelp("The revision you checked; refused if it is no longer current.", valueName: "n")) var revision: Int?

        func run() throws {
            try connection.run(FigureValidateRequest(code: code, period: period, revision: revision)) { printFigure($0) }
        }
    }
}

struct Due: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Figures your posts owe for the current and past periods, with due dates.")
    @OptionGroup var connection: Connection
    @Option(help: ArgumentHelp("This post's instead of yours.", valueName: "post")) var post: String?
    @Flag(help: "Every post's.") var all = false

    func run() throws {
        try connection.run(FigureDueRequest(post: post, all: all ? true : nil)) { result in
            guard !result.figures.isEmpty else {
                return print(result.posts.isEmpty ? "you hold no post that owns indicators" : "nothing due for \(result.posts.joined(separator: ", "))")
            }
            var table = Table("Due", "State", "Code", "Period", "Round deadline", "Owner", "Title")
            for f in result.figures {
                table.add(f.dueDate.description, f.overdue ? "OVERDUE" : f.open ? "period open" : "due", f.indicator, f.period.description,
                          f.roundDeadline.map { "\($0) (\(f.meeting ?? "round"))" } ?? "", f.ownerPost, f.title)
            }
            print(table.render())
            print("\(result.figures.count) figures owed, \(result.figures.filter(\.overdue).count) overdue")
        }
    }
}
