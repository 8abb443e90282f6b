import BBCSClient
import BBCSProtocol
import BBCSServer
import BBCSTestSupport
import Foundation
import Testing

/// A datagram socket standing in for systemd's $NOTIFY_SOCKET.
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let fd: CInt
    private(set) var messages: [String] = []

    init(directory: URL) throws {
        path = directory.appendingPathComponent("notify.sock").path
        fd = socket(AF_UNIX, CInt(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw HarnessError(description: "cannot bind \(path)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Waits until a message containing `text` arrives after the first `skipping` messages;
    /// returns every message so far.
    @discardableResult
    func wait(for text: String, skipping: Int = 0, timeout: Duration = .seconds(30)) throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        while !messages.dropFirst(skipping).contains(where: { $0.contains(text) }) {
            guard ContinuousClock.now < deadline else {
                throw HarnessError(description: "no \(text) within \(timeout); got \(messages)")
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { messages.append(String(decoding: buffer[..<n], as: UTF8.self)) }
        }
        return messages
    }

    /// Takes every message that has arrived by now; returns every message so far.
    func drain() -> [String] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while case let n = recv(fd, &buffer, buffer.count, 0), n > 0 {
            messages.append(String(decoding: buffer[..<n], as: UTF8.self))
        }
        return messages
    }
}

@Suite("systemd integration")
struct SystemdTests {
    @Test func socketActivationWithSystemdSocketActivate() throws {
        let tool = "/usr/bin/systemd-socket-activate"
        try #require(FileManager.default.isExecutableFile(atPath: tool), "systemd-socket-activate is needed")
        let daemon = try TestDaemon(plan: nil) { socket in [tool, "--listen=\(socket)"] }
        let hello = try daemon.client().call(HelloRequest())
        #expect(hello.server == "bbcsd")
        #expect(daemon.process.log.contains("listening fd=3"))
        // Several connections on the adopted socket, one after another and at once.
        let answers = try (0..<4).map { _ in Background { try daemon.client().call(PlanShowRequest()) } }.map { try? $0.value() }
        #expect(answers.count == 4)
        #expect(daemon.process.stop() == 0)
    }

    /// LISTEN_PID names the process, so a shell sets the variables and then execs bbcsd.
    @Test(arguments: [
        ("abc", nil, "is not a number"),
        ("0", nil, "passed no socket"),
        ("", nil, "is not a number"),
        ("1", nil, "not a socket"),                 // fd 3 is not open at all
        ("1", "3</dev/null", "not a socket"),       // fd 3 is a file
    ] as [(String, String?, String)])
    func malformedActivationIsRefused(_ count: String, _ redirect: String?, _ message: String) throws {
        let database = try TestPostgres.freshDatabase()
        let bbcsd = binDirectory.appendingPathComponent("bbcsd").path
        let script = "exec 3<&-; export LISTEN_PID=$$ LISTEN_FDS='\(count)'; exec \(bbcsd) --database '\(database)' "
            + "--schema \(packageRoot.appendingPathComponent("Schema").path) \(redirect ?? "")"
        let result = try runProgram("/bin/sh", ["-c", script])
        #expect(result.status == 78, "\(result.err)")
        #expect(result.err.contains(message), "\(result.err)")
    }

    @Test func socketsForAnotherProcessAreIgnored() throws {
        let daemon = try TestDaemon(plan: nil, environment: ["LISTEN_PID": "1", "LISTEN_FDS": "1"])
        #expect(try daemon.client().call(HelloRequest()).server == "bbcsd")
        #expect(daemon.process.log.contains("listening socket="))
    }

    @Test func readyStatusWatchdogReloadAndStopping() throws {
        let directory = makeTemporaryDirectory("bbcs-notify")
        defer { try? FileManager.default.removeItem(at: directory) }
        let notify = try NotifySocket(directory: directory)
        let config = directory.appendingPathComponent("bbcsd.toml")
        try "log_level = \"info\"\n".write(to: config, atomically: true, encoding: .utf8)
        let daemon = try TestDaemon(plan: nil, extraArguments: ["--config", config.path],
                                    environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"])
        let started = try notify.wait(for: "READY=1")
        #expect(started.contains("STATUS=applying database migrations"), "\(started)")
        #expect(started.last { $0.hasPrefix("READY=1") }?.contains("MAINPID=\(daemon.process.pid)") == true)
        let pings = try notify.wait(for: "WATCHDOG=1").filter { $0 == "WATCHDOG=1" }
        #expect(!pings.isEmpty)

        let before = notify.messages.count
        kill(daemon.process.pid, SIGHUP)
        try notify.wait(for: "RELOADING=1", skipping: before)
        let afterReload = try notify.wait(for: "READY=1", skipping: notify.messages.firstIndex { $0.hasPrefix("RELOADING=1") }! + 1)
        #expect(afterReload.filter { $0.hasPrefix("READY=1") }.count == 2)

        kill(daemon.process.pid, SIGTERM)
        try notify.wait(for: "STOPPING=1")
        #expect(daemon.process.wait() == 0)
    }

    /// The shipped sysusers.d and tmpfiles.d files, applied by systemd's own tools to an
    /// empty root: clients get a group of their own for the socket, the daemon's group (with
    /// no other member) alone reads the configuration, and the password file is root's.
    @Test func clientsHaveAGroupOfTheirOwnAndOnlyTheDaemonReadsTheConfiguration() throws {
        let (sysusers, tmpfiles) = ("/usr/bin/systemd-sysusers", "/usr/bin/systemd-tmpfiles")
        try #require(FileManager.default.isExecutableFile(atPath: sysusers) && FileManager.default.isExecutableFile(atPath: tmpfiles),
                     "systemd-sysusers and systemd-tmpfiles are needed")
        let root = makeTemporaryDirectory("bbcs-sysroot")
        defer { try? FileManager.default.removeItem(at: root) }
        let etc = root.appendingPathComponent("etc")
        try FileManager.default.createDirectory(at: etc.appendingPathComponent("bbcs"), withIntermediateDirectories: true)
        for file in ["bbcsd.toml", "pgpass"] {
            #expect(FileManager.default.createFile(atPath: etc.appendingPathComponent("bbcs/" + file).path, contents: Data("x".utf8),
                                                   attributes: [.posixPermissions: 0o644]))
        }
        let users = try runProgram(sysusers, ["--root=\(root.path)", packageRoot.appendingPathComponent("systemd/bbcs.sysusers.conf").path])
        #expect(users.status == 0, "\(users.err)")
        let files = try runProgram(tmpfiles, ["--create", "--root=\(root.path)", packageRoot.appendingPathComponent("systemd/bbcs.tmpfiles.conf").path])
        #expect(files.status == 0, "\(files.err)")

        // name -> (gid, members) from the root's /etc/group.
        let groups = try String(contentsOf: etc.appendingPathComponent("group"), encoding: .utf8).split(separator: "\n").reduce(into: [String: (UInt32, String)]()) {
            let fields = $1.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count == 4, let gid = UInt32(fields[2]) { $0[String(fields[0])] = (gid, String(fields[3])) }
        }
        let daemonGroup = try #require(groups["bbcs"]), clientGroup = try #require(groups["bbcs-users"])
        #expect(daemonGroup.1.isEmpty && daemonGroup.0 != clientGroup.0)
        let passwd = try String(contentsOf: etc.appendingPathComponent("passwd"), encoding: .utf8)
        #expect(passwd.contains(":\(daemonGroup.0):bbcs business-plan daemon:"), "\(passwd)")

        func owner(_ path: String) -> [UInt32] {
            var info = stat()
            stat(etc.appendingPathComponent(path).path, &info)
            return [UInt32(info.st_mode) & 0o7777, info.st_uid, info.st_gid]
        }
        #expect(owner("bbcs") == [0o750, 0, daemonGroup.0])
        #expect(owner("bbcs/bbcsd.toml") == [0o640, 0, daemonGroup.0])
        #expect(owner("bbcs/pgpass") == [0o600, 0, 0])

        let socket = try String(contentsOf: packageRoot.appendingPathComponent("systemd/bbcsd.socket"), encoding: .utf8)
        #expect(socket.contains("\nSocketGroup=bbcs-users\n") && socket.contains("\nSocketMode=0660\n"))
        let service = try String(contentsOf: packageRoot.appendingPathComponent("systemd/bbcsd.service"), encoding: .utf8)
        #expect(service.contains("\nUser=bbcs\n") && service.contains("\nGroup=bbcs\n") && !service.contains("bbcs-users"))
        let password = try String(contentsOf: packageRoot.appendingPathComponent("systemd/bbcsd-password.conf"), encoding: .utf8)
        #expect(password.contains("\nLoadCredential=\(SystemdCredentials.passfileName):/etc/bbcs/pgpass\n"))
    }

    /// The repository's unit must stay at or below 1.0 ("SAFE"); CI runs the same check.
    @Test func serviceHardeningScoresAtMostOne() throws {
        let analyze = "/usr/bin/systemd-analyze"
        try #require(FileManager.default.isExecutableFile(atPath: analyze), "systemd-analyze is needed")
        let unit = packageRoot.appendingPathComponent("systemd/bbcsd.service").path
        let result = try runProgram(analyze, ["security", "--offline=yes", "--threshold=10", unit])
        #expect(result.status == 0, "\(result.out.suffix(2000))")
        let text = try String(contentsOfFile: unit, encoding: .utf8)
        #expect(text.contains("PrivateUsers=no"))
        #expect(text.contains("Type=notify"))
    }
}
