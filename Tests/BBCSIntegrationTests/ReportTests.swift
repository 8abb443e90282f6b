import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSReport
import BBCSTestSupport
import Foundation
import Testing

/// The performance report for a fixed dataset (the shipped plan, the figures and task
/// changes below) and a fixed clock, compared byte for byte with the files in Golden/.
/// After an intended change, regenerate them with BBCS_UPDATE_GOLDEN=1 swift test and
/// review the diff.
@Suite("performance report")
struct ReportTests {
    static let daemon: TestDaemon = {
        let daemon = try! TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])
        let c = try! daemon.client()
        let q1 = Period("2025/26 Q1")!, q2 = Period("2025/26 Q2")!
        _ = try! c.call(FigureSubmitRequest(code: "ComS_011", period: q1, value: 430, note: "Quiet spring"))
        _ = try! c.call(FigureSubmitRequest(code: "ComS_011", period: q2, value: 600, note: "Summer events, two large disorders"))
        _ = try! c.call(FigureSubmitRequest(code: "ComS_001", period: q2, value: 1700))
        _ = try! c.call(FigureValidateRequest(code: "ComS_001", period: q2))
        _ = try! c.call(FigureSubmitRequest(code: "ComS_012d", period: q2, value: 80, note: "Two late inspections"))
        _ = try! c.call(FigureCorrectRequest(code: "ComS_012d", period: q2, value: 77, reason: "Recount", revision: 1))
        _ = try! c.call(FigureSubmitRequest(code: "ComS_093a", period: q1, value: 12))
        _ = try! c.call(FigureSubmitRequest(code: "ComS_093a", period: q2, value: 9, note: "Fewer referrals over the summer"))
        _ = try! c.call(FigureSubmitRequest(code: "ComS_033", period: Period("2025/26")!, value: 81))
        _ = try! c.call(TaskUpdateRequest(code: "BCRPASB_27", status: .onTrack, progress: 60, note: "Drafts with legal"))
        _ = try! c.call(TaskRescheduleRequest(code: "BCRPASB_28", date: CalendarDate(iso: "2026-09-30")!, reason: "Awaiting new powers"))
        _ = try! c.call(TaskUpdateRequest(code: "BCRPASB_17", status: .completed, note: "Delivered with schools"))
        return daemon
    }()

    func report(_ objective: String? = nil) throws -> PerformanceReport {
        try Self.daemon.client().call(ReportRequest(period: Period("2025/26 Q2")!, objective: objective))
    }

    @Test(arguments: [ReportFormat.text, .markdown, .csv, .json])
    func matchesTheGoldenFile(_ format: ReportFormat) throws {
        let result = try Self.daemon.ctl(["report", "--period", "2025/26 Q2", "--format", format.rawValue])
        #expect(result.status == 0, "\(result.err)")
        let extensions: [ReportFormat: String] = [.text: "txt", .markdown: "md", .csv: "csv", .json: "json"]
        let golden = packageRoot.appendingPathComponent("Tests/BBCSIntegrationTests/Golden/report-2025-26-Q2.\(extensions[format]!)")
        if ProcessInfo.processInfo.environment["BBCS_UPDATE_GOLDEN"] == "1" {
            try result.out.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(result.out == expected, "\(format) differs from \(golden.lastPathComponent); if intended, regenerate with BBCS_UPDATE_GOLDEN=1")
    }

    @Test func theContentFollowsTheFigures() throws {
        let report = try report()
        let lines = Dictionary(uniqueKeysWithValues: report.sections.flatMap(\.indicators).map { ($0.code, $0) })
        #expect(report.sections.prefix(3).map(\.key) == ["CS1", "CS2", "CS3"])
        #expect(lines.count == shippedPlan.indicators.count)
        let asb = try #require(lines["ComS_011"])
        #expect(asb.value == 600 && asb.rag == .red && asb.sincePrevious == .worsening && asb.yearToDate == 1030)
        #expect(asb.commentary == "Summer events, two large disorders")
        #expect(lines["ComS_001"]?.validated == true)
        #expect(lines["ComS_012d"]?.revision == 2 && lines["ComS_012d"]?.rag == .red)
        #expect(lines["ComS_093a"]?.yearToDate == 21)
        #expect(lines["ComS_033"]?.period == Period("2025/26")!)              // annual: the year's figure
        #expect(lines["ComS_033"]?.dueDate == nil)
        let missing = try #require(lines["ComS_014"])
        #expect(missing.value == nil && missing.dueDate == CalendarDate(iso: "2025-10-30") && missing.overdue)
        #expect(Set(report.exceptions.red) == ["ComS_011", "ComS_012d", "ComS_093a"])
        #expect(report.exceptions.slippedTasks == ["BCRPASB_28"])
        #expect(!report.exceptions.overdueTasks.contains("BCRPASB_17"))       // completed
        let tasks = Dictionary(uniqueKeysWithValues: report.sections.flatMap(\.tasks).map { ($0.code, $0) })
        #expect(tasks["BCRPASB_27"]?.overdueDays == 101 && tasks["BCRPASB_27"]?.latestNote == "Drafts with legal")
        #expect(tasks["BCRPASB_28"]?.slippage == Slippage(times: 1, days: 183))
        #expect(report.summary.rag.values.reduce(0, +) == report.summary.indicators)
        #expect(report.risks.allSatisfy { $0.tasks.allSatisfy { tasks[$0] != nil } })
        // The chart: baseline years (a quarter of the annual figure for a quarterly count), then the quarters so far.
        #expect(asb.chart.map(\.label) == ["2021/22 (¼)", "2022/23 (¼)", "2023/24 (¼)", "2025/26 Q1", "2025/26 Q2"])
        #expect(asb.chart.last?.actual == 600 && asb.chart.last?.target == 462.5)
    }

    /// The earliest period text may name: the report answers, whatever it says, and the
    /// daemon keeps serving (its year before used to trap).
    @Test func theEarliestPeriodDoesNotStopTheDaemon() throws {
        let c = try Self.daemon.client()
        for text in ["1900/01", "1900/01 Q1"] {
            _ = Result { try c.call(ReportRequest(period: Period(text)!)) }
        }
        #expect(Self.daemon.process.isRunning)
        #expect(try c.call(HelloRequest()).server == "bbcsd")
    }

    @Test func anObjectiveLimitsTheReport() throws {
        let cs3 = try report("CS3")
        #expect(cs3.objective == "CS3")
        #expect(cs3.sections.first?.key == "CS3")
        #expect(cs3.sections.flatMap(\.indicators).allSatisfy { $0.objective == "CS3" })
        #expect(cs3.sections.flatMap(\.tasks).allSatisfy { $0.objective == "CS3" })
        #expect(try Self.daemon.client().error(ReportRequest(period: Period("2025/26 Q2")!, objective: "CS9"))?.code == .notFound)
        let bad = try Self.daemon.ctl(["report", "--period", "2025/27"])
        #expect(bad.status == 64)
    }

    @Test func htmlIsSelfContainedWithAChartAndABadgePerIndicator() throws {
        let dir = makeTemporaryDirectory("bbcs-report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("q2.html").path
        let result = try Self.daemon.ctl(["report", "--period", "2025/26 Q2", "--format", "html", "-o", file])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err.contains("wrote \(file)"))
        let html = try String(contentsOfFile: file, encoding: .utf8)
        for external in ["http://", "https://", "src=", "url(", "@import", "<script", "<link", "<img", "<iframe"] {
            #expect(!html.lowercased().contains(external), "the report refers to something outside it: \(external)")
        }
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<html lang=\"en-GB\">"))
        #expect(html.contains("@page{size:A4"))
        let report = try report()
        for line in report.sections.flatMap(\.indicators) {
            let start = try #require(html.range(of: "<article class=\"indicator\" id=\"i-\(line.code)\""), "\(line.code) has no entry")
            let entry = html[start.lowerBound...]
            let end = try #require(entry.range(of: "</article>"))
            let article = entry[..<end.upperBound]
            #expect(article.contains("<svg class=\"chart\" role=\"img\" aria-label="), "\(line.code) has no chart")
            #expect(article.contains("class=\"rag rag-\(line.rag.rawValue)\""), "\(line.code) has no RAG badge")
            // The badge says its status in words and a shape, not colour alone.
            #expect(article.contains(line.rag.rawValue.uppercased()))
        }
        #expect(html.contains("<th scope=\"col\">"))
        #expect(html.contains("<caption>"))
    }

    @Test func csvRowsAllHaveEveryColumn() throws {
        let csv = try Self.daemon.ctl(["report", "--period", "2025/26 Q2", "--format", "csv"]).out
        let rows = parseCSV(csv)
        #expect(rows.count == 1 + shippedPlan.indicators.count + shippedPlan.tasks.count)
        #expect(rows.allSatisfy { $0.count == rows[0].count })
        #expect(rows.contains { $0[1] == "indicator" && $0[3] == "ComS_011" && $0[8] == "600" && $0[10] == "red" })
    }
}

/// RFC 4180: quoted fields may hold commas, doubled quotes and line breaks.
func parseCSV(_ text: String) -> [[String]] {
    var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
    var chars = Array(text)[...]
    while let ch = chars.popFirst() {
        if quoted {
            if ch == "\"" { if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false } } else { field.append(ch) }
        } else if ch == "\"" { quoted = true }
        else if ch == "," { row.append(field); field = "" }
        else if ch == "\r\n" || ch == "\n" { row.append(field); rows.append(row); row = []; field = "" }
        else if ch != "\r" { field.append(ch) }
    }
    if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
    return rows
}
