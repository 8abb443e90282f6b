import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// Issue 15, item 6: reminders' mail leaves through a real MTA (Debian's Exim on a loopback
/// port, reached with msmtp as the shipped drop-in intends), apart from the scheduler, at
/// most `mail_concurrency` commands at once, each stopped at `mail_timeout` and inheriting
/// no descriptor of the daemon's. The daemon runs at 4 March 2026, when "Communities and
/// Crime Manager" is reminded of three tasks due 31 March.
@Suite("mail delivery", .serialized)
struct MailDeliveryTests {
    static let msmtp = "/usr/bin/msmtp"
    static let exim = "/usr/sbin/exim4"
    static let recipient = "officer@example.org"

    /// A daemon at `now` reading `config`, once its scheduler has made its first run.
    func startDaemon(_ database: String, at now: String, config: URL, environment: [String: String] = [:]) throws -> TestDaemon {
        let daemon = try TestDaemon(database: database, extraArguments: ["--now", now, "--config", config.path], environment: environment)
        try waitFor { daemon.process.log.contains("scheduler ran") }
        return daemon
    }

    /// The Unix account "daemon" (every Linux host has it) made a user with an address and
    /// holder of the post three reminders go to; returns the scheduler run that records them.
    func remindTheHolder(_ daemon: TestDaemon) throws -> SchedulerRunRequest.Response {
        let c = try daemon.client()
        _ = try c.call(UserAddRequest(login: "daemon", email: Self.recipient))
        _ = try c.call(PostGrantRequest(login: "daemon", post: "Communities and Crime Manager", from: CalendarDate(iso: "2026-03-01")!))
        return try c.call(SchedulerRunRequest())
    }

    /// Every row of `sql` as text, `columns` columns each.
    func rows(_ database: String, _ sql: String, columns: Int = 1) throws -> [[String]] {
        let result = try PGConnection(conninfo: database).query(sql)
        return try result.map { r in try (0..<columns).map { try result.text(r, $0) } }
    }

