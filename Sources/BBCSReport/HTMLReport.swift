import BBCSCore
import Foundation

/// One self-contained HTML file: styles inline, charts as inline SVG, no scripts, fonts or
/// images from elsewhere. A one-page summary with the exceptions prints first on A4; then
/// each section's indicators, each with its chart, and its key tasks.
struct HTMLReport {
    let report: PerformanceReport
    private let indicators: [String: PerformanceReport.IndicatorLine]
    private let tasks: [String: PerformanceReport.TaskLine]

    init(_ report: PerformanceReport) {
        self.report = report
        (indicators, tasks) = report.linesByCode
    }

    func render() -> String {
        let s = report.summary
        let title = "\(report.planTitle): performance report \(report.period)"
        var html = """
            <!DOCTYPE html>
            <html lang="en-GB">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title>
            <style>\(Self.style)</style>
            </head>
            <body>
            <header>
            <h1>\(escape(title))</h1>
            <p class="meta">\(escape(report.council)). As at \(report.asAt).\(report.objective.map { " Objective \(escape($0)) only." } ?? "")</p>
            \(Words.cycle(report).map { "<p class=\"meta\">\(escape($0))</p>" } ?? "")
            </header>
            <section class="summary" aria-labelledby="summary">
            <h2 id="summary">Summary</h2>
            <div class="tiles">
            \(tile("Indicators", "\(s.indicators)", Words.counts(s.rag, order: Words.ragOrder)))
            \(tile("Figures overdue", "\(s.notSubmitted)", "past their due date, not submitted"))
            \(tile("Key tasks overdue", "\(s.tasks["overdue"] ?? 0)", Words.counts(s.tasks, order: Words.statusOrder)))
            \(tile("Key tasks slipped", "\(s.slippedTasks)", "target date moved later"))
            \(s.provisional > 0 ? tile("Provisional figures", "\(s.provisional)", "estimates still to be confirmed") : "")
            \(s.forecastRAG.isEmpty ? "" : tile("Year-end forecasts", "\(s.forecastRAG.values.reduce(0, +))",
                                                Words.counts(s.forecastRAG, order: Words.ragOrder)))
            </div>
            \(exceptions())
            </section>

            """
        if !report.restatements.isEmpty {
            html += "<section aria-labelledby=\"restatements\"><h2 id=\"restatements\">Restatements</h2>\n"
            html += table(caption: "Figures published reports showed, corrected since the last publication",
                          headers: ["Indicator", "Period", "Reported to", "Reported", "Restated", "Reason", "By"],
                          rows: report.restatements.map { Words.restatement($0).map(escape) })
            html += "</section>\n"
        }
        for section in report.sections { html += self.section(section) }
        if !report.risks.isEmpty {
            html += "<section aria-labelledby=\"risks\"><h2 id=\"risks\">Risks</h2>\n"
            html += table(caption: "Risks scored likelihood x impact, movement since the previous published report; risks of overdue tasks first",
                          headers: ["Risk", "Score", "Band", "Movement", "Tasks", "Risk", "Mitigation"],
                          rows: report.risks.map { Words.risk($0).map(escape) })
            html += "</section>\n"
        }
        html += "<footer><p>Produced by bbcs from live data. RAG: ● green met target, ▲ amber within tolerance, ■ red beyond, ○ grey no figure or target.</p></footer>\n</body>\n</html>\n"
        return html
    }

    private func tile(_ label: String, _ number: String, _ detail: String) -> String {
        "<div class=\"tile\"><span class=\"number\">\(escape(number))</span><span class=\"label\">\(escape(label))</span><span class=\"detail\">\(escape(detail))</span></div>"
    }

