import BBCSCore
import Foundation

/// What the public site shows of one plan: its live position and what it has published.
public struct SitePlan: Sendable {
    public var plan: ReportedPlan
    /// The report of the latest quarter ended, as of the day the site is built.
    public var live: PerformanceReport
    /// The plan's current indicators and key tasks (retired ones are not shown).
    public var indicators: [IndicatorState]
    public var tasks: [TaskState]
    /// Its published reports, oldest first, each with its frozen HTML as stored.
    public var published: [(publication: Publication, html: String)]

    public init(plan: ReportedPlan, live: PerformanceReport, indicators: [IndicatorState], tasks: [TaskState],
                published: [(publication: Publication, html: String)]) {
        self.plan = plan; self.live = live; self.indicators = indicators; self.tasks = tasks; self.published = published
    }
}

/// The public performance site: static HTML (no scripts), one stylesheet, and the open data
/// beside it. Only what is public: figures an administrator validated (unless
/// `showUnvalidated`), the plan's own wording, posts by title, the frozen published reports;
/// never logins, e-mail addresses or the audit trail. Pure: the same inputs give the same files.
public struct PublicSite: Sendable {
    public var plans: [SitePlan]
    /// When the site was built, as its pages say.
    public var builtAt: String
    public var showUnvalidated: Bool

    public init(plans: [SitePlan], builtAt: String, showUnvalidated: Bool) {
        self.plans = plans; self.builtAt = builtAt; self.showUnvalidated = showUnvalidated
    }

    /// Every file of the site by its path under the site's root.
    public func files() -> [String: String] {
        let pages = plans.map { PlanPages(site: $0, showUnvalidated: showUnvalidated, builtAt: builtAt) }
        var files: [String: String] = ["style.css": Self.style]
        files["index.html"] = index(pages)
        files["reports/index.html"] = reportsIndex()
        files["data/index.html"] = dataIndex()
        for plan in pages {
            files.merge(plan.files()) { $1 }
            for (publication, html) in plan.site.published { files["reports/\(slug(publication.number)).html"] = html }
        }
        return files
    }

    private func index(_ pages: [PlanPages]) -> String {
        var body = "<h1>Performance of the council's business plans</h1>\n"
        body += "<p class=\"meta\">Built \(escape(builtAt)). Figures are shown once the council has checked them"
            + (showUnvalidated ? "; this site also shows figures not yet checked, marked as such." : ".") + "</p>\n"
        for plan in pages {
            let site = plan.site, live = plan.live, code = plan.code
            body += "<section aria-labelledby=\"plan-\(code)\">\n<h2 id=\"plan-\(code)\">\(escape(site.plan.title))</h2>\n"
            body += "<p>\(escape(site.plan.council)), \(site.plan.firstYear) to \(site.plan.lastYear).</p>\n"
            if let latest = site.published.last?.publication {
                body += "<p>Latest published report: <a href=\"reports/\(slug(latest.number)).html\">\(escape(latest.number))</a>, "
                    + "for \(escape(latest.meeting)), \(latest.period).</p>\n"
            } else {
                body += "<p>No report has been published yet.</p>\n"
            }
            let counts = Self.ragCounts(plan.lines)
            body += "<h3>Live position, \(live.period), as at \(live.asAt)</h3>\n<ul class=\"counts\">"
                + RAG.allCases.map { "<li>\(siteBadge($0)) \(counts[$0, default: 0])</li>" }.joined() + "</ul>\n"
            body += siteTable(caption: "Objectives of \(site.plan.title)", headers: ["Objective", "Indicators", "Key tasks"], rows: site.plan.objectives.map { objective in
                ["<a href=\"\(code)/objectives/\(slug(objective.code)).html\">\(escape(objective.code)): \(escape(objective.title))</a>",
                 "\(site.indicators.filter { $0.objective == objective.code }.count)", "\(site.tasks.filter { $0.objective == objective.code }.count)"]
            })
            // The report's other sections (KPIs, MPIs, service data): every indicator is reachable from here.
            for section in live.sections where !section.indicators.isEmpty && !site.plan.objectives.contains(where: { $0.code == section.key }) {
                body += siteTable(caption: "\(section.title), \(live.period)", headers: ["Indicator", "Figure", "Target", "RAG"],
                                  rows: section.indicators.map { line in
                                      ["<a href=\"\(code)/indicators/\(slug(line.code)).html\">\(escape(line.code)): \(escape(line.title))</a>",
                                       escape(plan.figureText(line)), escape(Words.value(line.target, line.unit)), siteBadge(line.rag)]
                                  })
            }
            body += siteDataLinks(csv: "data/\(code)/report.csv", json: "data/\(code)/report.json", what: "the live position")
            body += "</section>\n"
        }
        body += "<p><a href=\"reports/index.html\">Every published report</a> · <a href=\"data/index.html\">Open data</a></p>\n"
        return sitePage(title: "Performance", depth: 0, body: body)
    }

