import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `watch.subscribe` and `bbcsctl watch` against real daemons over their real sockets: two
/// daemons on one database, real Unix users for who sees what.
@Suite("watch", .serialized)
struct WatchTests {
    static let ownerPost = "Head of Communities and Community Safety"  // owns ComS_011 (CS1), ComS_007 (CS2)
    static let otherPost = "Head of Environmental Health, Licensing and Private Sector Housing"  // owns ComS_038 (CS2)
    static let otherAlias = "head of environmental health licensing and private sector housing"

    /// Records a change as the daemons' writes do, in the `changes` table.
    @discardableResult
    static func record(_ db: PGConnection, _ kind: Change.Kind, login: String = "alice", indicatorID: Int? = nil,
                       _ detail: [String: JSONValue]) throws -> Int64 {
        try ChangeLog.record(db, kind, indicatorID: indicatorID, login: login, detail: .object(detail))
    }

    static func figure(_ code: String, objective: String, owner: String, revision: Int = 1, value: Double = 1) -> [String: JSONValue] {
        ["indicator": .string(code), "objective": .string(objective), "ownerPost": .string(owner), "period": .string("2025/26 Q1"),
         "revision": .number(Double(revision)), "value": .number(value), "late": .bool(false)]
    }

    static func task(_ code: String, objective: String, posts: [String]) -> [String: JSONValue] {
        ["task": .string(code), "objective": .string(objective), "posts": .array(posts.map(JSONValue.string)), "status": .string("on_track"),
         "progress": .number(40), "targetDate": .string("2026-06-30"), "oldDate": .string("2026-03-31")]
    }

    static func reminder(to login: String) -> [String: JSONValue] {
        ["reminder": .number(7), "reminderKind": .string("task_due"), "subject": .string("BCRPASB_27"), "recipient": .string(login),
         "dueDate": .string("2026-03-31"), "step": .string("7"), "email": .string("\(login)@example.org")]
    }

