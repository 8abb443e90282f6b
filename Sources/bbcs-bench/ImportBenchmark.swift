// `bbcs-bench import [--rows N] [--runs R]`: a figures CSV of N lines (first the shipped plan's
// open periods submitted, then corrected over and over with a reason) imported by the real
// bbcsd in one request, after a dry run of the same file; prints each run's time, lines per
// second and issue 17's goal (10,000 lines in under 5 s).
import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSTestSupport
import Foundation

enum ImportBenchmark {
    static func main(_ arguments: [String]) -> Never {
        func value(_ flag: String, _ fallback: Int) -> Int {
            guard let i = arguments.firstIndex(of: flag), i + 1 < arguments.count, let n = Int(arguments[i + 1]), n > 0 else { return fallback }
            return n
        }
        let rows = value("--rows", 10_000), runs = value("--runs", 3)
        if arguments.contains("--help") {
            print("bbcs-bench import [--rows N (10000)] [--runs R (3)]: time a figures import of N CSV lines, R times")
            exit(0)
        }
        let work = makeTemporaryDirectory("bbcs-bench-import")
        defer { try? FileManager.default.removeItem(at: work) }
        do {
            let bench = try BenchDaemon(work: work, planFile: shippedPlanURL)
            defer { bench.stop() }
            say("importing \(rows) lines, \(runs) runs")
            print("| run | lines | dry run s | import s | lines/s |")
            print("|---:|---:|---:|---:|---:|")
            var best = Double.infinity
            for run in 1...runs {
                let csv = file(rows: rows, run: run)
                let client = try Client(socketPath: bench.socket)
                let dryStart = ContinuousClock.now
                _ = try client.call(FigureImportRequest(content: csv, dryRun: true))
                let dry = ContinuousClock.now - dryStart
                let start = ContinuousClock.now
                let result = try client.call(FigureImportRequest(content: csv))
                let took = seconds(ContinuousClock.now - start)
                guard result.lines.count == rows else { fail("imported \(result.lines.count) of \(rows) lines") }
                best = min(best, took)
                print(String(format: "| %d | %d | %.2f | %.2f | %.0f |", run, rows, seconds(dry), took, Double(rows) / took))
            }
            print("")
            let goal = best < 5 * Double(rows) / 10_000 ? "met" : "NOT met"
            print("Goal: 10,000 lines in under 5 s: \(goal) (best " + String(format: "%.2f", best) + " s for \(rows) lines; bbcsd RSS "
                  + "\(DaemonMemory.text(bench.memory.resident)), peak \(DaemonMemory.text(bench.memory.peak)))")
        } catch {
            fail("\(error)")
        }
        exit(0)
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    /// `rows` lines over every quarter of 2025/26 and 2026/27 Q1 of the quarterly indicators
    /// (ended by the bench's clock, 10 July 2026): the first pass of the first run submits,
    /// every later line corrects with a reason; values stay within each unit's rules.
    static func file(rows: Int, run: Int) -> String {
        let quarterly = shippedPlan.indicators.filter { $0.frequency == .quarterly }
        let periods = (1...4).map { Period(startYear: 2025, quarter: $0) } + [Period(startYear: 2026, quarter: 1)]
        let slots = quarterly.flatMap { i in periods.map { (i, $0) } }
        var lines: [[String]] = []
        for n in 0..<rows {
            let (indicator, period) = slots[n % slots.count]
            let pass = (run - 1) * (rows / slots.count + 1) + n / slots.count
            let value = Double(10 + (pass * 7 + n) % 80)
            lines.append([shippedPlan.plan.code, indicator.code, period.description, period.start.description, period.end.description,
                          FigureRules.format(value), "bench pass \(pass)", "", "no", pass == 0 ? "" : "bench correction \(pass)"])
        }
        return FigureCSV.render(lines)
    }
}
