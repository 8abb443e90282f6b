import BBCSCore
import Foundation

/// Turns a `PerformanceReport` into text, Markdown, HTML, CSV or JSON. Pure: the same
/// report always gives the same bytes.
public enum ReportFormat: String, CaseIterable, Sendable {
    case text, markdown, html, csv, json

    public func render(_ report: PerformanceReport) -> String {
        switch self {
        case .text: return TextReport(report).render(markdown: false)
        case .markdown: return TextReport(report).render(markdown: true)
        case .html: return HTMLReport(report).render()
        case .csv: return CSVReport.render(report)
        case .json: return Self.json(report)
        }
    }

    /// `value` as the JSON of reports and the site's data: sorted keys, pretty, one final line break.
    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // As on the wire: a stored value no Double holds is written "Infinity", not lost.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return ((try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }
}

/// Shared wording of values, statuses and travel.
enum Words {
    static func value(_ value: Double?, _ unit: IndicatorUnit) -> String {
        formatValue(value, percent: unit == .percent, decimals: 1)
    }

    /// RAG with a shape as well as a word, so it never rests on colour alone.
    static func rag(_ rag: RAG) -> String {
        switch rag {
        case .green: return "● GREEN"
        case .amber: return "▲ AMBER"
        case .red: return "■ RED"
        case .grey: return "○ GREY"
        }
    }

    static func travel(_ travel: Travel?) -> String {
        switch travel {
        case .improving: return "↑ improving"
        case .worsening: return "↓ worsening"
        case .unchanged: return "→ unchanged"
        case .up: return "↑ up"
        case .down: return "↓ down"
        case nil: return "-"
        }
    }

    static func status(_ status: TaskStatus) -> String { status.rawValue.replacingOccurrences(of: "_", with: " ") }

    static func figure(_ line: PerformanceReport.IndicatorLine) -> String {
        if let figure = line.value { return value(figure, line.unit) + (line.provisional ? " (provisional)" : "") }
        guard let due = line.dueDate else { return "not submitted" }
        return line.overdue ? "not submitted (was due \(due))" : "not yet due (due \(due))"
    }

    static func flags(_ line: PerformanceReport.IndicatorLine) -> String {
        [line.validated ? "validated" : nil, line.late ? "late" : nil, (line.revision ?? 1) > 1 ? "revised" : nil]
            .compactMap { $0 }.joined(separator: ", ")
    }

    /// The year-end forecast with its RAG against the year's target, or "-" without one.
    static func forecast(_ line: PerformanceReport.IndicatorLine) -> String {
        guard let forecast = line.forecast, let rag = line.forecastRAG else { return "-" }
        return "\(value(forecast, line.unit)) \(self.rag(rag))"
    }

    /// The round and publication a report belongs to, as one sentence; nil for neither.
    static func cycle(_ report: PerformanceReport) -> String? {
        let round = report.round.map { "Reporting round \($0.period) for \($0.meeting), figures wanted by \($0.deadline)." }
        let published = report.publication.map { "Published as \($0.number) by \($0.publishedBy) at \($0.publishedAt)." }
        let parts = [round, published].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }

    /// A restatement's cells: indicator, period, report and meeting, reported, restated, reason, by.
    static func restatement(_ r: Restatement) -> [String] {
        [r.indicator, r.period.description, "\(r.report) (\(r.meeting))", "\(FigureRules.format(r.reportedValue)) (rev \(r.reportedRevision))",
         "\(FigureRules.format(r.restatedValue)) (rev \(r.revision))", r.reason ?? "-", "\(r.by), \(r.at)"]
    }

    /// A risk's cells: id, score, band, movement, tasks, title, mitigation.
    static func risk(_ r: PerformanceReport.RiskLine) -> [String] {
        [r.id + (r.linkedToOverdueTask ? " (task overdue)" : ""), r.score.map { "\($0) (\(r.likelihood ?? 0) x \(r.impact ?? 0))" } ?? "-",
         r.band ?? "unscored", movement(r.movement, previous: r.previousScore), r.tasks.joined(separator: ", "), r.title, r.mitigation ?? "-"]
    }

    /// Movement with an arrow as well as a word.
    static func movement(_ movement: RiskMovement?, previous: Int?) -> String {
        switch movement {
        case .up?: return "↑ up from \(previous ?? 0)"
        case .down?: return "↓ down from \(previous ?? 0)"
        case .unchanged?: return "→ unchanged"
        case .new?: return "★ new"
        case nil: return "-"
        }
    }

    static func slippage(_ s: Slippage) -> String { s.times == 0 ? "-" : "\(s.times)× (\(s.days) days)" }

    static func counts(_ counts: [String: Int], order: [String]) -> String {
        order.compactMap { key in counts[key].map { "\(key.replacingOccurrences(of: "_", with: " ")) \($0)" } }.joined(separator: ", ")
    }

    static let ragOrder = ["green", "amber", "red", "grey"]
    static let statusOrder = TaskStatus.allCases.map(\.rawValue)
}

