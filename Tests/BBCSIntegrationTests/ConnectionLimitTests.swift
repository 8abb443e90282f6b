import BBCSClient
import BBCSProtocol
import BBCSServer
import BBCSTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A bare connection to the daemon's socket, for what `Client` does not do: hold a
/// connection without a request, read what the daemon sends unasked, see it close; every
/// wait has a deadline.
final class RawConnection {
    struct TimedOut: Error, CustomStringConvertible {
        var description: String { "nothing from the daemon in time" }
    }

    private let fd: Int32
    private var pending: [UInt8] = []

    init(_ path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard status == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw HarnessError(description: "connect \(path): \(reason)")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw HarnessError(description: "send: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    /// Whether the daemon has closed its end, looked at without reading what it sent.
    var closedByDaemon: Bool {
        var descriptor = pollfd(fd: fd, events: 0, revents: 0)
        return poll(&descriptor, 1, 0) == 1 && descriptor.revents & Int16(POLLHUP) != 0
    }

    /// Whether something (a line or the close) arrives within `timeout`.
    func readable(within timeout: Duration) -> Bool {
        if !pending.isEmpty { return true }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)) == 1
    }

    /// The next line the daemon sends, or nil when it closes the connection first.
    func readLine(timeout: Duration = .seconds(10)) throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                defer { pending.removeSubrange(...newline) }
                return String(decoding: pending[..<newline], as: UTF8.self)
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero, readable(within: left) else { throw TimedOut() }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &chunk, chunk.count, 0)
            if n < 0 && errno == EINTR { continue }
            // A reset after the daemon's last line is a close too.
            guard n > 0 else { return nil }
            pending += chunk[..<n]
        }
    }

    /// Sends `system.hello` and whether the reply is bbcsd's.
    func hello() throws -> Bool {
        try send(#"{"id":1,"method":"system.hello"}"# + "\n")
        return try readLine()?.contains(#""server":"bbcsd""#) == true
    }
}

/// What /proc says about a running daemon.
enum DaemonProcess {
    /// Its open descriptors.
    static func descriptors(_ pid: pid_t) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// Its open descriptors once the count has held still for half a second (the harness's
    /// start-up check has closed its connection).
    static func settledDescriptors(_ pid: pid_t) throws -> Int {
        var last = descriptors(pid), since = ContinuousClock.now
        try waitUntil("the daemon's descriptors to settle") {
            let now = descriptors(pid)
            if now != last { (last, since) = (now, ContinuousClock.now) }
            return ContinuousClock.now - since >= .milliseconds(500)
        }
        return last
    }

    /// The CPU time it has used, user and system, in seconds.
    static func cpuSeconds(_ pid: pid_t) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return -1 }
        // After "pid (comm)": state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return -1 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// Waits until `condition` holds, or fails naming `what` and, if given, the daemon's
/// descriptors and log then.
func waitUntil(_ what: String, timeout: Duration = .seconds(15), daemon: TestDaemon? = nil, _ condition: () throws -> Bool) throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else {
            let state = daemon.map { d in
                " (descriptors \(DaemonProcess.descriptors(d.process.pid))); the log ends:\n" + d.process.log.suffix(4000)
            }
            throw HarnessError(description: "\(what) did not happen within \(timeout)" + (state ?? ""))
        }
        usleep(50_000)
    }
}

/// The error object of a raw reply line.
private func error(_ line: String?) -> [String: Any] {
    let object = line.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any]
    return object?["error"] as? [String: Any] ?? [:]
}

private func detail(_ line: String?, _ key: String) -> String? { (error(line)["data"] as? [String: Any])?[key] as? String }

