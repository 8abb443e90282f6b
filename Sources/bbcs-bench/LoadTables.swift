// The load benchmark's results as Markdown: every cell, the ratios to pgbench, the goals.
import Foundation

struct LoadTables {
    let options: LoadOptions
    let cells: [CellResult]
    /// pgbench's results by "work clients" ("show 8").
    let pgbench: [String: PgbenchResult]

    var markdown: String {
        var out = [header, "", cellTable]
        if !pgbench.isEmpty { out += ["", ratioTable] }
        out += ["", goalTable]
        return out.joined(separator: "\n")
    }

    private var header: String {
        let date = ISO8601DateFormatter().string(from: Date())
        return "bbcs-bench load, \(date): \(ProcessInfo.processInfo.activeProcessorCount) cores, \(options.seconds) s per cell, "
            + "bbcsd pool_size \(options.poolSize.map(String.init) ?? "default"); latencies in ms; CPU in microseconds per request"
    }

    private var cellTable: String {
        var rows = ["| work | clients | req/s | p50 | p99 | p99.9 | errors | bbcsd RSS | peak RSS | CPU bbcsd | CPU postgres | CPU bench |",
                    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for cell in cells {
            rows.append(row(cell.work.label, cell, cell.overall, errors: "\(cell.errors)",
                            memory: [DaemonMemory.text(cell.memory.resident), DaemonMemory.text(cell.memory.peak)],
                            cpu: [cell.cpuPerRequest.daemon, cell.cpuPerRequest.postgres, cell.cpuPerRequest.bench].map { grouped($0) }))
            guard cell.work == .mixed else { continue }
            for method in [Work.show, .tasks, .correct, .report] {
                guard let latencies = cell.byMethod[method] else { continue }
                rows.append(row("&nbsp;&nbsp;mixed: \(method.label)", cell, latencies, errors: "", memory: ["", ""], cpu: ["", "", ""]))
            }
        }
        return rows.joined(separator: "\n")
    }

    private func row(_ label: String, _ cell: CellResult, _ latencies: Latencies, errors: String, memory: [String], cpu: [String]) -> String {
        let throughput = cell.elapsed > 0 ? Double(latencies.totalCount) / cell.elapsed : 0
        let figures = [label, "\(cell.clients)", grouped(throughput)]
            + [50, 99, 99.9].map { String(format: "%.2f", milliseconds(latencies.valueAtPercentile($0))) }
            + [errors] + memory + cpu
        return "| " + figures.joined(separator: " | ") + " |"
    }

    private func result(_ work: Work, _ clients: Int) -> CellResult? { cells.first { $0.work == work && $0.clients == clients } }

    private func ratio(_ work: Work, _ clients: Int) -> Double? {
        guard let cell = result(work, clients), let base = pgbench["\(work.rawValue) \(clients)"], base.failed == nil,
              base.transactionsPerSecond > 0 else { return nil }
        return cell.throughput / base.transactionsPerSecond
    }

    private var ratioTable: String {
        var rows = ["| work | clients | bbcsd | pgbench, minimal SQL | bbcsd / pgbench |", "|---|---:|---:|---:|---:|"]
        for work in options.works {
            for clients in options.clients {
                guard let base = pgbench["\(work.rawValue) \(clients)"], let cell = result(work, clients) else { continue }
                let ours = "\(grouped(cell.throughput))/s (p99 " + String(format: "%.2f ms)", milliseconds(cell.overall.valueAtPercentile(99)))
                let theirs = base.failed ?? "\(grouped(base.transactionsPerSecond))/s"
                    + (base.averageLatencyMilliseconds.map { String(format: " (mean %.2f ms)", $0) } ?? "")
                rows.append("| \(work.label) | \(clients) | \(ours) | \(theirs) | \(ratio(work, clients).map { String(format: "%.2fx", $0) } ?? "-") |")
            }
        }
        return rows.joined(separator: "\n")
    }

    private var goalTable: String {
        var rows = ["| goal (issue 14) | measured | met |", "|---|---:|---|"]
        func goal(_ text: String, _ measured: Double?, _ format: String, _ met: (Double) -> Bool) {
            rows.append("| \(text) | \(measured.map { String(format: format, $0) } ?? "not measured") | \(measured.map { met($0) ? "yes" : "**no**" } ?? "-") |")
        }
        for clients in [8, 32] {
            goal("indicator.show >= 1.0x pgbench at \(clients) clients", ratio(.show, clients), "%.2fx") { $0 >= 1.0 }
        }
        for clients in [8, 32] {
            goal("figure.correct >= 0.6x pgbench at \(clients) clients", ratio(.correct, clients), "%.2fx") { $0 >= 0.6 }
        }
        goal("indicator.show p99 < 5 ms at 8 clients", result(.show, 8).map { milliseconds($0.overall.valueAtPercentile(99)) }, "%.2f ms") { $0 < 5 }
        for work in options.works {
            let scaling = result(work, 8).flatMap { eight in result(work, 32).map { $0.throughput / max(eight.throughput, 1e-9) } }
            goal("\(work.label) at 32 clients >= 0.9x its throughput at 8", scaling, "%.2fx") { $0 >= 0.9 }
        }
        return rows.joined(separator: "\n")
    }
}

/// A count as people write it: 20,901.
func grouped(_ value: Double) -> String {
    guard value.isFinite else { return "-" }
    let digits = String(Int(value.rounded()))
    var out = ""
    for (i, c) in digits.reversed().enumerated() {
        if i > 0 && i % 3 == 0 && c != "-" { out.append(",") }
        out.append(c)
    }
    return String(out.reversed())
}
