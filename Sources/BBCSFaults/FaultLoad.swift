import BBCSClient
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The indicator-period one writer corrects, and no one else: its replies can never be real conflicts.
struct Slot: Sendable {
    let code: String
    let period: String
    let revision: Int
}

/// One reader request's time, and whether it was answered with a result.
struct ReadRecord: Sendable {
    let sentAt: Double
    let elapsed: Double
    let answered: Bool
}

/// Writers correcting their own figures over the real socket and readers asking for
/// `objective.list` and `system.hello`, each on a thread and a connection of its own, until
/// `finish()`. A broken connection is opened again; after any reply but `ok` a writer reads
/// its figure's revision again before it writes.
final class FaultLoad: Sendable {
    private let socket: String
    private let prefix: String
    private let replyTimeout: Int
    private let started = ContinuousClock.now
    private let stop = Atomic<Bool>(false)
    private let done = DispatchGroup()
    private let writes = Mutex<[WriteRecord]>([])
    private let reads = Mutex<[ReadRecord]>([])

    /// `prefix` starts every write's note (so the checker finds exactly this run's writes).
    init(socket: String, prefix: String, replyTimeout: Int) {
        self.socket = socket
        self.prefix = prefix
        self.replyTimeout = replyTimeout
    }

    /// Seconds since the load was created.
    var now: Double { seconds(ContinuousClock.now - started) }

    func start(slots: [Slot], readers: Int) {
        for (index, slot) in slots.enumerated() {
            done.enter()
            Thread { [self] in
                defer { done.leave() }
                write(index, slot)
            }.start()
        }
        for index in 0..<readers {
            done.enter()
            Thread { [self] in
                defer { done.leave() }
                read(index)
            }.start()
        }
    }

    /// Stops every writer and reader after its current request; returns what they recorded.
    func finish() -> (writes: [WriteRecord], reads: [ReadRecord]) {
        stop.store(true, ordering: .relaxed)
        done.wait()
        return (writes.withLock { $0 }, reads.withLock { $0 })
    }

    /// The writes recorded so far.
    var writesSoFar: [WriteRecord] { writes.withLock { $0 } }

    private func write(_ index: Int, _ slot: Slot) {
        var connection: LoadConnection?
        var revision = slot.revision
        var resynchronise = false
        var k = 0
        let history = Self.line("figure.history", #"{"code":"\#(slot.code)","period":"\#(slot.period)"}"#)
        while !stop.load(ordering: .relaxed) {
            guard let open = connection ?? (try? LoadConnection(socketPath: socket, replyTimeout: replyTimeout)) else {
                usleep(100_000)
                continue
            }
            connection = open
            if resynchronise {
                // When the history cannot be read, the write goes with the revision last known:
                // at worst a true conflict, which the checker holds to "not stored" all the same.
                do {
                    if let latest = Self.latestRevision(try open.exchange(history)) {
                        revision = latest
                        resynchronise = false
                    }
                } catch {
                    connection = nil
                    continue
                }
            }
            k += 1
            let note = "\(prefix) w\(index) n\(k)"
            let request = Self.line("figure.correct", #"""
                {"code":"\#(slot.code)","period":"\#(slot.period)","value":\#(k),"revision":\#(revision),"reason":"fault suite","note":"\#(note)"}
                """#)
            let sentAt = now
            let reply: Reply
            do {
                reply = Reply(line: try open.exchange(request))
            } catch {
                reply = .noReply("\(error)")
                connection = nil
            }
            writes.withLock { $0.append(WriteRecord(note: note, sentAt: sentAt, elapsed: now - sentAt, reply: reply)) }
            if case .ok(let stored) = reply {
                revision = stored ?? revision + 1
            } else {
                resynchronise = true
                // Not a tight loop against a daemon that refuses everything.
                usleep(20_000)
            }
        }
    }

    private func read(_ index: Int) {
        var connection: LoadConnection?
        let requests = [Self.line("objective.list", "{}"), Self.line("system.hello", "{}")]
        var k = index
        while !stop.load(ordering: .relaxed) {
            guard let open = connection ?? (try? LoadConnection(socketPath: socket, replyTimeout: replyTimeout)) else {
                usleep(100_000)
                continue
            }
            connection = open
            k += 1
            let sentAt = now
            var answered = false
            do {
                answered = Reply(line: try open.exchange(requests[k % 2])) == .ok(revision: nil)
            } catch {
                connection = nil
            }
            reads.withLock { $0.append(ReadRecord(sentAt: sentAt, elapsed: now - sentAt, answered: answered)) }
            usleep(answered ? 10_000 : 50_000)
        }
    }

    /// The highest revision a `figure.history` reply lists.
    private static func latestRevision(_ line: ArraySlice<UInt8>) -> Int? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
              let revisions = (object["result"] as? [String: Any])?["revisions"] as? [[String: Any]] else { return nil }
        return revisions.compactMap { $0["revision"] as? Int }.max()
    }

    // Codes, periods and notes are letters, digits, `_.&-/ `: nothing to escape.
    private static func line(_ method: String, _ params: String) -> [UInt8] {
        Array(#"{"id":1,"method":"\#(method)","params":\#(params)}"#.utf8) + [UInt8(ascii: "\n")]
    }
}

func seconds(_ duration: Duration) -> Double {
    let (s, atto) = duration.components
    return Double(s) + Double(atto) / 1e18
}

extension FaultDaemon {
    /// Submits revision 1 of `count` figures for periods already ended, one per writer, and returns them.
    func submitSlots(_ count: Int) throws -> [Slot] {
        let client = try Client(socketPath: socket)
        let owed = try client.call(FigureDueRequest(all: true)).figures.filter { !$0.open }
        guard owed.count >= count else {
            throw FaultSetupError("the plan has \(owed.count) indicator-periods to correct, fewer than the \(count) writers asked for")
        }
        return try owed.prefix(count).map { due in
            let stored = try client.call(FigureSubmitRequest(code: due.indicator, period: due.period, value: 50, note: "fault suite"))
            return Slot(code: stored.indicator, period: due.period.description, revision: stored.status.figure?.revision ?? 1)
        }
    }
}
