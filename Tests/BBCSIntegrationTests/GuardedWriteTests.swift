import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// Each change is one statement carrying its guards: races between writers, and between a
/// revoke and the revoked user's writes, never produce a write the rules forbid; every stored
/// change has its audit row and its `changes` row, a refusal neither.
@Suite("guarded one-statement writes", .serialized)
struct GuardedWriteTests {
    static let daemon = try! TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])

    let db: PGConnection

    init() throws { db = try PGConnection(conninfo: Self.daemon.database) }

    func count(_ sql: String, _ parameters: [any PGParameter] = []) throws -> Int { try db.query(sql, parameters).int(0, 0) }

    /// Runs `body` on `n` connections at once, each already past the handshake.
    static func race<T: Sendable>(_ n: Int, _ body: @escaping @Sendable (Client, Int) throws -> T) throws -> [T] {
        let start = DispatchSemaphore(value: 0), socket = daemon.socketPath
        let workers = (0..<n).map { i in
            Background { () -> T in
                let c = try Client(socketPath: socket)
                _ = try c.call(HelloRequest())
                start.wait()
                return try body(c, i)
            }
        }
        usleep(200_000)
        for _ in workers { start.signal() }
        return try workers.map { try $0.value() }
    }

    /// Eight corrections of the same revision at once: one is stored, every other is a conflict
    /// naming the revision that is current now; one revision, one audit row, one change row.
    @Test func concurrentCorrectionsOfOneRevisionHaveOneWinner() throws {
        let period = Period(startYear: 2025, quarter: 3)
        let c = try Self.daemon.client()
        _ = try c.call(FigureSubmitRequest(code: "ComS_049", period: period, value: 40, note: "first"))
        let auditBefore = try count("SELECT count(*) FROM audit WHERE method = 'figure.correct' AND object = 'ComS_049'")
        let replies = try Self.race(8) { c, n in
            c.error(FigureCorrectRequest(code: "ComS_049", period: period, value: Double(41 + n), reason: "recount \(n)", revision: 1))
        }
        let winners = replies.filter { $0 == nil }.count
        let conflicts = replies.compactMap { $0 }
        #expect(winners == 1, "\(replies)")
        #expect(conflicts.count == 7 && conflicts.allSatisfy { $0.code == .conflict }, "\(conflicts)")
        for conflict in conflicts {
            #expect(conflict.message.contains("is no longer current: revision 2 ("), "\(conflict.message)")
            #expect(conflict.data?["hint"] == "figure.history")
        }
        let id = try count("SELECT id FROM indicators WHERE code = 'ComS_049'")
        #expect(try count("SELECT count(*) FROM figures WHERE indicator_id = $1 AND period = $2", [id, period.description]) == 2)
        #expect(try count("SELECT count(*) FROM audit WHERE method = 'figure.correct' AND object = 'ComS_049'") == auditBefore + 1)
        #expect(try count("SELECT count(*) FROM changes WHERE kind = 'figure_corrected' AND indicator_id = $1", [id]) == 1)
        // The change row carries what watchers are shown.
        let detail = try db.query("SELECT detail::text FROM changes WHERE kind = 'figure_corrected' AND indicator_id = $1", [id]).text(0, 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(detail.utf8)) as? [String: Any])
        #expect(object["indicator"] as? String == "ComS_049" && object["period"] as? String == "2025/26 Q3")
        #expect(object["revision"] as? Int == 2 && (object["reason"] as? String)?.hasPrefix("recount ") == true && object["late"] as? Bool == true)
    }

    /// Concurrent updates of one task all land in order: each history row starts from the
    /// state the one before it left (none is lost, none decided from a stale task).
    @Test func concurrentTaskUpdatesChainInTheHistory() throws {
        let replies = try Self.race(6) { c, n in
            c.error(TaskUpdateRequest(code: "BCRPASB_30", status: .onTrack, progress: 10 + n, note: "update \(n)"))
        }
        #expect(replies.allSatisfy { $0 == nil || $0?.code == .conflict }, "\(replies)")
        let stored = replies.filter { $0 == nil }.count
        #expect(stored >= 1)
        let history = try Self.daemon.client().call(TaskHistoryRequest(code: "BCRPASB_30")).changes.filter { $0.kind == .update }
        #expect(history.count == stored)
        for (earlier, later) in zip(history, history.dropFirst()) {
            #expect(later.oldProgress == earlier.newProgress && later.oldStatus == earlier.newStatus, "\(earlier) then \(later)")
        }
        let id = try count("SELECT id FROM tasks WHERE code = 'BCRPASB_30'")
        #expect(try count("SELECT count(*) FROM changes WHERE kind = 'task_updated' AND task_id = $1", [id]) == stored)
        #expect(try count("SELECT progress FROM tasks WHERE id = $1", [id]) == history.last?.newProgress)
    }

    /// Every kind of change writes one audit row and one change row beside it; a refusal of
    /// the rules or a conflict writes neither and changes nothing.
    @Test func everyStoredChangeHasItsAuditAndChangeRowsAndNoRefusalHas() throws {
        let c = try Self.daemon.client()
        func rows() throws -> (audit: Int, changes: Int) {
            (try count("SELECT count(*) FROM audit"), try count("SELECT count(*) FROM changes"))
        }
        func stored(_ kind: String, _ method: String, _ body: () throws -> Void) throws {
            let before = try rows()
            try body()
            let after = try rows()
            #expect(after.audit == before.audit + 1 && after.changes == before.changes + 1, "\(method): \(before) → \(after)")
            let last = try db.query("SELECT method, outcome FROM audit ORDER BY id DESC LIMIT 1")
            #expect(try last.text(0, 0) == method && last.text(0, 1) == "ok")
            let change = try db.query("SELECT kind, login FROM changes ORDER BY seq DESC LIMIT 1")
            #expect(try change.text(0, 0) == kind && change.text(0, 1) == currentLogin, "\(method)")
        }
        func refused(_ what: String, _ expected: ErrorCode, _ error: () -> ResponseError?) throws {
            let before = try rows()
            #expect(error()?.code == expected, "\(what)")
            #expect(try rows() == before, "\(what) wrote something")
        }
        let period = Period(startYear: 2025, quarter: 2)
        try stored("figure_submitted", "figure.submit") { _ = try c.call(FigureSubmitRequest(code: "ComS_044", period: period, value: 7, note: "n")) }
        try stored("figure_corrected", "figure.correct") {
            _ = try c.call(FigureCorrectRequest(code: "ComS_044", period: period, value: 8, reason: "recount", revision: 1))
        }
        try stored("figure_validated", "figure.validate") { _ = try c.call(FigureValidateRequest(code: "ComS_044", period: period)) }
        try stored("target_set", "target.set") {
            _ = try c.call(TargetSetRequest(code: "ComS_044", period: Period(startYear: 2027), value: 12, tolerance: 7, reason: "review"))
        }
        try stored("task_updated", "task.update") { _ = try c.call(TaskUpdateRequest(code: "BCRPASB_29", status: .atRisk, note: "slow")) }
        try stored("task_rescheduled", "task.reschedule") {
            _ = try c.call(TaskRescheduleRequest(code: "BCRPASB_29", date: CalendarDate(year: 2027, month: 2, day: 14), reason: "later"))
        }
        try stored("directory", "post.add") { _ = try c.call(PostAddRequest(name: "Guarded Write Post")) }
        try stored("directory", "post.grant") { _ = try c.call(PostGrantRequest(login: currentLogin, post: "Guarded Write Post")) }
        try stored("directory", "post.revoke") { _ = try c.call(PostRevokeRequest(login: currentLogin, post: "Guarded Write Post")) }

        try refused("a second submission", .conflict) { c.error(FigureSubmitRequest(code: "ComS_044", period: period, value: 9)) }
        try refused("a stale correction", .conflict) {
            c.error(FigureCorrectRequest(code: "ComS_044", period: period, value: 9, reason: "again", revision: 1))
        }
        try refused("a red figure without a note", .invalidParams) {
            c.error(FigureSubmitRequest(code: "ComS_100", period: Period(startYear: 2025, quarter: 1), value: 10))
        }
        try refused("validated already", .conflict) { c.error(FigureValidateRequest(code: "ComS_044", period: period, revision: 1)) }
        try refused("the same target date", .conflict) {
            c.error(TaskRescheduleRequest(code: "BCRPASB_29", date: CalendarDate(year: 2027, month: 2, day: 14), reason: "again"))
        }
        try refused("a target without a reason", .invalidParams) {
            c.error(TargetSetRequest(code: "ComS_044", period: Period(startYear: 2027), value: 1, reason: " "))
        }
        try refused("no open holding", .notFound) { c.error(PostRevokeRequest(login: currentLogin, post: "Guarded Write Post")) }
        // Validating twice stores nothing the second time, and answers the same status.
        let before = try rows()
        let again = try c.call(FigureValidateRequest(code: "ComS_044", period: period))
        #expect(again.status.figure?.validatedBy == currentLogin && again.status.figure?.revision == 2)
        #expect(try rows() == before)
    }
}