    @Test func aReminderGoesThroughARealMTAExactlyOnceAfterAFailedAttempt() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.msmtp) && FileManager.default.isExecutableFile(atPath: Self.exim),
                     "msmtp and Exim are needed: apt-get install msmtp exim4-daemon-light (.ci/run installs them)")
        let directory = makeTemporaryDirectory("bbcs-mta")
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try freeLoopbackPort()
        let relay = try EximRelay(in: directory.appendingPathComponent("exim"), port: port)
        let rc = directory.appendingPathComponent("msmtprc")
        try """
            defaults
            auth off
            tls off
            account default
            host 127.0.0.1
            port \(port)
            from bbcs@bbcs-test.localhost
            """.write(to: rc, atomically: true, encoding: .utf8)
        let config = directory.appendingPathComponent("bbcsd.toml")
        try """
            mail_command = "\(Self.msmtp) --file='\(rc.path)' -t"
            mail_timeout = 20
            """.write(to: config, atomically: true, encoding: .utf8)
        let database = try TestPostgres.freshDatabase()

        // The relay is not running yet: every attempt fails, and the mail stays pending.
        var daemon: TestDaemon? = try startDaemon(database, at: "2026-03-04T09:00:00Z", config: config)
        let run = try remindTheHolder(daemon!)
        #expect(run.created == 3 && run.mailWaiting == 3, "\(run)")
        var failing: [Reminder] = []
        try waitFor {
            failing = try daemon!.client().call(ReminderListRequest(failed: true)).reminders
            return failing.count == 3
        }
        print("first attempt: \(failing.map { $0.mailLastError ?? "" })")
        #expect(failing.allSatisfy { $0.mailAttempts == 1 && $0.mailLastError?.contains("cannot connect to 127.0.0.1, port \(port)") == true })
        #expect(try rows(database, "SELECT DISTINCT mail_state FROM reminders WHERE recipient = 'daemon'") == [["pending"]])

        // The relay runs, and the backoff passes (the next attempt moved a minute earlier):
        // the worker's own check, with no scheduler run, tries again and delivers.
        try relay.start()
        let moved = try PGConnection(conninfo: database).query("""
            UPDATE reminders SET mail_next_at = mail_next_at - interval '1 minute' WHERE mail_state = 'pending'
            """)
        #expect(moved.affectedRows == 3)
        let retried = ContinuousClock.now
        try waitFor(timeout: .seconds(60)) {
            try rows(database, "SELECT count(*) FROM reminders WHERE recipient = 'daemon' AND mail_state = 'sent'") == [["3"]]
        }
        print("the worker retried and delivered \(ContinuousClock.now - retried) after the backoff had passed")
        try waitFor { relay.messages().count >= 3 }
        // Running again sends nothing more.
        let again = try daemon!.client().call(SchedulerRunRequest())
        #expect(again.created == 0 && again.mailWaiting == 0 && again.mailed == 3 && again.mailFailed == 3, "\(again)")
        daemon = nil
        relay.stop()

        let messages = relay.messages()
        print("mailbox: \(messages.count) messages; the first:\n\(messages.first ?? "")")
        #expect(messages.count == 3)
        let stored = try rows(database, "SELECT id, title, body, mail_attempts FROM reminders WHERE recipient = 'daemon' ORDER BY id",
                              columns: 4)
        #expect(stored.count == 3)
        for reminder in stored {
            let copies = messages.filter { $0.contains("bbcs reminder \(reminder[0]); acknowledge it with: bbcsctl reminders ack \(reminder[0])") }
            #expect(copies.count == 1, "reminder \(reminder[0]) arrived \(copies.count) times")
            guard let message = copies.first else { continue }
            // Exim's envelope: msmtp -t took the recipient from To:, the sender from its file.
            #expect(message.contains("Envelope-to: \(Self.recipient)\n") && message.contains("Return-path: <bbcs@bbcs-test.localhost>\n"))
            #expect(message.contains("\nTo: \(Self.recipient)\nSubject: [bbcs] \(reminder[1])\nMIME-Version: 1.0\n"
                                     + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n\n"
                                     + reminder[2] + "\n"), "\(message)")
            #expect(reminder[3] == "2")
        }
        #expect(messages.contains { $0.contains("Subject: [bbcs] BCRPASB_27 is due in 27 days (2026-03-31)\n") })
    }

    @Test func aHangingMailCommandDelaysNoReminderAndAtMostTheConcurrencyRunAtOnce() throws {
        let directory = makeTemporaryDirectory("bbcs-mail-hang")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("bbcsd.toml")
        // It never reads its message, which is bigger than nothing, and never ends.
        try """
            mail_command = "exec sleep 60"
            mail_timeout = 1
            mail_concurrency = 2
            """.write(to: config, atomically: true, encoding: .utf8)
        let database = try TestPostgres.freshDatabase()
        var daemon: TestDaemon? = try startDaemon(database, at: "2026-03-04T09:00:00Z", config: config)
        let started = ContinuousClock.now
        let run = try remindTheHolder(daemon!)
        let answered = ContinuousClock.now - started
        let second = try daemon!.client().call(SchedulerRunRequest())
        let secondAnswered = ContinuousClock.now - started
        #expect(run.created == 3 && second.created == 0)
        try waitFor {
            try daemon!.client().call(ReminderListRequest(failed: true)).reminders
                .count { $0.mailAttempts == 1 && $0.mailLastError == "the mail command did not finish within 1.0 seconds and was stopped" } == 3
        }
        print("""
            hanging mail command, mail_timeout 1 s, mail_concurrency 2: the run that recorded 3 reminders answered after \(answered) \
            (user and post set up included), a second run after \(secondAnswered); all 3 stopped and recorded after \(ContinuousClock.now - started)
            """)

        // A command that takes a second: each notes how many were running when it started.
        let slots = directory.appendingPathComponent("slots").path
        let seen = directory.appendingPathComponent("seen").path
        try FileManager.default.createDirectory(atPath: slots, withIntermediateDirectories: true)
        try """
            mail_command = "mkdir '\(slots)/'$$; ls '\(slots)' | wc -l >> '\(seen)'; cat >/dev/null; sleep 1; rmdir '\(slots)/'$$"
            mail_timeout = 20
            mail_concurrency = 2
            """.write(to: config, atomically: true, encoding: .utf8)
        daemon = nil
        daemon = try startDaemon(database, at: "2026-03-04T09:05:00Z", config: config)
        try waitFor { try rows(database, "SELECT count(*) FROM reminders WHERE mail_state = 'sent'") == [["3"]] }
        let running = try String(contentsOfFile: seen, encoding: .utf8).split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        print("mail commands running as each of the 3 started, at mail_concurrency 2: \(running)")
        #expect(running.count == 3 && running.allSatisfy { $0 <= 2 })
    }

    @Test func aMailCommandInheritsNoDescriptorButItsStandardOnesAndNoSecret() throws {
        let directory = makeTemporaryDirectory("bbcs-mail-fds")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("bbcsd.toml")
        // The shell's own descriptors, while the daemon holds its socket, the pool's
        // connections, a client's connection and the pipes of the other commands running.
        // find writes the file itself: a redirection would have the shell save a descriptor.
        try """
            mail_command = "find /proc/$$/fd -mindepth 1 -fprintf '\(directory.path)/fds.'$$ '%f -> %l\\\\n'; env > '\(directory.path)/env.'$$; cat >/dev/null; sleep 1"
            mail_concurrency = 3
            """.write(to: config, atomically: true, encoding: .utf8)
        let database = try TestPostgres.freshDatabase()
        // Where a password could come from: libpq's variables and the daemon's own.
        let daemon = try startDaemon(database, at: "2026-03-04T09:00:00Z", config: config,
                                     environment: ["PGPASSWORD": "not-for-mail", "BBCS_MAIL_TIMEOUT": "20"])
        let client = try daemon.client()
        _ = try client.call(HelloRequest())
        #expect(try remindTheHolder(daemon).created == 3)
        try waitFor { try rows(database, "SELECT count(*) FROM reminders WHERE mail_state = 'sent'") == [["3"]] }
        let listings = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("fds.") }
            .map { try String(contentsOfFile: directory.appendingPathComponent($0).path, encoding: .utf8) }
        #expect(listings.count == 3)
        for listing in listings {
            print("a mail command's descriptors:\n\(listing)")
            let descriptors = listing.split(separator: "\n").map { $0.components(separatedBy: " -> ")[0] }
            #expect(descriptors.sorted() == ["0", "1", "2"], "\(listing)")
        }
        let environments = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("env.") }
            .map { try String(contentsOfFile: directory.appendingPathComponent($0).path, encoding: .utf8) }
        #expect(environments.count == 3)
        for environment in environments {
            let names = environment.split(separator: "\n").compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) }
            #expect(names.contains("PATH") && !names.contains { $0.hasPrefix("PG") || $0.hasPrefix("BBCS_") }, "\(names)")
        }
    }

    /// The drop-in opens Internet sockets to loopback only; the unit with it stays within the
    /// score the README gives, and the unit without it within 1.0.
    @Test func theMailDropInKeepsTheUnitHardened() throws {
        let analyze = "/usr/bin/systemd-analyze"
        try #require(FileManager.default.isExecutableFile(atPath: analyze), "systemd-analyze is needed")
        let root = makeTemporaryDirectory("bbcs-dropin")
        defer { try? FileManager.default.removeItem(at: root) }
        let units = root.appendingPathComponent("etc/systemd/system")
        try FileManager.default.createDirectory(at: units.appendingPathComponent("bbcsd.service.d"), withIntermediateDirectories: true)
        for unit in ["bbcsd.service", "bbcsd.socket"] {
            try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("systemd/\(unit)"), to: units.appendingPathComponent(unit))
        }
        let dropIn = packageRoot.appendingPathComponent("systemd/bbcsd-mail-smtp.conf")
        try FileManager.default.copyItem(at: dropIn, to: units.appendingPathComponent("bbcsd.service.d/mail-smtp.conf"))
        let text = try String(contentsOf: dropIn, encoding: .utf8)
        #expect(text.contains("\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n") && text.contains("\nIPAddressAllow=localhost\n"))

        func score(_ arguments: [String]) throws -> (status: Int32, line: String) {
            let result = try runProgram(analyze, ["security", "--offline=yes"] + arguments)
            return (result.status, result.out.split(separator: "\n").last { $0.contains("Overall exposure level") }.map(String.init) ?? result.out + result.err)
        }
        let alone = try score(["--threshold=10", packageRoot.appendingPathComponent("systemd/bbcsd.service").path])
        let withDropIn = try score(["--threshold=12", "--root=\(root.path)", "bbcsd.service"])
        print("systemd-analyze security: the unit \(alone.line); with bbcsd-mail-smtp.conf \(withDropIn.line)")
        #expect(alone.status == 0 && withDropIn.status == 0, "\(alone.line) / \(withDropIn.line)")
        #expect(withDropIn.line.contains("bbcsd.service"))
    }
}

