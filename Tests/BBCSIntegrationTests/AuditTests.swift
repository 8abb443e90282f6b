import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// Refusals in the audit trail, from real Unix accounts over the real socket: every refusal
/// is audited whatever its parameters, and a refusal storm leaves a bounded trail whose
/// attempts add up to the attempts made, in the database and in the log.
@Suite("refusal audit", .serialized, .enabled(if: TestAccounts.available, "needs root to create test accounts and run setpriv"))
struct AuditTests {
    /// Never registered: every call but the handshake is refused as unauthenticated.
    static let stranger = "bbcs-t-stranger"
    /// Registered without posts: administrators' methods are refused as denied.
    static let viewer = "bbcs-t-viewer"

    struct Row: Decodable {
        var method: String
        var object: String?
        var outcome: String
        var after: String?
        var message: String?
        var attempts: Int
        var lastAt: String?
    }

    /// The audit rows of `login`'s attempts, oldest first.
    static func rows(_ db: PGConnection, _ login: String) throws -> [Row] {
        try db.rows(Row.self, """
            SELECT method, object, outcome, after::text AS after, message, attempts, last_at::text AS last_at
            FROM audit WHERE login = \(login) ORDER BY id
            """)
    }

    /// Sends `lines` over one connection as `login`'s uid, from perl under setpriv, in batches
    /// of a hundred (each batch's replies read before the next is sent); answers how many
    /// replies carried each error code.
    static func send(_ lines: [String], as login: String, to daemon: TestDaemon) throws -> [String: Int] {
        let account = try TestAccounts.ensure(login)
        let file = daemon.directory.appendingPathComponent("requests-\(login)-\(UUID().uuidString).jsonl")
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: file)
        chmod(file.path, 0o644)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = #"""
            use strict; use IO::Socket::UNIX;
            my ($socket, $file) = @ARGV;
            open(my $in, '<', $file) or die "$file: $!";
            my @lines = <$in>;
            my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $socket) or die "connect: $!";
            my %codes;
            while (my @batch = splice(@lines, 0, 100)) {
                print $s @batch;
                for (@batch) {
                    my $reply = <$s>;
                    defined $reply or die "the daemon closed the connection";
                    $codes{$reply =~ /"code":"([a-z_]+)"/ ? $1 : "ok"}++;
                }
            }
            print join(" ", map { "$_=$codes{$_}" } sort keys %codes), "\n";
            """#
        let run = try runProgram("/usr/bin/setpriv", ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--",
                                                      "/usr/bin/perl", "-e", script, daemon.socketPath, file.path])
        guard run.status == 0 else { throw HarnessError(description: "perl as \(login) failed: \(run.err)") }
        return run.out.split(whereSeparator: \.isWhitespace).reduce(into: [:]) { codes, pair in
            let parts = pair.split(separator: "=")
            if parts.count == 2 { codes[String(parts[0])] = Int(parts[1]) }
        }
    }

    static func line(_ method: String, _ params: [String: Any]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: ["id": 1, "method": method, "params": params], options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// The daemon's "refused" log lines about `login`, each with the attempts it stands for.
    static func refusedLines(_ daemon: TestDaemon, _ login: String) -> [Int] {
        daemon.process.log.split(separator: "\n")
            .filter { $0.contains(" notice refused ") && $0.contains(" user=\(login)") }
            .map { line in
                let field = line.split(separator: " ").first { $0.hasPrefix("attempts=") }
                return field.flatMap { Int($0.dropFirst("attempts=".count)) } ?? 1
            }
    }

    static func json(_ text: String?) -> [String: Any]? {
        text.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// A 450 KB code, a 450 KB post name with a NUL beside it and a long list, a login with a
    /// NUL: each refusal writes exactly one row, its values cut to a few hundred bytes with
    /// their size noted, its parameters still JSON.
    @Test func aRefusalIsAuditedWhateverItsParameters() throws {
        let daemon = try TestDaemon()
        _ = try daemon.client().call(UserAddRequest(login: Self.viewer))
        let db = try PGConnection(conninfo: daemon.database)
        let huge = String(repeating: "A", count: 450_000)
        #expect(try Self.send([Self.line("indicator.show", ["code": huge])], as: Self.stranger, to: daemon) == ["unauthenticated": 1])
        let strangers = try Self.rows(db, Self.stranger)
        try #require(strangers.count == 1, "one refusal, one row")
        let object = try #require(strangers[0].object)
        #expect(object.hasPrefix("AAAA") && object.hasSuffix("… (450,000 bytes)") && object.utf8.count < 300, "\(object.prefix(80))")
        let code = try #require(Self.json(strangers[0].after)?["code"] as? String)
        #expect(code.hasPrefix("AAAA") && code.hasSuffix("… (450,000 bytes)") && code.utf8.count < 300)
        #expect(strangers[0].outcome == "unauthenticated" && strangers[0].attempts == 1 && strangers[0].lastAt == nil)

        let name = String(repeating: "P", count: 450_000)
        var deep: Any = "bottom"
        for _ in 0..<100 { deep = ["down": deep] }
        let requests = [try Self.line("post.add", ["name": name, "note": "a\u{0}b", "list": Array(0..<5000)]),
                        try Self.line("user.disable", ["login": "x\u{0}y"]),
                        try Self.line("user.enable", ["login": String(repeating: "é", count: 100_000), "deep": deep,
                                                      String(repeating: "k", count: 100_000): String(repeating: "🙂", count: 100_000)])]
        #expect(try Self.send(requests, as: Self.viewer, to: daemon) == ["permission_denied": 3])
        let viewers = try Self.rows(db, Self.viewer)
        try #require(viewers.count == 3, "three refusals, three rows")
        #expect(viewers[0].method == "post.add" && viewers[0].object?.hasSuffix("… (450,000 bytes)") == true)
        let after = try #require(Self.json(viewers[0].after), "the parameters stay JSON")
        #expect(after["note"] as? String == "a␀b")
        #expect((after["name"] as? String)?.hasSuffix("… (450,000 bytes)") == true)
        let list = try #require(after["list"] as? [Any])
        #expect(list.count < 5000 && (list.last as? String)?.hasSuffix("more)") == true, "\(list.suffix(2))")
        #expect(try #require(viewers[0].after).utf8.count < 8192)
        #expect(viewers[1].method == "user.disable" && viewers[1].object == "x␀y")
        #expect(Self.json(viewers[1].after)?["login"] as? String == "x␀y")
        // Cut between characters, never inside one; nesting and a long key are cut too.
        #expect(viewers[2].object?.hasPrefix("éé") == true && viewers[2].object?.hasSuffix("é… (200,000 bytes)") == true)
        let third = try #require(Self.json(viewers[2].after), "the parameters stay JSON")
        #expect(try #require(viewers[2].after).utf8.count < 8192)
        #expect(third.keys.contains { $0.hasPrefix("kkk") && $0.hasSuffix("… (100,000 bytes)") })
        #expect(third.values.contains { ($0 as? String)?.hasSuffix("🙂… (400,000 bytes)") == true })
        var level: Any? = third["deep"], depth = 0
        while let next = (level as? [String: Any])?["down"] { level = next; depth += 1 }
        #expect(depth < 100 && (level as? String)?.hasPrefix("…") == true, "\(depth) \(String(describing: level))")

        // The administrator reads them like any other row.
        let read = try daemon.client().call(AuditListRequest(user: Self.stranger)).entries
        #expect(read.count == 1 && read.first?.object == object)
    }

    /// A window longer than the test: 2,000 identical refusals over two connections are one
    /// row at once and one row with 1,999 attempts once the daemon stops; 2,000 distinct ones
    /// past a limit of 20 are 20 rows and one summary of 1,980. The log says the same, as few
    /// lines.
    @Test func aStormIsBoundedAndCountedWhenTheDaemonStops() throws {
        let database = try TestPostgres.freshDatabase()
        let limits = ["BBCS_REFUSAL_WINDOW": "3600", "BBCS_REFUSAL_DISTINCT_LIMIT": "20"]
        let daemon = try TestDaemon(database: database, environment: limits)
        _ = try daemon.client().call(UserAddRequest(login: Self.viewer))
        let db = try PGConnection(conninfo: database)

        // Two connections side by side, so that attempts of one kind also arrive out of order.
        let same = try Self.line("figure.submit", ["code": "ComS_011", "period": "2025/26 Q1", "value": 400])
        let senders = (0..<2).map { _ in Background { try Self.send(Array(repeating: same, count: 1000), as: Self.stranger, to: daemon) } }
        for sender in senders { #expect(try sender.value() == ["unauthenticated": 1000]) }
        let distinct = try (0..<2000).map { try Self.line("post.add", ["name": "Storm post \($0)"]) }
        #expect(try Self.send(distinct, as: Self.viewer, to: daemon) == ["permission_denied": 2000])
        // Written at once: the first of each kind, up to the limit.
        #expect(try Self.rows(db, Self.stranger).count == 1)
        #expect(try Self.rows(db, Self.viewer).count == 20)

        #expect(daemon.process.stop() == 0, "\(daemon.process.log.suffix(2000))")
        let strangers = try Self.rows(db, Self.stranger)
        #expect(strangers.map(\.attempts) == [1, 1999])
        #expect(strangers.allSatisfy { $0.method == "figure.submit" && $0.object == "ComS_011" && $0.outcome == "unauthenticated" })
        #expect(strangers.last?.after == strangers.first?.after && strangers.last?.lastAt != nil)
        let viewers = try Self.rows(db, Self.viewer)
        #expect(viewers.count == 21 && viewers.map(\.attempts).reduce(0, +) == 2000)
        let summary = try #require(viewers.last)
        #expect(summary.attempts == 1980 && summary.method == "post.add" && summary.object == nil)
        #expect((Self.json(summary.after)?["methods"] as? [String: Int]) == ["post.add": 1980])
        #expect(Set(viewers.dropLast().map(\.object)).count == 20)

        #expect(Self.refusedLines(daemon, Self.stranger) == [1, 1999])
        let logged = Self.refusedLines(daemon, Self.viewer)
        #expect(logged.count == 21 && logged.reduce(0, +) == 2000)

        // Read back by the next daemon: the client shows the count and the span, --json the fields.
        let next = try TestDaemon(database: database)
        let text = try next.ctl(["audit", "--user", Self.stranger])
        #expect(text.status == 0 && text.out.contains("unauthenticated ×1999") && text.out.contains("between "), "\(text.out)\(text.err)")
        let raw = try next.ctl(["--json", "audit", "--user", Self.stranger])
        let entries = try #require(Self.json(raw.out)?["entries"] as? [[String: Any]], "\(raw.out)")
        #expect(entries.compactMap { $0["attempts"] as? Int } == [1999, 1])
        #expect(entries.first?["lastAt"] is String)
    }

    /// A one-second window: while the daemon runs, each window's repeats are written as it
    /// ends, so the rows soon add up to every attempt, and there are at most a few per window.
    @Test func aStormIsWrittenAsEachWindowEnds() throws {
        let daemon = try TestDaemon(environment: ["BBCS_REFUSAL_WINDOW": "1", "BBCS_REFUSAL_DISTINCT_LIMIT": "5"])
        _ = try daemon.client().call(UserAddRequest(login: Self.viewer))
        let db = try PGConnection(conninfo: daemon.database)
        let started = ContinuousClock.now
        let same = try Self.line("indicator.list", [:])
        #expect(try Self.send(Array(repeating: same, count: 2000), as: Self.stranger, to: daemon) == ["unauthenticated": 2000])
        let distinct = try (0..<600).map { try Self.line("user.enable", ["login": "nobody\($0)"]) }
        #expect(try Self.send(distinct, as: Self.viewer, to: daemon) == ["permission_denied": 600])
        let elapsed = ContinuousClock.now - started

        func attempts(_ login: String) throws -> Int { try Self.rows(db, login).map(\.attempts).reduce(0, +) }
        func logged(_ login: String) -> Int { Self.refusedLines(daemon, login).reduce(0, +) }
        // Each row is written, then logged.
        var waited = 0
        while try attempts(Self.stranger) < 2000 || attempts(Self.viewer) < 600 || logged(Self.stranger) < 2000
                || logged(Self.viewer) < 600, waited < 300 {
            usleep(100_000)
            waited += 1
        }
        #expect(try attempts(Self.stranger) == 2000 && attempts(Self.viewer) == 600)
        #expect(logged(Self.stranger) == 2000 && logged(Self.viewer) == 600)
        // Each uid's window lasts a second: at most one row written at once and one of repeats
        // in each for the identical storm, the limit, its repeats and one summary for the other.
        let windows = Int((elapsed / .seconds(1)).rounded(.up)) + 1
        let strangers = try Self.rows(db, Self.stranger), viewers = try Self.rows(db, Self.viewer)
        #expect(strangers.count <= 2 * windows, "\(strangers.count) rows in at most \(windows) windows")
        #expect(viewers.count <= 11 * windows, "\(viewers.count) rows in at most \(windows) windows")
        #expect(Self.refusedLines(daemon, Self.stranger).count == strangers.count)
        #expect(Self.refusedLines(daemon, Self.viewer).count == viewers.count)
    }
}