extension PerformanceReport {
    /// Indicator and task lines by code, for the exceptions, which name them.
    var linesByCode: (indicators: [String: IndicatorLine], tasks: [String: TaskLine]) {
        (Dictionary(sections.flatMap(\.indicators).map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a }),
         Dictionary(sections.flatMap(\.tasks).map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a }))
    }
}

/// The plain-text and Markdown report: the same content, laid out for a terminal or a wiki.
struct TextReport {
    let report: PerformanceReport
    let indicators: [String: PerformanceReport.IndicatorLine]
    let tasks: [String: PerformanceReport.TaskLine]

    init(_ report: PerformanceReport) {
        self.report = report
        (indicators, tasks) = report.linesByCode
    }

    func render(markdown md: Bool) -> String {
        var out: [String] = []
        func heading(_ text: String, _ level: Int) {
            if md { out.append(String(repeating: "#", count: level) + " " + text) } else {
                out.append(level == 1 ? text : text.uppercased())
                if level == 1 { out.append(String(repeating: "=", count: text.count)) }
            }
            out.append("")
        }
        func table(_ headers: [String], _ rows: [[String]]) {
            if md {
                func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
                out.append("| " + headers.map(cell).joined(separator: " | ") + " |")
                out.append("|" + headers.map { _ in "---|" }.joined())
                for row in rows { out.append("| " + row.map(cell).joined(separator: " | ") + " |") }
            } else {
                var t = Table(headers: headers)
                t.maxWidth = 48
                t.rows = rows
                out.append(t.render())
            }
            out.append("")
        }
        func item(_ text: String) { out.append(md ? "- " + text : wrap("- " + text, width: 96, indent: "  ")) }

        let s = report.summary
        heading("\(report.planTitle): performance report \(report.period)", 1)
        out.append("\(report.council). As at \(report.asAt)." + (report.objective.map { " Objective \($0) only." } ?? ""))
        if let line = Words.cycle(report) { out.append(line) }
        out.append("")
        heading("Summary", 2)
        item("Indicators: \(s.indicators) (\(Words.counts(s.rag, order: Words.ragOrder))); figures overdue and not submitted: \(s.notSubmitted).")
        if s.provisional > 0 { item("Provisional figures, to be confirmed: \(s.provisional).") }
        if !s.forecastRAG.isEmpty {
            item("Year-end forecasts: \(s.forecastRAG.values.reduce(0, +)) (\(Words.counts(s.forecastRAG, order: Words.ragOrder))).")
        }
        item("Key tasks: \(s.tasks.filter { $0.key != "overdue" }.values.reduce(0, +)) (\(Words.counts(s.tasks, order: Words.statusOrder))); overdue: \(s.tasks["overdue"] ?? 0); slipped: \(s.slippedTasks).")
        out.append("")

        heading("Exceptions", 2)
        let e = report.exceptions
        if e.red.isEmpty && e.notSubmitted.isEmpty && e.overdueTasks.isEmpty && e.slippedTasks.isEmpty && e.risksUp.isEmpty {
            out.append("None.")
            out.append("")
        }
        if !e.red.isEmpty {
            out.append(md ? "**Red indicators**" : "Red indicators:")
            for code in e.red { if let i = indicators[code] {
                item("\(i.code) \(i.title), \(i.period): \(Words.value(i.value, i.unit)) against a target of \(Words.value(i.target, i.unit))."
                     + " \(i.ownerPost): \(i.commentary ?? "no commentary").")
            } }
            out.append("")
        }
        if !e.notSubmitted.isEmpty {
            out.append(md ? "**Figures overdue, by owner**" : "Figures overdue, by owner:")
            out.append("")
            let owed = e.notSubmitted.compactMap { indicators[$0] }
            table(["Owner", "Indicator", "Period", "Due", "Title"],
                  owed.sorted { ($0.ownerPost, $0.code) < ($1.ownerPost, $1.code) }.map {
                      [$0.ownerPost, $0.code, $0.period.description, $0.dueDate?.description ?? "-", $0.title]
                  })
        }
        if !e.risksUp.isEmpty {
            out.append(md ? "**Risks that moved up**" : "Risks that moved up:")
            let risks = Dictionary(report.risks.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            for id in e.risksUp { if let r = risks[id] {
                item("\(r.id) \(r.title): \(r.score ?? 0) (\(r.band ?? "-")), \(Words.movement(r.movement, previous: r.previousScore)). \(r.reviewNote ?? "")")
            } }
            out.append("")
        }
        if !e.overdueTasks.isEmpty {
            out.append(md ? "**Overdue key tasks**" : "Overdue key tasks:")
            for code in e.overdueTasks { if let t = tasks[code] {
                item("\(t.code), \(t.overdueDays ?? 0) days past \(t.targetDate?.description ?? "-") (\(Words.status(t.status)), \(t.progress)%): \(t.action)")
            } }
            out.append("")
        }
        if !e.slippedTasks.isEmpty {
            out.append(md ? "**Slipped key tasks**" : "Slipped key tasks:")
            for code in e.slippedTasks { if let t = tasks[code] {
                item("\(t.code) moved \(t.slippage.times) time(s), \(t.slippage.days) days in all; now due \(t.targetDate?.description ?? "undated")")
            } }
            out.append("")
        }

        if !report.restatements.isEmpty {
            heading("Restatements", 2)
            out.append("Figures published reports showed that were corrected since the last publication:")
            out.append("")
            table(["Indicator", "Period", "Reported to", "Reported", "Restated", "Reason", "By"], report.restatements.map(Words.restatement))
        }

        for section in report.sections {
            heading("\(section.key.count <= 4 ? section.key + " " : "")\(section.title)", 2)
            if !section.indicators.isEmpty {
                table(["Code", "Period", "Figure", "Target", "RAG now", "vs previous", "vs year ago", "YTD", "Year-end forecast", "Flags",
                       "Owner", "Indicator"],
                      section.indicators.map { i in
                          [i.code, i.period.description, Words.figure(i), Words.value(i.target, i.unit), Words.rag(i.rag),
                           Words.travel(i.sincePrevious), Words.travel(i.sinceYearEarlier), Words.value(i.yearToDate, i.unit),
                           Words.forecast(i), Words.flags(i), i.ownerPost, i.title]
                      })
                let notes = section.indicators.filter { $0.commentary != nil }
                if !notes.isEmpty {
                    out.append(md ? "Commentary:" : "Commentary:")
                    for i in notes { item("\(i.code): \(i.commentary ?? "")") }
                    out.append("")
                }
            }
            if !section.tasks.isEmpty {
                table(["Task", "Status", "Done", "Target", "Overdue", "Slipped", "Responsible", "Action"],
                      section.tasks.map { t in
                          [t.code, Words.status(t.status), "\(t.progress)%", t.targetDate?.description ?? "undated: \(t.targetText)",
                           t.overdueDays.map { "\($0) days" } ?? "-", Words.slippage(t.slippage), t.responsiblePosts.joined(separator: "; "), t.action]
                      })
            }
        }
        if !report.risks.isEmpty {
            heading("Risks", 2)
            out.append("Scored likelihood x impact; movement since the previous published report. Risks of overdue tasks first.")
            out.append("")
            table(["Risk", "Score", "Band", "Movement", "Tasks", "Risk", "Mitigation"], report.risks.map(Words.risk))
        }
        return printable(out.joined(separator: "\n").trimmingCharacters(in: .newlines)) + "\n"
    }
}

/// CSV for spreadsheets: one row per indicator and per task, in report order, with a
/// `record` column saying which; RFC 4180 quoting; no cell a spreadsheet would run as a formula.
enum CSVReport {
    /// Stable names, described in `OpenData.report`.
    static let headers = OpenData.report.names