    /// A correction made through daemon A is printed by `bbcsctl watch` (text and --json)
    /// connected to daemon B on the same database, within 1 s; stopping B ends both clearly.
    @Test func correctionThroughOneDaemonIsPrintedByWatchOnAnother() throws {
        let a = try TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])
        let b = try TestDaemon(database: a.database, plan: nil)
        let db = try PGConnection(conninfo: a.database)
        let text = try Watching(b, [])
        let json = try Watching(b, ["--json", "--kinds", "figure_corrected"])

        let c = try a.client()
        _ = try c.call(FigureSubmitRequest(code: "ComS_011", period: Period("2025/26 Q1")!, value: 120))
        let started = ContinuousClock.now
        _ = try c.call(FigureCorrectRequest(code: "ComS_011", period: Period("2025/26 Q1")!, value: 118, reason: "double count", revision: 1))

        let expected = "figure corrected ComS_011 2025/26 Q1 r2: 120 → 118 by \(currentLogin) (double count)"
        let line = try text.waitForLine { $0.contains(expected) }
        let elapsed = ContinuousClock.now - started
        print("watch: a correction through daemon A printed by bbcsctl watch on daemon B after \(elapsed)")
        #expect(elapsed < .seconds(1), "\(line)")
        #expect(line.range(of: #"^\d\d:\d\d:\d\d "#, options: .regularExpression) != nil, "\(line)")

        let event = try json.waitForLine { $0.hasPrefix("{") && $0.contains("figure_corrected") }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any], "\(event)")
        let fields = try #require(object["detail"] as? [String: Any])
        #expect(object["kind"] as? String == "figure_corrected" && object["login"] as? String == currentLogin)
        #expect(fields["indicator"] as? String == "ComS_011" && fields["previousValue"] as? Double == 120 && fields["value"] as? Double == 118)
        #expect((object["seq"] as? Int ?? 0) > 0 && object["at"] is String)

        b.process.stop()
        for watcher in [text, json] {
            let status = watcher.process.wait()
            #expect(status == 75 && watcher.output.contains("bbcsd is stopping"), "\(status): \(watcher.output)")
        }
    }

    /// Objective, owner (by alias) and kinds each keep exactly the events they name; a kind
    /// that is not one, or a post that does not exist, is refused naming it.
    @Test func filtersKeepWhatTheyName() throws {
        let daemon = try TestDaemon()
        let db = try PGConnection(conninfo: daemon.database)
        let byObjective = try EventReader(daemon, WatchSubscribeRequest(objective: "cs1"))
        let byOwner = try EventReader(daemon, WatchSubscribeRequest(owner: Self.otherAlias))
        let byKinds = try EventReader(daemon, WatchSubscribeRequest(kinds: ["target_set", "task_rescheduled"]))
        #expect(byObjective.subscribed.objective == "CS1" && byOwner.subscribed.owner == Self.otherPost)
        #expect(byKinds.subscribed.kinds == ["target_set", "task_rescheduled"])

        let cs1Figure = try Self.record(db, .figureSubmitted, Self.figure("ComS_011", objective: "CS1", owner: Self.ownerPost))
        let cs2Target = try Self.record(db, .targetSet, Self.figure("ComS_038", objective: "CS2", owner: Self.otherPost))
        let cs2Task = try Self.record(db, .taskUpdated, Self.task("CS2TASK", objective: "CS2", posts: [Self.ownerPost, Self.otherPost]))
        let cs1Task = try Self.record(db, .taskRescheduled, Self.task("BCRPASB_27", objective: "CS1", posts: ["Communities and Crime Manager"]))
        _ = try Self.record(db, .reminderCreated, login: "bbcsd", Self.reminder(to: currentLogin))
        _ = try Self.record(db, .directory, ["object": .string("alice"), "message": .string("user added")])
        // Passes every filter: the last event each reader waits for.
        let last = try Self.record(db, .taskRescheduled, Self.task("BCRP", objective: "CS1", posts: [Self.otherPost]))

        #expect(try byObjective.seqs(through: last) == [cs1Figure, cs1Task, last])
        #expect(try byOwner.seqs(through: last) == [cs2Target, cs2Task, last])
        #expect(try byKinds.seqs(through: last) == [cs2Target, cs1Task, last])
        // The scheduler's reminders at start may come after these.
        #expect(try EventReader(daemon, WatchSubscribeRequest()).subscribed.after >= last)

        let c = try daemon.client()
        let badKind = try #require(c.error(WatchSubscribeRequest(kinds: ["figure_corrected", "directory"])))
        #expect(badKind.code == .invalidParams && badKind.message.contains("\"directory\"") && badKind.data?["kind"] == "directory", "\(badKind)")
        let badPost = try #require(c.error(WatchSubscribeRequest(owner: "Chief Dragon Keeper")))
        #expect(badPost.code == .notFound && badPost.message.contains("Chief Dragon Keeper"), "\(badPost)")
    }

    /// A reminder event reaches its recipient and administrators, not another user; no
    /// e-mail address reaches anyone.
    @Test(.enabled(if: TestAccounts.available, "needs root to create test accounts and run setpriv"))
    func reminderReachesItsRecipientOnly() throws {
        let recipient = "bbcs-t-watch1", other = "bbcs-t-watch2"
        let accounts = [recipient: try TestAccounts.ensure(recipient), other: try TestAccounts.ensure(other)]
        let daemon = try TestDaemon()
        let ctl = daemon.directory.appendingPathComponent("bbcsctl").path
        try PermissionTests.copyExecutable(binDirectory.appendingPathComponent("bbcsctl").path, to: ctl)
        let c = try daemon.client()
        for login in [recipient, other] { _ = try c.call(UserAddRequest(login: login, email: "\(login)@example.org")) }
        let admin = try EventReader(daemon, WatchSubscribeRequest())
        var watchers: [String: Watching] = [:]
        for (login, account) in accounts {
            watchers[login] = try Watching(daemon, ["--json"], program: "/usr/bin/setpriv",
                                           prefix: ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--", ctl])
        }

        let db = try PGConnection(conninfo: daemon.database)
        let reminder = try Self.record(db, .reminderCreated, login: "bbcsd", Self.reminder(to: recipient))
        let last = try Self.record(db, .figureSubmitted, Self.figure("ComS_011", objective: "CS1", owner: Self.ownerPost))

        for (login, watcher) in watchers {
            _ = try watcher.waitForLine { $0.contains("\"seq\":\(last)") }
            let sawReminder = watcher.output.contains("\"seq\":\(reminder)")
            #expect(sawReminder == (login == recipient), "\(login): \(watcher.output)")
            #expect(!watcher.output.contains("@example.org"), "\(login): \(watcher.output)")
        }
        // The administrator also sees the reminders the scheduler records at start.
        let seen = try admin.events(through: last)
        #expect(seen.contains { $0.seq == reminder && $0.kind == "reminder_created" }, "\(seen)")
        #expect(!seen.contains { "\($0)".contains("@") }, "\(seen)")

        // A user disabled while watching is closed out when the directory change arrives.
        _ = try c.call(UserDisableRequest(login: other))
        let closed = try #require(watchers[other])
        _ = try closed.waitForLine { $0.contains("disabled") }
        #expect(closed.process.wait() == 77, "\(closed.output)")
        #expect(watchers[recipient]?.process.isRunning == true)
        watchers[recipient]?.process.stop(SIGINT)
    }

    /// A watcher that reads nothing is dropped with a log line and, once it reads, a last
    /// `too_slow` line; the daemon answers others meanwhile.
    @Test func aWatcherThatNeverReadsIsDropped() throws {
        let daemon = try TestDaemon(plan: nil)
        let deaf = try RawConnection(daemon.socketPath)
        try deaf.send(#"{"id":1,"method":"watch.subscribe"}"# + "\n")
        #expect(try deaf.readLine()?.contains(#""subscribed":true"#) == true)

        let db = try PGConnection(conninfo: daemon.database)
        let note = String(repeating: "x", count: 400)
        try db.execute("""
            INSERT INTO changes (kind, login, detail)
            SELECT 'figure_corrected', 'alice', jsonb_build_object('indicator', 'ComS_011', 'period', '2025/26 Q1', 'revision', n,
                                                                   'value', n, 'reason', \(note)::text)
            FROM generate_series(1, 6000) n
            """)
        try waitUntil("the daemon to drop the watcher", timeout: .seconds(30), daemon: daemon) {
            daemon.process.log.contains("watcher dropped")
        }
        let dropped = try #require(daemon.process.log.split(separator: "\n").first { $0.contains("watcher dropped") })
        #expect(dropped.contains("too_slow"), "\(dropped)")
        let helloStarted = ContinuousClock.now
        #expect(try RawConnection(daemon.socketPath).hello())
        print("watch: hello answered in \(ContinuousClock.now - helloStarted) after dropping a watcher")

        var events = 0, last: String?
        while let line = try deaf.readLine() {
            if line.hasPrefix(#"{"event":{"#) { events += 1 } else { last = line; break }
        }
        print("watch: the dropped watcher had \(events) events unread")
        #expect(events > 0 && events < 6000)
        #expect(last?.contains(#""event":null"#) == true && last?.contains(#""code":"too_slow""#) == true, "\(last ?? "closed")")
        #expect(try deaf.readLine() == nil)
    }

    /// A watching connection outlives the idle timeout; a request sent on it is answered
    /// with a closing line and the connection closes.
    @Test func aWatchingConnectionIgnoresTheIdleTimeoutAndTakesNoRequests() throws {
        let daemon = try TestDaemon(plan: nil, environment: ["BBCS_IDLE_TIMEOUT": "1"])
        let watcher = try RawConnection(daemon.socketPath)
        try watcher.send(#"{"id":"w","method":"watch.subscribe","params":{"kinds":["figure_submitted"]}}"# + "\n")
        #expect(try watcher.readLine()?.contains(#""subscribed":true"#) == true)
        usleep(2_500_000)
        let db = try PGConnection(conninfo: daemon.database)
        let seq = try Self.record(db, .figureSubmitted, Self.figure("ComS_011", objective: "CS1", owner: Self.ownerPost))
        let event = try watcher.readLine()
        #expect(event?.hasPrefix(#"{"event":{"#) == true && event?.contains(#""seq":\#(seq)"#) == true, "\(event ?? "closed")")

        try watcher.send(#"{"id":2,"method":"system.hello"}"# + "\n")
        let closing = try watcher.readLine()
        #expect(closing?.contains(#""event":null"#) == true && closing?.contains(#""code":"invalid_request""#) == true, "\(closing ?? "closed")")
        #expect(try watcher.readLine() == nil)
    }
}

/// `bbcsctl watch` running against a daemon, its output and errors in a log file.
final class Watching {
    let process: ChildProcess

    init(_ daemon: TestDaemon, _ arguments: [String], program: String? = nil, prefix: [String] = []) throws {
        let log = daemon.directory.appendingPathComponent("watch-\(UUID().uuidString).log").path
        process = try ChildProcess(program ?? binDirectory.appendingPathComponent("bbcsctl").path,
                                   prefix + ["--socket", daemon.socketPath, "watch"] + arguments, logPath: log)
        _ = try waitForLine { $0.hasPrefix("watching ") }
    }

    var output: String { process.log }

    /// The first line of the output that `matches`, waiting up to 15 s for it.
    func waitForLine(_ matches: (String) -> Bool) throws -> String {
        var found: String?
        try waitUntil("bbcsctl watch to print the line", timeout: .seconds(15)) {
            let running = process.isRunning
            found = output.split(separator: "\n").map(String.init).first(where: matches)
            guard found != nil || running else { throw HarnessError(description: "bbcsctl watch exited: \(output)") }
            return found != nil
        }
        return found ?? ""
    }
}

/// A watching connection read line by line, every wait bounded.
final class EventReader {
    let connection: RawConnection
    let subscribed: WatchSubscribeRequest.Response

    init(_ daemon: TestDaemon, _ request: WatchSubscribeRequest) throws {
        connection = try RawConnection(daemon.socketPath)
        let line = try WireCoding.encoder().encode(RequestEnvelope(id: .number(1), method: WatchSubscribeRequest.method, params: request))
        try connection.send(String(decoding: line, as: UTF8.self) + "\n")
        let reply = try WireCoding.decoder().decode(ReplyEnvelope<WatchSubscribeRequest.Response>.self,
                                                    from: Data((try connection.readLine() ?? "").utf8))
        guard let result = reply.result else { throw HarnessError(description: "watch.subscribe failed: \(reply.error.map { "\($0)" } ?? "closed")") }
        subscribed = result
    }

    /// The events up to the one with `seq`, which must come within 15 s of the one before.
    func events(through seq: Int64) throws -> [WatchEvent] {
        var events: [WatchEvent] = []
        while events.last.map({ $0.seq < seq }) ?? true {
            guard let text = try connection.readLine(timeout: .seconds(15)) else { throw HarnessError(description: "the watch closed") }
            let line = try WireCoding.decoder().decode(EventLine.self, from: Data(text.utf8))
            guard let event = line.event else { throw HarnessError(description: "the watch ended: \(text)") }
            events.append(event)
        }
        return events
    }

    func seqs(through seq: Int64) throws -> [Int64] { try events(through: seq).map(\.seq) }
}
