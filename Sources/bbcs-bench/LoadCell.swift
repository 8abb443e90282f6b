// One cell of the load benchmark: N threads, each with its own connection, in a closed loop
// for a fixed time, timing every request into its own histograms, merged at the end.
import BBCSTestSupport
import Foundation
import Histogram
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The indicator-period whose figure one client corrects, with the revision the last reply gave.
struct Slot: Sendable {
    let code: String
    let period: String
    var revision: Int
}

/// Every client's slot, read when a cell starts and written back when it ends, so the next
/// cell carries on from the revisions the last one reached.
final class SlotTable: Sendable {
    private let slots: Mutex<[Slot]>
    init(_ slots: [Slot]) { self.slots = Mutex(slots) }
    subscript(index: Int) -> Slot? {
        get { slots.withLock { index < $0.count ? $0[index] : nil } }
        set { if let newValue { slots.withLock { if index < $0.count { $0[index] = newValue } } } }
    }
}

/// The request lines the clients send, built once.
struct Requests: Sendable {
    let shows: [[UInt8]]
    let tasks: [UInt8]
    let report: [UInt8]

    init(indicatorCodes: [String], reportPeriod: String) {
        shows = indicatorCodes.map { Self.line("indicator.show", #"{"code":"\#($0)"}"#) }
        tasks = Self.line("task.list", "{}")
        report = Self.line("report.build", #"{"period":"\#(reportPeriod)"}"#)
    }

    func correct(_ slot: Slot, value: Int) -> [UInt8] {
        Self.line("figure.correct", #"""
            {"code":"\#(slot.code)","period":"\#(slot.period)","value":\#(value),"revision":\#(slot.revision),"reason":"load benchmark","note":"load benchmark"}
            """#)
    }

    func history(_ slot: Slot) -> [UInt8] {
        Self.line("figure.history", #"{"code":"\#(slot.code)","period":"\#(slot.period)"}"#)
    }

    // Codes and periods come from the plan and the daemon (letters, digits, `_.&-/ `): nothing to escape.
    private static func line(_ method: String, _ params: String) -> [UInt8] {
        Array(#"{"id":1,"method":"\#(method)","params":\#(params)}"#.utf8) + [UInt8(ascii: "\n")]
    }
}

/// The latest revision a `figure.correct` or `figure.history` reply names.
enum RevisionReply {
    private struct Figure: Decodable { let revision: Int }
    private struct Status: Decodable { let figure: Figure? }
    private struct Corrected: Decodable { struct Result: Decodable { let status: Status }; let result: Result? }
    private struct History: Decodable { struct Result: Decodable { let revisions: [Figure] }; let result: History.Result? }

    static func corrected(_ line: ArraySlice<UInt8>) -> Int? {
        (try? JSONDecoder().decode(Corrected.self, from: Data(line)))?.result?.status.figure?.revision
    }

    static func history(_ line: ArraySlice<UInt8>) -> Int? {
        (try? JSONDecoder().decode(History.self, from: Data(line)))?.result?.revisions.map(\.revision).max()
    }
}

/// Latencies in microseconds, 1 us to 100 s, three significant digits.
typealias Latencies = Histogram<UInt64>
func newLatencies() -> Latencies { Latencies(lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000, numberOfSignificantValueDigits: .three) }

/// What one client did in a cell.
struct ClientTally: Sendable {
    var latencies: [Work: Latencies] = [:]
    var errors = 0
    var firstError: String?
    var slot: Slot?

    mutating func record(_ work: Work, microseconds: UInt64) {
        _ = latencies[work, default: newLatencies()].record(max(microseconds, 1))
    }

    mutating func fail(_ message: String) {
        errors += 1
        if firstError == nil { firstError = message }
    }
}

/// One load client: its connection, its share of the codes and its slot.
struct LoadClient {
    let index: Int
    let work: Work
    let requests: Requests

    /// The mixed cell's cycle of twenty requests: 16 indicator.show, 2 task.list, 1
    /// figure.correct, 1 report.build; each client starts at its own place in it, so the
    /// reports do not all arrive together.
    func mixed(_ k: Int) -> Work {
        switch (k &+ index &* 7) % 20 {
        case 1: return .correct
        case 2, 12: return .tasks
        case 3: return .report
        default: return .show
        }
    }

    /// Sends requests until `stop` is set; a broken connection ends the loop.
    func run(_ connection: LoadConnection, slot: Slot?, stop: borrowing Atomic<Bool>) -> ClientTally {
        var tally = ClientTally(slot: slot)
        var k = 0
        while !stop.load(ordering: .relaxed) {
            let kind = work == .mixed ? mixed(k) : work
            let request: [UInt8]
            switch kind {
            case .show: request = requests.shows[(index &* 17 &+ k) % requests.shows.count]
            case .tasks: request = requests.tasks
            case .report: request = requests.report
            case .correct, .mixed:
                guard let current = tally.slot else { tally.fail("no figure to correct"); return tally }
                request = requests.correct(current, value: k % 90 + 1)
            }
            let started = DispatchTime.now().uptimeNanoseconds
            let line: ArraySlice<UInt8>
            do {
                line = try connection.exchange(request)
            } catch {
                tally.fail("\(error)")
                return tally
            }
            tally.record(kind, microseconds: (DispatchTime.now().uptimeNanoseconds - started) / 1000)
            if ReplyLine.isError(line) {
                tally.fail(String(decoding: line.prefix(300), as: UTF8.self))
                if kind == .correct, let current = tally.slot { tally.slot?.revision = resynchronised(current, connection) ?? current.revision }
            } else if kind == .correct, let current = tally.slot {
                tally.slot?.revision = RevisionReply.corrected(line) ?? current.revision + 1
            }
            k += 1
        }
        return tally
    }

    /// The slot's current revision read again after a refused correction (untimed).
    private func resynchronised(_ slot: Slot, _ connection: LoadConnection) -> Int? {
        (try? connection.exchange(requests.history(slot))).flatMap(RevisionReply.history)
    }
}

/// CPU used by the benchmark itself, in microseconds.
func ownCPUMicroseconds() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func us(_ t: timeval) -> Int { t.tv_sec * 1_000_000 + Int(t.tv_usec) }
    return us(usage.ru_utime) + us(usage.ru_stime)
}

/// CPU used by PostgreSQL: the postmaster's children (backends, WAL writer, checkpointer).
func postgresCPUMicroseconds(postmaster: pid_t) -> Int {
    let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return processes.compactMap { name in pid_t(name).flatMap { ProcessStat(pid: $0) } }.filter { $0.parent == postmaster }.reduce(0) { $0 + $1.cpuMicroseconds }
}

/// What a cell measured.
struct CellResult {
    let work: Work
    let clients: Int
    let elapsed: Double
    /// Every request's latency, and each method's apart (for the mixed cell).
    let overall: Latencies
    let byMethod: [Work: Latencies]
    let errors: Int
    let firstError: String?
    let memory: DaemonMemory
    /// CPU microseconds per request: bbcsd, PostgreSQL, this program.
    let cpuPerRequest: (daemon: Double, postgres: Double, bench: Double)

    var requests: UInt64 { overall.totalCount }
    var throughput: Double { elapsed > 0 ? Double(requests) / elapsed : 0 }
}

/// Runs one cell: connects every client, starts them together, stops them after `seconds`.
/// `slots[i]` is client i's figure; each client's last revision is written back.
func runCell(_ work: Work, clients: Int, seconds: Int, socket: String, requests: Requests,
             slots: SlotTable, daemonPID: pid_t, postmaster: pid_t) -> CellResult {
    final class Shared: Sendable {
        let stop = Atomic<Bool>(false)
        let tallies = Mutex<[ClientTally]>([])
        let ready = DispatchGroup()
        let done = DispatchGroup()
        let gate = DispatchSemaphore(value: 0)
    }
    let shared = Shared()
    for index in 0..<clients {
        let slot = slots[index]
        shared.ready.enter()
        shared.done.enter()
        let thread = Thread {
            defer { shared.done.leave() }
            let connection: LoadConnection
            do {
                connection = try LoadConnection(socketPath: socket)
            } catch {
                var tally = ClientTally(slot: slot)
                tally.fail("\(error)")
                shared.tallies.withLock { $0.append(tally) }
                shared.ready.leave()
                return
            }
            shared.ready.leave()
            shared.gate.wait()
            let tally = LoadClient(index: index, work: work, requests: requests).run(connection, slot: slot, stop: shared.stop)
            shared.tallies.withLock { $0.append(tally) }
            slots[index] = tally.slot
        }
        thread.start()
    }
    shared.ready.wait()
    let before = (daemon: ProcessStat(pid: daemonPID)?.cpuMicroseconds ?? 0, postgres: postgresCPUMicroseconds(postmaster: postmaster), bench: ownCPUMicroseconds())
    let started = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<clients { shared.gate.signal() }
    Thread.sleep(forTimeInterval: Double(seconds))
    shared.stop.store(true, ordering: .relaxed)
    shared.done.wait()
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    let after = (daemon: ProcessStat(pid: daemonPID)?.cpuMicroseconds ?? 0, postgres: postgresCPUMicroseconds(postmaster: postmaster), bench: ownCPUMicroseconds())

    let tallies = shared.tallies.withLock { $0 }
    var byMethod: [Work: Latencies] = [:]
    var overall = newLatencies()
    for tally in tallies {
        for (method, latencies) in tally.latencies {
            byMethod[method, default: newLatencies()].add(latencies)
            overall.add(latencies)
        }
    }
    let count = Double(max(overall.totalCount, 1))
    return CellResult(work: work, clients: clients, elapsed: elapsed, overall: overall, byMethod: byMethod,
                      errors: tallies.reduce(0) { $0 + $1.errors }, firstError: tallies.lazy.compactMap(\.firstError).first,
                      memory: DaemonMemory(pid: daemonPID),
                      cpuPerRequest: (Double(after.daemon - before.daemon) / count, Double(after.postgres - before.postgres) / count,
                                      Double(after.bench - before.bench) / count))
}
