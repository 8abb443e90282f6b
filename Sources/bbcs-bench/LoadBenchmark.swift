// `bbcs-bench load`: bbcsd under N concurrent connections in a closed loop, each work alone
// and mixed, against pgbench running the minimal SQL for the same work on the same cluster
// in the same run. Prints Markdown tables ready to paste into the README.
import BBCSClient
import BBCSCore
import BBCSDevCluster
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum LoadBenchmark {
    /// The quarter the report cells build (the same as the report benchmark's).
    static let reportPeriod = "2025/26 Q2"

    static func main(_ arguments: [String]) -> Never {
        guard let options = LoadOptions(arguments) else { exit(2) }
        guard FileManager.default.fileExists(atPath: shippedPlanURL.path) else { fail("run it from a build of the bbcs checkout") }
        let work = makeTemporaryDirectory("bbcs-bench-load")
        let maxClients = options.clients.max() ?? 1
        let bench: BenchDaemon
        do {
            // One uid opens every connection: lift the per-uid limit above the largest cell.
            bench = try BenchDaemon(work: work, planFile: shippedPlanURL, maxConnections: max(100, maxClients + 64),
                                    extraArguments: (options.poolSize.map { ["--pool-size", "\($0)"] } ?? [])
                                        + ["--metrics-textfile", work.appendingPathComponent(metricsFile).path],
                                    environment: ["BBCS_MAX_CONNECTIONS_PER_UID": "\(maxClients + 16)", "BBCS_METRICS_INTERVAL": "1"])
        } catch {
            fail("cannot start the cluster and bbcsd: \(error)")
        }
        let started = Date()
        do {
            try run(options, bench, work)
        } catch {
            bench.stop()
            fail("\(error)")
        }
        bench.stop()
        try? FileManager.default.removeItem(at: work)
        say(String(format: "done in %.0f s", Date().timeIntervalSince(started)))
        exit(0)
    }

    private static func run(_ options: LoadOptions, _ bench: BenchDaemon, _ work: URL) throws {
        let maxClients = options.clients.max() ?? 1
        let writes = options.works.contains(.correct) || options.works.contains(.mixed)
        let slots = SlotTable(try writes ? submitFigures(count: maxClients, bench.client) : [])
        let requests = Requests(indicatorCodes: shippedPlan.indicators.map(\.code), reportPeriod: reportPeriod)
        let postmaster = try bench.cluster.postmasterPID()
        let db = try PGConnection(conninfo: bench.cluster.conninfo)
        say("\(shippedPlan.indicators.count) indicators, \(shippedPlan.tasks.count) tasks; cells of \(options.seconds) s")

        var cells: [CellResult] = []
        let countedBefore = try requestsCounted(socket: bench.socket)
        var counted = countedBefore
        for kind in options.works {
            for clients in options.clients {
                let cell = runCell(kind, clients: clients, seconds: options.seconds, socket: bench.socket, requests: requests,
                                   slots: slots, daemonPID: bench.daemon.pid, postmaster: postmaster)
                say("\(kind.label) x \(clients): " + String(format: "%.0f req/s, p99 %.2f ms, ", cell.throughput,
                                                              milliseconds(cell.overall.valueAtPercentile(99)))
                    + "\(cell.errors) errors" + (cell.firstError.map { "; first: \($0)" } ?? ""))
                let now = try requestsCounted(socket: bench.socket)
                say("metrics: bbcs_requests_total +\(now - counted) over the cell (its clients counted \(cell.requests) answers and \(cell.errors) errors)")
                counted = now
                cells.append(cell)
            }
        }
        // The textfile is rewritten every second: wait for one written after the last cell.
        usleep(1_500_000)
        let file = (try? String(contentsOf: work.appendingPathComponent(metricsFile), encoding: .utf8)) ?? ""
        let metrics = "Metrics: bbcsd's bbcs_requests_total rose by \(counted - countedBefore) over the cells (its clients counted "
            + "\(cells.reduce(0) { $0 + Int($1.requests) + $1.errors }) replies, their connections' hellos aside); "
            + "the textfile (metrics_interval 1 s) then read \(requestsTotal(file)) in all."
        say(metrics)

        var pgbench: [String: PgbenchResult] = [:]
        if options.pgbench {
            let ids = try db.one(IndicatorIDs.self, "SELECT min(id) AS first, max(id) AS last FROM indicators")
            let bin = try blocking { await PostgresCluster.binDirectory() }
            let runner = Pgbench(program: bin + "/pgbench", conninfo: bench.cluster.conninfo, folder: work,
                                 firstIndicator: ids.first, lastIndicator: ids.last, login: currentLogin)
            for kind in options.works where runner.script(kind) != nil {
                for clients in options.clients {
                    guard let result = runner.run(kind, clients: clients, seconds: options.seconds) else { continue }
                    say("pgbench \(kind.label) x \(clients): " + (result.failed ?? String(format: "%.0f tps", result.transactionsPerSecond)))
                    pgbench["\(kind.rawValue) \(clients)"] = result
                }
            }
        }
        print(LoadTables(options: options, cells: cells, pgbench: pgbench).markdown + "\n\n" + metrics)
    }

    /// Where the daemon writes its metrics, in the work folder.
    static let metricsFile = "bbcs.prom"

    /// bbcs_requests_total over every method and outcome, as `system.metrics` tells it now.
    private static func requestsCounted(socket: String) throws -> Int {
        requestsTotal(try Client(socketPath: socket).call(MetricsRequest()).text)
    }

    /// The sum of bbcs_requests_total's series in Prometheus text.
    static func requestsTotal(_ text: String) -> Int {
        text.split(separator: "\n").filter { $0.hasPrefix("bbcs_requests_total{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +)
    }

    /// Submits revision 1 of `count` figures (periods already ended, one per client) and
    /// returns them as the clients' slots.
    private static func submitFigures(count: Int, _ client: Client) throws -> [Slot] {
        let owed = try client.call(FigureDueRequest(all: true)).figures.filter { !$0.open }
        guard owed.count >= count else {
            fail("the plan has \(owed.count) indicator-periods to correct, fewer than the \(count) clients asked for")
        }
        return try owed.prefix(count).map { due in
            let stored = try client.call(FigureSubmitRequest(code: due.indicator, period: due.period, value: 50, note: "load benchmark"))
            return Slot(code: stored.indicator, period: due.period.description, revision: stored.status.figure?.revision ?? 1)
        }
    }
}

private struct IndicatorIDs: Decodable {
    let first: Int
    let last: Int
}

func milliseconds(_ microseconds: UInt64) -> Double { Double(microseconds) / 1000 }
