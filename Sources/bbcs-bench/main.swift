// The benchmarks. `bbcs-bench load [options]`: the load benchmark of bbcsd against pgbench
// (LoadBenchmark.swift). `bbcs-bench [report] [scale]`: the performance report on a synthetic
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

// 4. The report, timed over several runs.
var times: [Double] = []
var bytes = 0
for _ in 0..<5 {
    let t0 = Date()
    let line = try client!.exchange(rawLine: Data(#"{"id":1,"method":"report.build","params":{"period":"2025/26 Q2"}}"#.utf8))
    times.append(Date().timeIntervalSince(t0))
    bytes = line.count
}
times.sort()
print("indicators \(plan.indicators.count), tasks \(plan.tasks.count), figures \(figures)")
print(String(format: "report.build: min %.3f s, median %.3f s, max %.3f s over %d runs; reply %.1f MB",
             times.first!, times[times.count / 2], times.last!, times.count, Double(bytes) / 1_048_576))
print("bbcsd peak resident memory (VmHWM): \(peakBefore) after start and plan import, \(peakMemory()) after the reports")