    static func render(_ report: PerformanceReport) -> String {
        func number(_ value: Double?) -> String { value.map { FigureRules.format($0) } ?? "" }
        var rows = [headers]
        for section in report.sections {
            for i in section.indicators {
                rows.append([report.plan, "indicator", section.key, i.code, i.title, i.period.description, i.period.start.description,
                             i.period.end.description, number(i.value), number(i.target), i.rag.rawValue,
                             i.sincePrevious?.rawValue ?? "", i.sinceYearEarlier?.rawValue ?? "", number(i.yearToDate),
                             i.dueDate?.description ?? "", i.overdue ? "yes" : "no", i.validated ? "yes" : "no", i.late ? "yes" : "no",
                             i.provisional ? "yes" : "no", number(i.forecast), number(i.annualTarget), i.forecastRAG?.rawValue ?? "",
                             i.ownerPost, i.commentary ?? "", "", "", "", "", "", "", ""])
            }
            for t in section.tasks {
                rows.append([report.plan, "task", section.key, t.code, t.action, "", "", "", "", "", "", "", "", "", "", t.overdueDays != nil ? "yes" : "no", "", "",
                             "", "", "", "", "", t.latestNote ?? "", t.status.rawValue, "\(t.progress)", t.targetDate?.description ?? "",
                             t.overdueDays.map(String.init) ?? "", "\(t.slippage.times)", "\(t.slippage.days)",
                             t.responsiblePosts.joined(separator: "; ")])
            }
        }
        func quote(_ field: String) -> String {
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }
        return rows.map { $0.map { quote(cell($0)) }.joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    /// A field as a spreadsheet should show it: control characters replaced (`printable`,
    /// newlines kept), and one that starts like a formula (`=`, `+`, `-`, `@`, tab or CR, as
    /// OWASP lists) prefixed with `'` so it stays text, unless it is a plain number such as -5.
    static func cell(_ field: String) -> String {
        guard let first = field.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), !isPlainNumber(field) else {
            return printable(field)
        }
        return "'" + printable(field)
    }

    /// An optional minus, digits, an optional fraction and exponent: "-5", "12.5", "1e+19".
    static func isPlainNumber(_ text: String) -> Bool {
        text.wholeMatch(of: /-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/) != nil
    }
}