    /// The exceptions as tables members can scan: red indicators with the owner's commentary,
    /// overdue and slipped tasks, risks that moved up; then the overdue figures by owner; then
    /// the key to the symbols.
    private func exceptions() -> String {
        let e = report.exceptions
        var html = "<h2>Exceptions</h2>\n"
        var rows: [[String]] = []
        for code in e.red { if let i = indicators[code] {
            rows.append(["Red indicator", "\(badge(i.rag)) <a href=\"#\(anchor(i.code))\">\(escape(i.code))</a> \(escape(i.title)), \(i.period)",
                         escape("\(Words.value(i.value, i.unit)) against \(Words.value(i.target, i.unit))"), escape(i.ownerPost),
                         escape(i.commentary ?? "no commentary")])
        } }
        for code in e.overdueTasks { if let t = tasks[code] {
            rows.append(["Overdue key task", "<strong>\(escape(t.code))</strong> \(escape(t.action))",
                         escape("\(t.overdueDays ?? 0) days past \(t.targetDate?.description ?? "-"), \(Words.status(t.status)), \(t.progress)% done"),
                         escape(t.responsiblePosts.joined(separator: "; ")), escape(t.latestNote ?? "-")])
        } }
        for code in e.slippedTasks where !e.overdueTasks.contains(code) { if let t = tasks[code] {
            rows.append(["Slipped key task", "<strong>\(escape(t.code))</strong> \(escape(t.action))",
                         escape("moved \(t.slippage.times) time(s), \(t.slippage.days) days; now due \(t.targetDate?.description ?? "undated")"),
                         escape(t.responsiblePosts.joined(separator: "; ")), escape(t.latestNote ?? "-")])
        } }
        let risks = Dictionary(report.risks.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for id in e.risksUp { if let r = risks[id] {
            rows.append(["Risk up", "<strong>\(escape(r.id))</strong> \(escape(r.title))",
                         escape("\(r.score ?? 0) (\(r.band ?? "-")), \(Words.movement(r.movement, previous: r.previousScore))"),
                         escape(r.reviewedBy ?? "-"), escape(r.reviewNote ?? "-")])
        } }
        if rows.isEmpty && e.notSubmitted.isEmpty {
            html += "<p>None.</p>\n"
        } else if !rows.isEmpty {
            html += table(caption: "Exceptions: red indicators, overdue and slipped key tasks, risks that moved up",
                          headers: ["Exception", "What", "Status", "Owner", "Commentary"], rows: rows)
        }
        if !e.notSubmitted.isEmpty {
            let owed = e.notSubmitted.compactMap { indicators[$0] }
            var byOwner: [String: [PerformanceReport.IndicatorLine]] = [:]
            for line in owed { byOwner[line.ownerPost, default: []].append(line) }
            html += "<h3>Figures overdue (\(owed.count)), by owner</h3>\n"
            html += table(caption: "Figures past their due date and not submitted, by owner", headers: ["Owner", "Indicator", "Period", "Due"],
                          rows: byOwner.keys.sorted().flatMap { owner in
                              byOwner[owner]!.map { line in
                                  [escape(owner), "\(escape(line.code)) \(escape(line.title))", escape(line.period.description),
                                   escape(line.dueDate?.description ?? "-")]
                              }
                          })
        }
        html += """
            <h3>Key to the symbols</h3>
            <ul class="key">
            <li>\(badge(.green)) met or better than target; \(badge(.amber)) missed by no more than the tolerance; \(badge(.red)) missed by more; \(badge(.grey)) no figure or no target</li>
            <li>RAG now is the period's figure against its target; the year-end forecast's RAG is the owner's forecast against the year's target</li>
            <li>↑ improving, ↓ worsening, → unchanged (↑ up and ↓ down where the plan sets no direction); "(provisional)": an estimate still to be confirmed</li>
            <li>Risks: ↑ up, ↓ down, → unchanged since the previous published report, ★ new (not scored then)</li>
            </ul>

            """
        return html
    }

    private func section(_ section: PerformanceReport.Section) -> String {
        var html = "<section class=\"part\" aria-labelledby=\"\(anchor(section.key))\">\n"
        html += "<h2 id=\"\(anchor(section.key))\">\(section.key.count <= 4 ? escape(section.key) + " " : "")\(escape(section.title))</h2>\n"
        for i in section.indicators {
            html += """
                <article class="indicator" id="\(anchor(i.code))" aria-labelledby="\(anchor(i.code))-h">
                <h3 id="\(anchor(i.code))-h">\(badge(i.rag)) \(escape(i.code)) \(escape(i.title))</h3>
                <div class="row">
                <dl>
                <dt>\(i.period)</dt><dd>\(escape(Words.figure(i)))\(i.validated ? " <span class=\"tag\">validated</span>" : "")\(i.late ? " <span class=\"tag\">late</span>" : "")</dd>
                <dt>Target</dt><dd>\(escape(Words.value(i.target, i.unit)))</dd>
                \(forecast(i))<dt>vs previous</dt><dd>\(escape(Words.travel(i.sincePrevious)))</dd>
                <dt>vs year ago</dt><dd>\(escape(Words.travel(i.sinceYearEarlier)))</dd>
                \(i.frequency == .quarterly ? "<dt>Year to date</dt><dd>\(escape(Words.value(i.yearToDate, i.unit)))</dd>" : "")
                <dt>Owner</dt><dd>\(escape(i.ownerPost))</dd>
                </dl>
                \(Chart(line: i).svg())
                </div>
                \(chartData(i))
                \(i.commentary.map { "<p class=\"commentary\"><strong>Commentary:</strong> \(escape($0))</p>" } ?? "")
                </article>

                """
        }
        if !section.tasks.isEmpty {
            html += table(caption: "Key tasks, \(section.key)", headers: ["Task", "Status", "Done", "Target", "Overdue", "Slipped", "Responsible", "Action"],
                          rows: section.tasks.map { t in
                              [escape(t.code), escape(Words.status(t.status)), "\(t.progress)%",
                               escape(t.targetDate?.description ?? "undated: \(t.targetText)"),
                               t.overdueDays.map { "<strong>\($0) days</strong>" } ?? "-", escape(Words.slippage(t.slippage)),
                               escape(t.responsiblePosts.joined(separator: "; ")), escape(t.action)]
                          })
        }
        return html + "</section>\n"
    }

    private func table(caption: String, headers: [String], rows: [[String]]) -> String {
        var html = "<table>\n<caption>\(escape(caption))</caption>\n<thead><tr>"
        html += headers.map { "<th scope=\"col\">\(escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in rows {
            html += "<tr>" + row.enumerated().map { $0.offset == 0 ? "<th scope=\"row\">\($0.element)</th>" : "<td>\($0.element)</td>" }.joined() + "</tr>\n"
        }
        return html + "</tbody>\n</table>\n"
    }

    /// The year-end forecast and its status beside the quarter's; nothing without a forecast.
    private func forecast(_ i: PerformanceReport.IndicatorLine) -> String {
        guard let forecast = i.forecast, let rag = i.forecastRAG else { return "" }
        return "<dt>Year-end forecast</dt><dd>\(escape(Words.value(forecast, i.unit))) against \(escape(Words.value(i.annualTarget, i.unit))) \(badge(rag))</dd>\n"
    }

    /// The chart's figures as a table, folded under a summary for those who want the numbers.
    private func chartData(_ i: PerformanceReport.IndicatorLine) -> String {
        guard !i.chart.isEmpty else { return "" }
        return "<details><summary>Data of the chart of \(escape(i.code))</summary>\n"
            + table(caption: "\(i.code): figures and targets by period", headers: ["Period", "Figure", "Target", "Source"],
                    rows: i.chart.map { [escape($0.label), escape(Words.value($0.actual, i.unit)), escape(Words.value($0.target, i.unit)),
                                         $0.baseline ? "plan baseline" : "submitted"] })
            + "</details>\n"
    }

    private func badge(_ rag: RAG) -> String {
        "<span class=\"rag rag-\(rag.rawValue)\">\(escape(Words.rag(rag)))</span>"
    }

    static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1a1a1a;margin:0 auto;max-width:60rem;padding:1rem;line-height:1.4}
        h1{font-size:1.5rem;margin:0}h2{font-size:1.25rem;border-bottom:2px solid #333;padding-bottom:.2rem;margin-top:1.5rem}h3{font-size:1rem;margin:.4rem 0}
        .meta{color:#444;margin:.2rem 0 1rem}.tiles{display:flex;flex-wrap:wrap;gap:.5rem}
        .tile{border:1px solid #999;border-radius:4px;padding:.4rem .6rem;min-width:11rem;flex:1}
        .tile .number{display:block;font-size:1.6rem;font-weight:700}.tile .label{display:block;font-weight:600}.tile .detail{display:block;font-size:.8rem;color:#444}
        .rag{display:inline-block;border:2px solid;border-radius:3px;padding:0 .3rem;font-size:.8rem;font-weight:700;white-space:nowrap}
        .rag-green{color:#0b6b2b;background:#e3f4e8}.rag-amber{color:#7a4a00;background:#fdf0d5}.rag-red{color:#9b1111;background:#fbe3e3}.rag-grey{color:#444;background:#eee}
        .tag{border:1px solid #666;border-radius:3px;font-size:.75rem;padding:0 .2rem}
        .indicator{border-top:1px solid #ccc;padding:.4rem 0;break-inside:avoid}.row{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}
        dl{display:grid;grid-template-columns:auto auto;gap:.1rem .6rem;margin:0;font-size:.9rem}dt{font-weight:600}dd{margin:0}
        .commentary{font-size:.9rem;margin:.3rem 0}.compact{font-size:.85rem}
        table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.6rem 0}caption{text-align:left;font-weight:600;padding:.2rem 0}
        th,td{border:1px solid #bbb;padding:.2rem .3rem;text-align:left;vertical-align:top}thead th{background:#eee}
        svg{max-width:100%;height:auto}svg text{font-size:9px;fill:#333}
        footer{margin-top:2rem;font-size:.8rem;color:#444}
        @page{size:A4;margin:15mm}
        @media print{body{max-width:none;padding:0;font-size:10pt}.summary{break-after:page}a{color:inherit;text-decoration:none}}
        """
}

/// An indicator's chart: figures (solid line, filled dots; baseline years hollow) against
/// targets (dashed line), as inline SVG with a text alternative.
struct Chart {
    let line: PerformanceReport.IndicatorLine
    let width = 380.0, height = 140.0, left = 40.0, right = 30.0, top = 10.0, bottom = 34.0

    func svg() -> String {
        let points = line.chart
        let values = points.flatMap { [$0.actual, $0.target].compactMap { $0 } }
        let description = "Chart of \(line.code): " + (points.isEmpty ? "no data." : points.map { p in
            "\(p.label) \(Words.value(p.actual, line.unit))" + (p.target.map { " (target \(Words.value($0, line.unit)))" } ?? "")
        }.joined(separator: "; ") + ".")
        var svg = "<svg class=\"chart\" role=\"img\" aria-label=\"\(escape(description))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\"><title>\(escape(description))</title>"
        guard !points.isEmpty, let maxValue = values.max() else {
            return svg + "<text x=\"\(Int(width / 2))\" y=\"\(Int(height / 2))\" text-anchor=\"middle\">no figures yet</text></svg>"
        }
        // Finite even over stored values near Double's limit, so every coordinate is a number.
        let ceiling = min(niceCeiling(max(maxValue, 1)), .greatestFiniteMagnitude)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func x(_ index: Int) -> Double { left + (points.count == 1 ? plotWidth / 2 : plotWidth * Double(index) / Double(points.count - 1)) }
        // A stored value no Double holds reads as infinity: drawn at the top, never as "inf".
        func y(_ value: Double) -> Double {
            let fraction = value / ceiling
            return top + plotHeight * (1 - (fraction.isFinite ? fraction : 1))
        }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        // Axes and gridlines at 0, half and the top.
        for fraction in [0.0, 0.5, 1.0] {
            let value = ceiling * fraction
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(value)))\" x2=\"\(f(width - right))\" y2=\"\(f(y(value)))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(f(left - 4))\" y=\"\(f(y(value) + 3))\" text-anchor=\"end\">\(escape(Words.value(value, line.unit)))</text>"
        }
        // Labels: every point when they fit, else every few (9px text is about 5.5px a character).
        let widest = Double(points.map { $0.label.replacingOccurrences(of: " (¼)", with: "").count }.max() ?? 1)
        let step = max(1, Int((Double(points.count) * (widest * 5.5 + 4) / plotWidth).rounded(.up)))
        for (index, point) in points.enumerated() where index % step == 0 || index == points.count - 1 {
            svg += "<text x=\"\(f(x(index)))\" y=\"\(f(height - bottom + 12))\" text-anchor=\"middle\">\(escape(point.label.replacingOccurrences(of: " (¼)", with: "")))</text>"
        }
        func path(_ pick: (PerformanceReport.Point) -> Double?) -> [String] {
            // Breaks where a value is missing, so a gap is not drawn as a line.
            var runs: [[String]] = [[]]
            for (index, point) in points.enumerated() {
                if let value = pick(point) { runs[runs.count - 1].append("\(f(x(index))),\(f(y(value)))") } else if !runs.last!.isEmpty { runs.append([]) }
            }
            return runs.filter { $0.count > 1 }.map { $0.joined(separator: " ") }
        }
        for run in path({ $0.target }) {
            svg += "<polyline points=\"\(run)\" fill=\"none\" stroke=\"#555\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>"
        }
        for run in path({ $0.actual }) {
            svg += "<polyline points=\"\(run)\" fill=\"none\" stroke=\"#1f4e9c\" stroke-width=\"2\"/>"
        }
        for (index, point) in points.enumerated() {
            if let value = point.actual {
                svg += "<circle cx=\"\(f(x(index)))\" cy=\"\(f(y(value)))\" r=\"3\" fill=\"\(point.baseline ? "#fff" : "#1f4e9c")\" stroke=\"#1f4e9c\"/>"
            }
        }
        svg += "<text x=\"\(f(left))\" y=\"\(f(height - 4))\">— figure (○ baseline)   - - target</text>"
        return svg + "</svg>"
    }

    /// 1, 2 or 5 times a power of ten, at or above `value`.
    private func niceCeiling(_ value: Double) -> Double {
        let magnitude = pow(10, floor(log10(value)))
        for factor in [1.0, 2.0, 5.0, 10.0] where factor * magnitude >= value { return factor * magnitude }
        return 10 * magnitude
    }
}

/// Text for HTML content and attribute values, control characters replaced (`printable`).
func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for ch in printable(text) {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(ch)
        }
    }
    return out
}

/// An id for HTML anchors: letters, digits, "-" and "_".
func anchor(_ text: String) -> String {
    "i-" + String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
}