/// A port on 127.0.0.1 that nothing listens on now.
func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError(description: "socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw HarnessError(description: "cannot bind a loopback port: \(String(cString: strerror(errno)))") }
    return UInt16(bigEndian: address.sin_port)
}

/// Debian's Exim as the relay on a loopback port, in a folder of its own: it accepts every
/// message and appends it to one mbox file, which the test reads.
final class EximRelay: @unchecked Sendable {
    let directory: URL
    let port: UInt16
    let mailbox: URL
    private var process: ChildProcess?

    init(in directory: URL, port: UInt16) throws {
        self.directory = directory
        self.port = port
        mailbox = directory.appendingPathComponent("mailbox")
        let spool = directory.appendingPathComponent("spool"), log = directory.appendingPathComponent("log")
        for folder in [spool, log] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        // Exim runs as root here (-C drops its setuid privilege, and we are root) and delivers as nobody.
        guard let nobody = getpwnam("nobody")?.pointee else { throw HarnessError(description: "no account nobody") }
        for path in [directory.path, spool.path, log.path] { chown(path, nobody.pw_uid, nobody.pw_gid) }
        try """
            primary_hostname = bbcs-test.localhost
            daemon_smtp_ports = \(port)
            local_interfaces = 127.0.0.1
            spool_directory = \(spool.path)
            log_file_path = \(log.path)/%slog
            exim_user = nobody
            exim_group = \(String(cString: getgrgid(nobody.pw_gid).pointee.gr_name))
            keep_environment =
            tls_advertise_hosts =
            acl_smtp_rcpt = accept_all
            begin acl
            accept_all:
              accept
            begin routers
            everything:
              driver = accept
              transport = mailbox
            begin transports
            mailbox:
              driver = appendfile
              file = \(mailbox.path)
              user = nobody
              envelope_to_add
              return_path_add
            begin retry
            * * F,1h,1m
            """.write(to: directory.appendingPathComponent("exim.conf"), atomically: true, encoding: .utf8)
    }

    /// Starts Exim listening (in the foreground, as a child of the tests) and waits until it accepts.
    func start() throws {
        process = try ChildProcess(MailDeliveryTests.exim, ["-C", directory.appendingPathComponent("exim.conf").path, "-bdf", "-q10s"],
                                   logPath: directory.appendingPathComponent("exim.out").path)
        try waitFor {
            guard let process, process.isRunning else { throw HarnessError(description: "exim exited: \(self.logs())") }
            return connects()
        }
    }

    func stop() {
        process?.stop()
        process = nil
    }

    /// The messages in the mailbox, each from its "From " line.
    func messages() -> [String] {
        guard let text = try? String(contentsOf: mailbox, encoding: .utf8) else { return [] }
        return ("\n" + text).components(separatedBy: "\nFrom ").dropFirst().map { "From " + $0 }
    }

    func logs() -> String {
        ["exim.out", "log/mainlog", "log/paniclog"].compactMap {
            try? String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)
        }.joined(separator: "\n")
    }

    private func connects() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    deinit { process?.stop() }
}
