// The benchmarks. `bbcs-bench load [options]`: the load benchmark of bbcsd against pgbench
// (LoadBenchmark.swift). `bbcs-bench import [--rows N]`: a figures CSV import (ImportBenchmark.swift).
// `bbcs-bench [report] [scale]`: the performance report on a synthetic
// plan 100 times the shipped one (about 6,500 indicators with ten years of quarterly or annual
// figures, 3,300 key tasks) in a private PostgreSQL cluster, served by the real bbcsd; prints
// the report's time and the daemon's peak memory. Run: swift run -c release bbcs-bench [scale]
import BBCSClient
import BBCSCore
import BBCSDevCluster
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "load" { LoadBenchmark.main(Array(arguments.dropFirst())) }
if arguments.first == "import" { ImportBenchmark.main(Array(arguments.dropFirst())) }
if arguments.first == "report" { arguments.removeFirst() }
let scale = arguments.first.flatMap(Int.init) ?? 100
guard FileManager.default.fileExists(atPath: shippedPlanURL.path) else { say("run it from a build of the bbcs checkout"); exit(1) }
let work = makeTemporaryDirectory("bbcs-bench")
defer { try? FileManager.default.removeItem(at: work) }

// 1. The synthetic plan: every indicator and task copied `scale` times under new codes.
let shipped = shippedPlan
var plan = shipped
plan.indicators = (0..<scale).flatMap { copy in
    shipped.indicators.map { indicator in
        var i = indicator
        i.code = copy == 0 ? indicator.code : "\(indicator.code).\(copy)"
        i.aliases = copy == 0 ? indicator.aliases : []
        i.parent = indicator.parent.map { copy == 0 ? $0 : "\($0).\(copy)" }
        return i
    }
}
plan.tasks = (0..<scale).flatMap { copy in
    shipped.tasks.map { task in
        var t = task
        t.code = copy == 0 ? task.code : "\(task.code).\(copy)"
        t.aliases = copy == 0 ? task.aliases : []
        return t
    }
}
let planFile = work.appendingPathComponent("plan.json")
try JSONEncoder().encode(plan).write(to: planFile)
say("synthetic plan: \(plan.indicators.count) indicators, \(plan.tasks.count) tasks")

// 2. A private cluster and the real daemon, which imports the plan at start.
let bench = try BenchDaemon(work: work, planFile: planFile)
defer { bench.stop() }
let daemon = bench.daemon
let client: Client? = bench.client

// 3. Ten years of figures, straight into the database.
let db = try PGConnection(conninfo: bench.cluster.conninfo)
try db.execute("""
    INSERT INTO figures (indicator_id, period, revision, value, note, submitted_by, submitted_at)
    SELECT i.id, y || '/' || lpad(((y + 1) % 100)::text, 2, '0') || CASE WHEN i.frequency = 'quarterly' THEN ' Q' || q ELSE '' END,
           1, floor(random() * 100), CASE WHEN random() < 0.3 THEN 'synthetic commentary' END, 'bench', now()
    FROM indicators i CROSS JOIN generate_series(2016, 2025) y CROSS JOIN generate_series(1, 4) q
    WHERE i.frequency = 'quarterly' OR q = 1
    """)
try db.execute("ANALYZE")
let figures = try db.one(Int.self, "SELECT count(*) FROM figures")
say("\(figures) figures")

func peakMemory() -> String {
    let status = (try? String(contentsOfFile: "/proc/\(daemon.pid)/status", encoding: .utf8)) ?? ""
    return status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.map { $0.dropFirst(6).trimmingCharacters(in: .whitespaces) } ?? "unknown"
}
let peakBefore = peakMemory()

// 4. The report, timed: built (the first call, and each call after a change to the
// database) and kept (the same database state again: the daemon answers the bytes it kept).
func timedReport(_ client: Client) throws -> (seconds: Double, bytes: Int) {
    let t0 = Date()
    let line = try client.exchange(rawLine: Data(#"{"id":1,"method":"report.build","params":{"period":"2025/26 Q2"}}"#.utf8))
    return (Date().timeIntervalSince(t0), line.count)
}
func summary(_ times: [Double]) -> String {
    let sorted = times.sorted()
    return String(format: "min %.3f s, median %.3f s, max %.3f s over %d runs", sorted[0], sorted[sorted.count / 2], sorted[sorted.count - 1],
                  sorted.count)
}
var built: [Double] = [], kept: [Double] = []
var bytes = 0
for run in 0..<5 {
    if run > 0 {
        // A change, as any write makes one: the next report is built afresh.
        try db.execute("UPDATE figures SET note = \("bench run \(run)") WHERE id = (SELECT min(id) FROM figures)")
    }
    let first = try timedReport(client!)
    built.append(first.seconds)
    bytes = first.bytes
    for _ in 0..<3 { kept.append(try timedReport(client!).seconds) }
}
print("indicators \(plan.indicators.count), tasks \(plan.tasks.count), figures \(figures)")
print(String(format: "report.build reply %.1f MB", Double(bytes) / 1_048_576))
print("report.build built (first call after a change): \(summary(built))")
print("report.build kept (database unchanged): \(summary(kept))")
print("bbcsd peak resident memory (VmHWM): \(peakBefore) after start and plan import, \(peakMemory()) after the reports")