/// Connection caps, idle and partial-line timeouts, the descriptor limit and the socket
/// file, each against a real daemon over its real socket.
@Suite("connection limits", .serialized)
struct ConnectionLimitTests {
    /// One uid at its cap is refused with one line while another uid still gets in, until
    /// the total cap; descriptors are given back when the clients go.
    @Test(.enabled(if: TestAccounts.available, "needs root to create a second account and run setpriv"))
    func capsInAllAndPerUIDAnswerOneLineThenClose() throws {
        let other = try TestAccounts.ensure("bbcs-t-limits")
        // One database connection, so the daemon's descriptors are its own plus one a client.
        let daemon = try TestDaemon(plan: nil, extraArguments: ["--pool-size", "1"],
                                    environment: ["BBCS_MAX_CONNECTIONS": "5", "BBCS_MAX_CONNECTIONS_PER_UID": "3"])
        let pid = daemon.process.pid
        let baseline = try DaemonProcess.settledDescriptors(pid)

        var mine = try (0..<3).map { _ in try RawConnection(daemon.socketPath) }
        for connection in mine { #expect(try connection.hello()) }
        #expect(DaemonProcess.descriptors(pid) == baseline + 3)
        let over = try RawConnection(daemon.socketPath)
        let refusal = try over.readLine()
        #expect(error(refusal)["code"] as? String == "too_many_connections", "\(refusal ?? "closed")")
        #expect(detail(refusal, "limit") == "max_connections_per_uid" && detail(refusal, "max") == "3")
        #expect(try over.readLine() == nil)

        let ctl = try daemon.ctl(["whoami"])
        #expect(ctl.status == 75 && ctl.err.contains("connections"), "\(ctl)")

        // Another uid gets in while this one is at its cap: two connections served, and the
        // third, the sixth in all, is over the total.
        let script = """
            import socket, sys
            held = []
            for n in range(3):
                s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1]); f = s.makefile("rb")
                if n < 2: s.sendall(b'{"id":1,"method":"system.hello"}\\n')
                print(f.readline().decode().strip(), flush=True)
                held.append((s, f))
            """
        let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "python3"
        let run = try runProgram("/usr/bin/setpriv", ["--reuid=\(other.uid)", "--regid=\(other.gid)", "--clear-groups", "--",
                                                      "/usr/bin/timeout", "30", python, "-c", script, daemon.socketPath])
        let lines = run.out.split(separator: "\n").map(String.init)
        #expect(run.status == 0 && lines.count == 3, "\(run)")
        #expect(lines.prefix(2).allSatisfy { $0.contains(#""server":"bbcsd""#) }, "\(lines)")
        #expect(error(lines.last)["code"] as? String == "too_many_connections" && detail(lines.last, "limit") == "max_connections",
                "\(lines)")

        try waitUntil("the other uid's connections to close", daemon: daemon) { DaemonProcess.descriptors(pid) == baseline + 3 }
        mine.removeAll()
        try waitUntil("the daemon's descriptors to come back to \(baseline)", daemon: daemon) { DaemonProcess.descriptors(pid) == baseline }
        // The counts went down with them: this uid is served again.
        #expect(try RawConnection(daemon.socketPath).hello())
    }

