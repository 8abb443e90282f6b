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
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            // As on the wire: a stored value no Double holds is written "Infinity", not lost.
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
            return ((try? encoder.encode(report)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
        }
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
        if let figure = line.value { return value(figure, line.unit) }
        guard let due = line.dueDate else { return "not submitted" }
        return line.overdue ? "not submitted (was due \(due))" : "not yet due (due \(due))"
    }

    static func flags(_ line: PerformanceReport.IndicatorLine) -> String {
        [line.validated ? "validated" : nil, line.late ? "late" : nil, (line.revision ?? 1) > 1 ? "revised" : nil]
            .compactMap { $0 }.joined(separator: ", ")
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
        out.append("")
        heading("Summary", 2)
        item("Indicators: \(s.indicators) (\(Words.counts(s.rag, order: Words.ragOrder))); figures overdue and not submitted: \(s.notSubmitted).")
        item("Key tasks: \(s.tasks.filter { $0.key != "overdue" }.values.reduce(0, +)) (\(Words.counts(s.tasks, order: Words.statusOrder))); overdue: \(s.tasks["overdue"] ?? 0); slipped: \(s.slippedTasks).")
        out.append("")

        heading("Exceptions", 2)
        let e = report.exceptions
        if e.red.isEmpty && e.notSubmitted.isEmpty && e.overdueTasks.isEmpty && e.slippedTasks.isEmpty { out.append("None."); out.append("") }
        if !e.red.isEmpty {
            out.append(md ? "**Red indicators**" : "Red indicators:")
            for code in e.red { if let i = indicators[code] {
                item("\(i.code) \(i.title), \(i.period): \(Words.value(i.value, i.unit)) against a target of \(Words.value(i.target, i.unit))."
                     + " \(i.ownerPost): \(i.commentary ?? "no commentary").")
            } }
            out.append("")
        }
        if !e.notSubmitted.isEmpty {
            out.append(md ? "**Figures overdue**" : "Figures overdue:")
            for code in e.notSubmitted { if let i = indicators[code] {
                item("\(i.code) \(i.period), due \(i.dueDate?.description ?? "-"): \(i.ownerPost)")
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

        for section in report.sections {
            heading("\(section.key.count <= 4 ? section.key + " " : "")\(section.title)", 2)
            if !section.indicators.isEmpty {
                table(["Code", "Period", "Figure", "Target", "RAG", "vs previous", "vs year ago", "YTD", "Flags", "Owner", "Indicator"],
                      section.indicators.map { i in
                          [i.code, i.period.description, Words.figure(i), Words.value(i.target, i.unit), Words.rag(i.rag),
                           Words.travel(i.sincePrevious), Words.travel(i.sinceYearEarlier), Words.value(i.yearToDate, i.unit),
                           Words.flags(i), i.ownerPost, i.title]
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
            heading("Risks linked to these tasks", 2)
            table(["Task", "Strategic risks", "Threat", "Mitigation"],
                  report.risks.map { [$0.task, $0.strategicRisks.map(String.init).joined(separator: ", "), $0.threat, $0.mitigation] })
        }
        return printable(out.joined(separator: "\n").trimmingCharacters(in: .newlines)) + "\n"
    }
}

/// CSV for spreadsheets: one row per indicator and per task, in report order, with a
/// `record` column saying which; RFC 4180 quoting; no cell a spreadsheet would run as a formula.
enum CSVReport {
    static let headers = ["record", "section", "code", "title", "period", "figure", "target", "rag", "since_previous",
                          "since_year_earlier", "year_to_date", "due_date", "overdue", "validated", "late", "owner", "commentary",
                          "status", "progress", "target_date", "overdue_days", "slipped_times", "slipped_days", "responsible"]

    static func render(_ report: PerformanceReport) -> String {
        func number(_ value: Double?) -> String { value.map { FigureRules.format($0) } ?? "" }
        var rows = [headers]
        for section in report.sections {
            for i in section.indicators {
                rows.append(["indicator", section.key, i.code, i.title, i.period.description, number(i.value), number(i.target), i.rag.rawValue,
                             i.sincePrevious?.rawValue ?? "", i.sinceYearEarlier?.rawValue ?? "", number(i.yearToDate),
                             i.dueDate?.description ?? "", i.overdue ? "yes" : "no", i.validated ? "yes" : "no", i.late ? "yes" : "no",
                             i.ownerPost, i.commentary ?? "", "", "", "", "", "", "", ""])
            }
            for t in section.tasks {
                rows.append(["task", section.key, t.code, t.action, "", "", "", "", "", "", "", "", t.overdueDays != nil ? "yes" : "no", "", "",
                             "", t.latestNote ?? "", t.status.rawValue, "\(t.progress)", t.targetDate?.description ?? "",
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