    private func reportsIndex() -> String {
        let all = plans.flatMap(\.published).map(\.publication)
        var body = "<h1>Published reports</h1>\n<p>Each report is kept as it was published, byte for byte; its digest cites it.</p>\n"
        body += all.isEmpty ? "<p>No report has been published yet.</p>\n" : siteTable(
            caption: "Published reports, oldest first", headers: ["Report", "Plan", "Period", "Meeting", "Published", "SHA-256 of the HTML"],
            rows: all.map { p in
                ["<a href=\"\(slug(p.number)).html\">\(escape(p.number))</a>", escape(p.plan), p.period.description, escape(p.meeting),
                 escape(p.publishedAt), "<code>\(escape(p.htmlSHA256))</code>"]
            })
        return sitePage(title: "Published reports", depth: 1, body: body)
    }

    private func dataIndex() -> String {
        var body = "<h1>Open data</h1>\n<p>CSV files (UTF-8, one header row, ISO 8601 dates) described by CSV on the Web metadata, "
            + "under the <a href=\"\(OpenData.licence)\">Open Government Licence v3.0</a>.</p>\n"
        for site in plans {
            let code = slug(site.plan.code)
            body += siteTable(caption: "Open data of \(site.plan.title)", headers: ["File", "What it holds", "Metadata"], rows: [
                ["<a href=\"\(code)/figures.csv\">\(code)/figures.csv</a>", "every figure shown on the site, one line each",
                 "<a href=\"\(code)/figures.csv-metadata.json\">figures.csv-metadata.json</a>"],
                ["<a href=\"\(code)/report.csv\">\(code)/report.csv</a>", "the live position: one line per indicator and key task",
                 "<a href=\"\(code)/report.csv-metadata.json\">report.csv-metadata.json</a>"],
            ])
        }
        return sitePage(title: "Open data", depth: 1, body: body)
    }

    static func ragCounts(_ lines: [PerformanceReport.IndicatorLine]) -> [RAG: Int] {
        lines.reduce(into: [:]) { $0[$1.rag, default: 0] += 1 }
    }