    /// A silent connection is told and closed after idle_timeout, a line left unfinished
    /// after partial_line_timeout even while bytes trickle in; a connection in use, and a
    /// line sent in pieces, are served.
    @Test func idleAndPartialLineTimeoutsCloseWithOneLine() throws {
        let daemon = try TestDaemon(plan: nil, environment: ["BBCS_IDLE_TIMEOUT": "2", "BBCS_PARTIAL_LINE_TIMEOUT": "1"])

        let silent = try RawConnection(daemon.socketPath)
        let idle = try silent.readLine(timeout: .seconds(20))
        #expect(error(idle)["code"] as? String == "unavailable" && detail(idle, "reason") == "idle_timeout", "\(idle ?? "closed")")
        #expect(try silent.readLine() == nil)

        let busy = try RawConnection(daemon.socketPath)
        for _ in 0..<8 {
            #expect(try busy.hello())
            usleep(400_000)
        }
        let pieces = try RawConnection(daemon.socketPath)
        try pieces.send(#"{"id":1,"method":"#)
        usleep(200_000)
        try pieces.send(#""system.hello"}"# + "\n")
        #expect(try pieces.readLine()?.contains(#""server":"bbcsd""#) == true)

        let trickle = try RawConnection(daemon.socketPath)
        var sent = 0
        while sent < 60, !trickle.readable(within: .milliseconds(300)) {
            // The daemon may close between the look and the send.
            try? trickle.send(sent == 0 ? "{" : " ")
            sent += 1
        }
        let partial = try trickle.readLine()
        #expect(error(partial)["code"] as? String == "invalid_request" && detail(partial, "reason") == "partial_line_timeout",
                "\(partial ?? "closed") after \(sent) bytes")
        #expect(try trickle.readLine() == nil)
        #expect(sent > 1, "closed before the line went quiet")

        // The two still open fall idle too.
        for connection in [busy, pieces] {
            let line = try connection.readLine(timeout: .seconds(20))
            #expect(detail(line, "reason") == "idle_timeout", "\(line ?? "closed")")
            #expect(try connection.readLine() == nil)
        }

        // Requests whose replies are never read: once the replies back up (a thousand method
        // lists are megabytes, far more than the socket buffers hold), the connection is as
        // idle as a silent one.
        let deaf = try RawConnection(daemon.socketPath)
        try deaf.send(String(repeating: #"{"id":1,"method":"system.describe"}"# + "\n", count: 1000))
        try waitUntil("the daemon to close a connection that reads nothing", timeout: .seconds(30), daemon: daemon) { deaf.closedByDaemon }
        var answered = 0
        while try deaf.readLine() != nil { answered += 1 }
        #expect(answered > 0 && answered < 1000)
    }

    /// Under a descriptor limit of 64, 100 clients: the daemon stops accepting and waits
    /// instead of retrying accept at full CPU, and serves again once they go.
    @Test func atTheDescriptorLimitTheDaemonWaitsInsteadOfSpinning() throws {
        let prlimit = "/usr/bin/prlimit"
        try #require(FileManager.default.isExecutableFile(atPath: prlimit), "prlimit is needed")
        let daemon = try TestDaemon(plan: nil) { _ in [prlimit, "--nofile=64:64", "--"] }
        let pid = daemon.process.pid
        var held = try (0..<100).map { _ in try RawConnection(daemon.socketPath) }
        try waitUntil("the daemon to use up its descriptors", daemon: daemon) { DaemonProcess.descriptors(pid) >= 62 }
        usleep(500_000)
        let before = DaemonProcess.cpuSeconds(pid)
        sleep(3)
        let used = DaemonProcess.cpuSeconds(pid) - before
        // Spinning on accept takes what CPU it gets (1.5 s of these 3 on a busy two-core
        // machine); waiting takes about 0.01 s.
        #expect(used >= 0 && used < 0.3, "the daemon used \(used) s of CPU in 3 s at its descriptor limit")
        #expect(daemon.process.log.contains("out of file descriptors"))
        #expect(daemon.process.log.contains("the descriptor limit leaves no room for max_connections"))

        held.removeAll()
        try waitUntil("a new client to be served", timeout: .seconds(20)) { (try? RawConnection(daemon.socketPath).hello()) == true }
        #expect(daemon.process.log.contains("accepting connections again"))
    }

    /// bind creates the socket file under the daemon's umask with exactly the mode asked.
    @Test func theSocketFileHasExactlyItsMode() throws {
        let daemon = try TestDaemon(plan: nil, extraArguments: ["--socket-mode", "604"])
        var info = stat()
        #expect(lstat(daemon.socketPath, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o604 && info.st_mode & S_IFMT == S_IFSOCK)
    }

    /// Whoever can write the socket's folder swaps a symlink to a 0600 file in for the socket
    /// the moment it appears: the daemon must not set the mode through the path, which would
    /// make that file 0666. The swap races the daemon, so it is tried a few times.
    @Test func aSymlinkSwappedInForTheSocketKeepsItsTargetsMode() throws {
        let database = try TestPostgres.freshDatabase()
        for _ in 0..<3 {
            let directory = makeTemporaryDirectory("bbcs-swap")
            defer { try? FileManager.default.removeItem(at: directory) }
            let victim = directory.appendingPathComponent("victim").path
            let socketPath = directory.appendingPathComponent("bbcsd.sock").path
            let link = directory.appendingPathComponent("link").path
            #expect(FileManager.default.createFile(atPath: victim, contents: Data("secret".utf8), attributes: [.posixPermissions: 0o600]))
            #expect(symlink(victim, link) == 0)

            let swapped = Background { () -> Bool in
                let deadline = ContinuousClock.now + .seconds(30)
                var info = stat()
                while ContinuousClock.now < deadline {
                    if lstat(socketPath, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK { return rename(link, socketPath) == 0 }
                }
                return false
            }
            let process = try ChildProcess(binDirectory.appendingPathComponent("bbcsd").path,
                                           TestPostgres.daemonArguments(database) + ["--socket", socketPath, "--socket-mode", "666",
                                            "--schema", packageRoot.appendingPathComponent("Schema").path, "--log-level", "debug"],
                                           logPath: directory.appendingPathComponent("bbcsd.log").path)
            defer { process.stop() }
            #expect(try swapped.value(), "the socket never appeared: \(process.log)")
            try waitUntil("the daemon to listen") { process.log.contains("listening") || !process.isRunning }
            var info = stat()
            #expect(stat(victim, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600, "the daemon set the mode of the file the symlink names")
        }
    }

    /// The unit leaves room above the default connection cap.
    @Test func theUnitAllowsMoreDescriptorsThanTheCap() throws {
        let unit = try String(contentsOf: packageRoot.appendingPathComponent("systemd/bbcsd.service"), encoding: .utf8)
        let value = unit.split(separator: "\n").first { $0.hasPrefix("LimitNOFILE=") }.flatMap { Int($0.dropFirst("LimitNOFILE=".count)) }
        guard case .int(let cap)? = Setting.named("max_connections")?.defaultValue else {
            Issue.record("max_connections has no default")
            return
        }
        #expect((value ?? 0) > cap + 64, "LimitNOFILE= must be above max_connections (\(cap))")
    }
}