/// A revoke racing the revoked user's submissions: each submission is stored before the
/// revoke commits or refused after it, and every refusal is audited.
@Suite("guarded writes against a revoke", .serialized, .enabled(if: TestAccounts.available, "needs root to create a test account and run setpriv"))
struct RevokeRaceTests {
    static let login = "bbcs-t-racer"
    /// Every refusal of the race audited row by row.
    static let daemon = try! TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"],
                                        environment: ["BBCS_REFUSAL_DISTINCT_LIMIT": "1000"])

    /// Sends `lines` one at a time over one connection as `uid`, from perl; the reply codes in order.
    static func send(_ lines: [String], as account: (uid: UInt32, gid: UInt32), to daemon: TestDaemon, name: String) throws -> [String] {
        let file = daemon.directory.appendingPathComponent("race-\(name).jsonl")
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: file)
        chmod(file.path, 0o644)
        let script = #"""
            use strict; use IO::Socket::UNIX;
            my ($socket, $file) = @ARGV;
            open(my $in, '<', $file) or die "$file: $!";
            my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $socket) or die "connect: $!";
            while (my $line = <$in>) {
                print $s $line;
                my $reply = <$s>;
                defined $reply or die "the daemon closed the connection";
                print(($reply =~ /"code":"([a-z_]+)"/ ? $1 : "ok"), "\n");
            }
            """#
        let run = try runProgram("/usr/bin/setpriv", ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--",
                                                      "/usr/bin/perl", "-e", script, daemon.socketPath, file.path])
        guard run.status == 0 else { throw HarnessError(description: "perl failed: \(run.err)") }
        return run.out.split(separator: "\n").map(String.init)
    }

    @Test func noFigureIsStoredAfterTheRevokeCommits() throws {
        let account = try TestAccounts.ensure(Self.login)
        let daemon = Self.daemon
        let db = try PGConnection(conninfo: daemon.database)
        let c = try daemon.client()
        // The post that owns the most quarterly indicators, so the race has many figures to try.
        struct Owned: Decodable { let post: String; let codes: [String] }
        let owned = try #require(try db.first(Owned.self, """
            SELECT p.name AS post, json_agg(i.code ORDER BY i.code) AS codes FROM indicators i JOIN posts p ON p.id = i.owner_post_id
            WHERE i.frequency = 'quarterly' GROUP BY p.name ORDER BY count(*) DESC LIMIT 1
            """))
        _ = try c.call(UserAddRequest(login: Self.login))
        _ = try c.call(PostGrantRequest(login: Self.login, post: owned.post))
        let periods = ["2025/26 Q1", "2025/26 Q2", "2025/26 Q3", "2025/26 Q4", "2026/27 Q1"]
        let pairs = owned.codes.flatMap { code in periods.map { (code, $0) } }
        func line(_ method: String, _ params: [String: Any]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: ["id": 1, "method": method, "params": params] as [String: Any],
                                                        options: [.sortedKeys]), as: UTF8.self)
        }
        // Each worker submits its half, then corrects each of those figures.
        let halves = try [0, 1].map { half in
            let mine = pairs.enumerated().filter { $0.offset % 2 == half }.map(\.element)
            return try mine.map { try line("figure.submit", ["code": $0.0, "period": $0.1, "value": 1, "note": "race"]) }
                + mine.map { try line("figure.correct", ["code": $0.0, "period": $0.1, "value": 2, "reason": "race", "revision": 1]) }
        }
        let lines = halves.flatMap { $0 }
        let workers = halves.enumerated().map { n, half in Background { try Self.send(half, as: account, to: daemon, name: "\(n)") } }
        // Revoke once a few figures are in, while the rest are still being sent.
        for _ in 0..<400 where try db.query("SELECT count(*) FROM figures WHERE submitted_by = $1", [Self.login]).int(0, 0) < 4 {
            usleep(5_000)
        }
        _ = try c.call(PostRevokeRequest(login: Self.login, post: owned.post))
        let codes = try workers.flatMap { try $0.value() }

        #expect(codes.count == lines.count)
        #expect(codes.allSatisfy { $0 == "ok" || $0 == "permission_denied" }, "\(Set(codes))")
        let ok = codes.filter { $0 == "ok" }.count, denied = codes.count - ok
        #expect(ok >= 4 && denied >= 1, "the race happened: \(ok) stored, \(denied) refused")
        print("revoke race: \(ok) figures stored, \(denied) refused")

        let revoke = try db.query("SELECT id FROM audit WHERE method = 'post.revoke' AND object = $1", [Self.login]).int(0, 0)
        let revokeSeq = try db.query("SELECT max(seq) FROM changes WHERE kind = 'directory' AND detail->>'object' = $1", [Self.login]).int(0, 0)
        #expect(try db.query("SELECT count(*) FROM figures WHERE submitted_by = $1", [Self.login]).int(0, 0) == ok)
        // Stored before the revoke committed: the revoke waited for each figure's locks.
        #expect(try db.query("SELECT count(*) FROM audit WHERE login = $1 AND outcome = 'ok' AND id < $2", [Self.login, revoke]).int(0, 0) == ok)
        #expect(try db.query("SELECT count(*) FROM changes WHERE login = $1 AND kind LIKE 'figure_%' AND seq < $2",
                             [Self.login, revokeSeq]).int(0, 0) == ok)
        #expect(try db.query("SELECT count(*) FROM changes WHERE login = $1", [Self.login]).int(0, 0) == ok)
        // Every refusal is audited (a storm of identical ones may share a row, counted in attempts).
        // The daemon writes refusals through a throttle that flushes on its own timer.
        var audited = 0
        for _ in 0..<100 {
            audited = try db.query("""
                SELECT coalesce(sum(attempts), 0) FROM audit WHERE login = $1 AND outcome = 'denied' AND method LIKE 'figure.%'
                """, [Self.login]).int(0, 0)
            if audited >= denied { break }
            usleep(100_000)
        }
        #expect(audited == denied)
    }

    /// A submission held (on a lock of the figures table) after the daemon read the caller's
    /// posts, while the revoke commits: the write statement's own guard refuses it.
    @Test func aSubmissionHeldPastTheRevokeIsRefused() throws {
        let login = "bbcs-t-racer2"
        let account = try TestAccounts.ensure(login)
        let daemon = Self.daemon, c = try daemon.client()
        let db = try PGConnection(conninfo: daemon.database)
        // A quarterly count with no polarity (no note needed) that has no 2025/26 Q2 figure yet.
        struct Free: Decodable { let code: String; let post: String }
        let free = try #require(try db.first(Free.self, """
            SELECT i.code, p.name AS post FROM indicators i JOIN posts p ON p.id = i.owner_post_id
            WHERE i.frequency = 'quarterly' AND i.unit = 'count' AND i.polarity = 'none'
              AND NOT EXISTS (SELECT 1 FROM figures f WHERE f.indicator_id = i.id AND f.period = '2025/26 Q2')
            ORDER BY i.code LIMIT 1
            """))
        _ = try c.call(UserAddRequest(login: login))
        _ = try c.call(PostGrantRequest(login: login, post: free.post))
        let line = #"{"id":1,"method":"figure.submit","params":{"code":"\#(free.code)","period":"2025/26 Q2","value":3}}"#
        let blocker = try PGConnection(conninfo: daemon.database)
        try blocker.query("BEGIN")
        try blocker.query("LOCK TABLE figures IN ACCESS EXCLUSIVE MODE")
        let submit = Background { try Self.send([line], as: account, to: daemon, name: "held") }
        var waiting = false
        for _ in 0..<200 where !waiting {
            waiting = try db.query("""
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
                """).int(0, 0) == 1
            if !waiting { usleep(50_000) }
        }
        #expect(waiting, "the submission never reached the figures table")
        _ = try c.call(PostRevokeRequest(login: login, post: free.post))
        try blocker.query("COMMIT")
        #expect(try submit.value() == ["permission_denied"])
        #expect(try db.query("SELECT count(*) FROM figures WHERE submitted_by = $1", [login]).int(0, 0) == 0)
        #expect(try db.query("SELECT count(*) FROM changes WHERE login = $1", [login]).int(0, 0) == 0)
        var audited = false
        for _ in 0..<100 where !audited {
            audited = try db.query("SELECT 1 FROM audit WHERE login = $1 AND method = 'figure.submit' AND outcome = 'denied'", [login]).count == 1
            if !audited { usleep(100_000) }
        }
        #expect(audited, "the refusal is audited")
    }
}