    static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1a1a1a;margin:0 auto;max-width:60rem;padding:1rem;line-height:1.5}
        a{color:#0b4f9c}a:focus{outline:3px solid #fd0;outline-offset:1px}
        .skip{position:absolute;left:-10000px}.skip:focus{position:static}
        header nav ul,.counts{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1rem;margin:.3rem 0}
        h1{font-size:1.6rem}h2{font-size:1.3rem;border-bottom:2px solid #333;padding-bottom:.2rem;margin-top:2rem}h3{font-size:1.05rem}
        .meta{color:#444}
        .rag{display:inline-block;border:2px solid;border-radius:3px;padding:0 .3rem;font-size:.85rem;font-weight:700;white-space:nowrap}
        .rag-green{color:#0b6b2b;background:#e3f4e8}.rag-amber{color:#7a4a00;background:#fdf0d5}.rag-red{color:#9b1111;background:#fbe3e3}.rag-grey{color:#444;background:#eee}
        table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.6rem 0}caption{text-align:left;font-weight:600;padding:.2rem 0}
        th,td{border:1px solid #bbb;padding:.25rem .4rem;text-align:left;vertical-align:top}thead th{background:#eee}
        dl{display:grid;grid-template-columns:max-content auto;gap:.2rem .8rem}dt{font-weight:600}dd{margin:0}
        svg{max-width:100%;height:auto}svg text{font-size:9px;fill:#333}
        .data{font-size:.9rem}footer{margin-top:2rem;font-size:.85rem;color:#444;border-top:1px solid #ccc}
        """
}

/// The pages and data files of one plan.
struct PlanPages {
    let site: SitePlan
    let showUnvalidated: Bool
    let builtAt: String
    var code: String { slug(site.plan.code) }
    /// The live report as the public sees it: a figure not yet checked is left out (unless
    /// shown), with what rests on it; charts drawn from the public figures.
    private(set) var live: PerformanceReport
    /// Its indicator lines, every section's.
    var lines: [PerformanceReport.IndicatorLine] { live.sections.flatMap(\.indicators) }

    init(site: SitePlan, showUnvalidated: Bool, builtAt: String) {
        self.site = site
        self.showUnvalidated = showUnvalidated
        self.builtAt = builtAt
        live = site.live
        live.sections = live.sections.map { section in
            var section = section
            section.indicators = section.indicators.map(shown)
            return section
        }
    }

    func shown(_ line: PerformanceReport.IndicatorLine) -> PerformanceReport.IndicatorLine {
        var line = line
        if let indicator = site.indicators.first(where: { $0.code == line.code }) { line.chart = points(indicator) }
        guard !line.validated, !showUnvalidated, line.value != nil else { return line }
        line.value = nil; line.commentary = nil; line.rag = .grey; line.sincePrevious = nil; line.sinceYearEarlier = nil
        line.yearToDate = nil; line.forecast = nil; line.forecastRAG = nil; line.revision = nil; line.provisional = false
        return line
    }

    /// A public line's figure in words: one held back is "awaiting validation", not "not submitted".
    func figureText(_ line: PerformanceReport.IndicatorLine) -> String {
        let original = site.live.sections.lazy.flatMap(\.indicators).first { $0.code == line.code }
        if line.value == nil, let original, original.value != nil { return "awaiting validation" }
        // Shown before it was checked (site_unvalidated = "show"): said so beside it.
        return Words.figure(line) + (line.value != nil && !line.validated ? " (not yet validated)" : "")
    }

    /// Whether a period's figure is public.
    func isShown(_ figure: FigureRevision?) -> Bool { figure.map { showUnvalidated || $0.validatedBy != nil } ?? false }

    /// The chart's points from the indicator's periods: its public figures, or the plan's baseline.
    func points(_ indicator: IndicatorState) -> [PerformanceReport.Point] {
        rows(indicator).compactMap { status in
            let figure = isShown(status.figure) ? status.figure?.value : nil
            guard figure != nil || status.actual != nil || status.target != nil else { return nil }
            return PerformanceReport.Point(label: status.period.description, actual: figure ?? status.actual, target: status.target,
                                           baseline: figure == nil && status.actual != nil)
        }
    }

    /// The periods an indicator's page lists: its frequency's, with a target, a figure or a baseline.
    func rows(_ indicator: IndicatorState) -> [PeriodStatus] {
        indicator.statuses.filter { status in
            (indicator.frequency == .quarterly) == status.period.isQuarter || status.figure != nil || status.actual != nil
        }
    }

    func files() -> [String: String] {
        var files: [String: String] = [:]
        files["data/\(code)/report.csv"] = ReportFormat.csv.render(live)
        files["data/\(code)/report.csv-metadata.json"] = OpenData.report.metadata(csv: "report.csv", publisher: site.plan.council,
                                                                                 title: "\(site.plan.title): live position")
        files["data/\(code)/report.json"] = ReportFormat.json.render(live)
        var allFigures: [[String]] = []
        for indicator in site.indicators {
            let figures = rows(indicator).compactMap(\.figure).filter { isShown($0) }
            let cells = figures.map { FigureCSV.cells(plan: site.plan.code, code: indicator.code, $0) }
            allFigures += cells
            let path = "data/\(code)/indicators/\(slug(indicator.code))"
            files[path + ".csv"] = FigureCSV.render(cells)
            files[path + ".json"] = json(IndicatorData(indicator, rows: rows(indicator), isShown: isShown))
            files["\(code)/indicators/\(slug(indicator.code)).html"] = indicatorPage(indicator)
        }
        files["data/\(code)/figures.csv"] = FigureCSV.render(allFigures)
        files["data/\(code)/figures.csv-metadata.json"] = OpenData.figures.metadata(csv: "figures.csv", publisher: site.plan.council,
                                                                                   title: "\(site.plan.title): figures")
        let today = site.live.asAt
        for task in site.tasks {
            let path = "data/\(code)/tasks/\(slug(task.code))"
            let summary = task.summary(today: today)
            files[path + ".csv"] = csv(["plan", "code", "objective", "action", "status", "progress", "target_date", "completed_on",
                                        "slipped_times", "slipped_days", "responsible"],
                                       [[site.plan.code, task.code, task.objective, task.action, task.status.rawValue, "\(task.progress)",
                                         task.targetDate?.description ?? "", task.completedOn?.description ?? "", "\(task.slippage.times)",
                                         "\(task.slippage.days)", task.responsiblePosts.joined(separator: "; ")]])
            files[path + ".json"] = json(summary)
            files["\(code)/tasks/\(slug(task.code)).html"] = taskPage(task)
        }
        for objective in site.plan.objectives {
            let path = "data/\(code)/objectives/\(slug(objective.code))"
            let section = live.sections.first { $0.key == objective.code }
            let indicators = lines.filter { $0.objective == objective.code }, tasks = section?.tasks ?? []
            files[path + ".csv"] = csv(["plan", "objective", "record", "code", "title", "period", "figure", "target", "rag", "status", "progress"],
                                       indicators.map { [site.plan.code, objective.code, "indicator", $0.code, $0.title,
                                                                          $0.period.description, $0.value.map { FigureRules.format($0) } ?? "",
                                                                          $0.target.map { FigureRules.format($0) } ?? "", $0.rag.rawValue, "", ""] }
                                       + tasks.map { [site.plan.code, objective.code, "task", $0.code, $0.action, "", "", "", "",
                                                                       $0.status.rawValue, "\($0.progress)"] })
            files[path + ".json"] = json(ObjectiveData(code: objective.code, title: objective.title, period: site.live.period.description,
                                                       indicators: indicators, tasks: tasks))
            files["\(code)/objectives/\(slug(objective.code)).html"] = objectivePage(objective, indicators: indicators, tasks: tasks)
        }
        return files
    }

    private func objectivePage(_ objective: ReportedPlan.Objective, indicators: [PerformanceReport.IndicatorLine],
                               tasks: [PerformanceReport.TaskLine]) -> String {
        var body = "<h1>\(escape(objective.code)): \(escape(objective.title))</h1>\n"
        body += "<p class=\"meta\">\(escape(site.plan.title)). Live position, \(site.live.period), as at \(site.live.asAt).</p>\n"
        body += indicators.isEmpty ? "<p>This objective has no indicators.</p>\n" : siteTable(
            caption: "Indicators of \(objective.code), \(site.live.period)", headers: ["Indicator", "Figure", "Target", "RAG"],
            rows: indicators.map { line in
                ["<a href=\"../indicators/\(slug(line.code)).html\">\(escape(line.code)): \(escape(line.title))</a>",
                 escape(figureText(line)),
                 escape(Words.value(line.target, line.unit)), siteBadge(line.rag)]
            })
        body += tasks.isEmpty ? "<p>This objective has no key tasks.</p>\n" : siteTable(
            caption: "Key tasks of \(objective.code)", headers: ["Key task", "Status", "Progress", "Target date"],
            rows: tasks.map { task in
                ["<a href=\"../tasks/\(slug(task.code)).html\">\(escape(task.code)): \(escape(task.action))</a>",
                 escape(Words.status(task.status)), "\(task.progress)%", escape(task.targetDate?.description ?? task.targetText)]
            })
        body += siteDataLinks(csv: "../../data/\(code)/objectives/\(slug(objective.code)).csv",
                          json: "../../data/\(code)/objectives/\(slug(objective.code)).json", what: "this objective")
        return sitePage(title: "\(objective.code): \(objective.title)", depth: 2, body: body)
    }

    private func indicatorPage(_ indicator: IndicatorState) -> String {
        let line = lines.first { $0.code == indicator.code }
        var body = "<h1>\(escape(indicator.code)): \(escape(indicator.title))</h1>\n<dl>"
        if let objective = indicator.objective, site.plan.objectives.contains(where: { $0.code == objective }) {
            body += "<dt>Objective</dt><dd><a href=\"../objectives/\(slug(objective)).html\">\(escape(objective))</a></dd>"
        }
        body += "<dt>Owner</dt><dd>\(escape(indicator.ownerPost))</dd>"
        body += "<dt>Measured</dt><dd>\(escape(indicator.frequency.rawValue)), \(escape(indicator.unit.rawValue))</dd>"
        body += "<dt>Good performance</dt><dd>\(escape(Self.polarity(indicator.polarity)))</dd>"
        if let line {
            body += "<dt>\(site.live.period)</dt><dd>\(escape(figureText(line))) \(siteBadge(line.rag))</dd>"
            if let commentary = line.commentary, !commentary.isEmpty { body += "<dt>Commentary</dt><dd>\(escape(commentary))</dd>" }
        }
        body += "</dl>\n"
        if let line { body += "<figure>" + Chart(line: line).svg() + "</figure>\n" }
        body += siteTable(caption: "\(indicator.code): figures and targets by period", headers: ["Period", "Figure", "Target", "RAG", "Since previous", "Commentary"],
                      rows: rows(indicator).map { status in
                          let figure = isShown(status.figure) ? status.figure : nil
                          let value = figure.map { Words.value($0.value, indicator.unit) + ($0.revision > 1 ? " (revised)" : "") + ($0.provisional ? " (provisional)" : "")
                                  + ($0.validatedBy == nil ? " (not yet validated)" : "") }
                              ?? (status.figure != nil ? "awaiting validation" : status.actual.map { Words.value($0, indicator.unit) + " (plan baseline)" } ?? "-")
                          return [status.period.description, escape(value), escape(Words.value(status.target, indicator.unit)),
                                  siteBadge(figure == nil && status.actual == nil ? .grey : status.rag), escape(figure == nil ? "-" : Words.travel(status.sincePrevious)),
                                  escape(figure?.note ?? "")]
                      })
        body += siteDataLinks(csv: "../../data/\(code)/indicators/\(slug(indicator.code)).csv",
                          json: "../../data/\(code)/indicators/\(slug(indicator.code)).json", what: "this indicator")
        return sitePage(title: "\(indicator.code): \(indicator.title)", depth: 2, body: body)
    }

    private func taskPage(_ task: TaskState) -> String {
        var body = "<h1>\(escape(task.code)): \(escape(task.action))</h1>\n<dl>"
        if site.plan.objectives.contains(where: { $0.code == task.objective }) {
            body += "<dt>Objective</dt><dd><a href=\"../objectives/\(slug(task.objective)).html\">\(escape(task.objective))</a></dd>"
        }
        body += "<dt>Status</dt><dd>\(escape(Words.status(task.status))), \(task.progress)% complete</dd>"
        body += "<dt>Target date</dt><dd>\(escape(task.targetDate?.description ?? (task.targetText.isEmpty ? "-" : task.targetText)))</dd>"
        if let completed = task.completedOn { body += "<dt>Completed</dt><dd>\(completed)</dd>" }
        body += "<dt>Moved</dt><dd>\(escape(Words.slippage(task.slippage)))</dd>"
        body += "<dt>Responsible</dt><dd>\(escape(task.responsiblePosts.joined(separator: ", ")))</dd>"
        if !task.outcome.isEmpty { body += "<dt>Outcome sought</dt><dd>\(escape(task.outcome))</dd>" }
        if let note = task.latestNote, !note.isEmpty { body += "<dt>Latest progress</dt><dd>\(escape(note))</dd>" }
        body += "</dl>\n"
        body += siteDataLinks(csv: "../../data/\(code)/tasks/\(slug(task.code)).csv", json: "../../data/\(code)/tasks/\(slug(task.code)).json",
                          what: "this key task")
        return sitePage(title: "\(task.code): \(task.action)", depth: 2, body: body)
    }

    static func polarity(_ polarity: Polarity) -> String {
        switch polarity {
        case .higherIsBetter: "higher is better"
        case .lowerIsBetter: "lower is better"
        case .none: "no direction is set"
        }
    }

    private func json<T: Encodable>(_ value: T) -> String { ReportFormat.json(value) }

    private func csv(_ header: [String], _ rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(CSVReport.cell).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }
}

/// An objective's open data: its indicators (every section's) and key tasks, as the live position shows them.
struct ObjectiveData: Encodable {
    let code: String
    let title: String
    let period: String
    let indicators: [PerformanceReport.IndicatorLine]
    let tasks: [PerformanceReport.TaskLine]
}

/// An indicator's open data: what it is, and each period's target and public figure.
struct IndicatorData: Encodable {
    struct Row: Encodable {
        let period: String
        let target: Double?
        let figure: Double?
        let baseline: Double?
        let rag: String
        let commentary: String?
        let revision: Int?
        let provisional: Bool?
        let awaitingValidation: Bool
    }

    let code: String
    let title: String
    let objective: String?
    let owner: String
    let unit: String
    let polarity: String
    let frequency: String
    let periods: [Row]

    init(_ indicator: IndicatorState, rows: [PeriodStatus], isShown: (FigureRevision?) -> Bool) {
        code = indicator.code; title = indicator.title; objective = indicator.objective; owner = indicator.ownerPost
        unit = indicator.unit.rawValue; polarity = indicator.polarity.rawValue; frequency = indicator.frequency.rawValue
        periods = rows.map { status in
            let figure = isShown(status.figure) ? status.figure : nil
            return Row(period: status.period.description, target: status.target, figure: figure?.value, baseline: status.actual,
                       rag: (figure == nil && status.actual == nil ? RAG.grey : status.rag).rawValue, commentary: figure?.note,
                       revision: figure?.revision, provisional: figure?.provisional, awaitingValidation: status.figure != nil && figure == nil)
        }
    }
}

/// A site page: the shared header and footer around `body`, `depth` folders below the root.
func sitePage(title: String, depth: Int, body: String) -> String {
    let root = String(repeating: "../", count: depth)
    return """
        <!DOCTYPE html>
        <html lang="en-GB">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <link rel="stylesheet" href="\(root)style.css">
        <link rel="icon" href="data:,">
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        <header><nav aria-label="Site"><ul><li><a href="\(root)index.html">Performance</a></li><li><a href="\(root)reports/index.html">Published reports</a></li><li><a href="\(root)data/index.html">Open data</a></li></ul></nav></header>
        <main id="main">
        \(body)</main>
        <footer><p>Published under the Open Government Licence v3.0. Built by bbcs.</p></footer>
        </body>
        </html>

        """
}

/// A table with a caption, header cells scoped to their columns, and cells given as HTML.
func siteTable(caption: String, headers: [String], rows: [[String]]) -> String {
    "<table><caption>\(escape(caption))</caption><thead><tr>" + headers.map { "<th scope=\"col\">\(escape($0))</th>" }.joined()
        + "</tr></thead><tbody>" + rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined() + "</tbody></table>\n"
}

func siteDataLinks(csv: String, json: String, what: String) -> String {
    "<p class=\"data\">Data of \(escape(what)): <a href=\"\(csv)\">CSV</a> · <a href=\"\(json)\">JSON</a></p>\n"
}

func siteBadge(_ rag: RAG) -> String { "<span class=\"rag rag-\(rag.rawValue)\">\(escape(Words.rag(rag)))</span>" }

/// A code as a file name: letters, digits, ".", "-" and "_"; anything else becomes "-".
public func slug(_ code: String) -> String {
    String(code.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") ? $0 : "-" })
}
