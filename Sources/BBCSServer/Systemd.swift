#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// Socket activation without libsystemd (sd_listen_fds(3)): the listening socket systemd
/// passed as fd 3, when LISTEN_PID names this process.
public enum SocketActivation {
    /// Why the passed sockets cannot be used.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// First descriptor systemd passes (SD_LISTEN_FDS_START).
    static let firstDescriptor: CInt = 3

    /// The listening socket systemd passed, or nil when none was passed to this process.
    /// The variables are unset either way, so children never see them.
    public static func listeningDescriptor(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CInt? {
        defer { for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) } }
        guard let pidText = environment["LISTEN_PID"] else { return nil }
        // Sockets meant for another process (e.g. inherited through a wrapper) are not ours.
        guard let pid = Int32(pidText), pid == getpid() else { return nil }
        guard let countText = environment["LISTEN_FDS"], let count = Int32(countText) else {
            throw Invalid(description: "LISTEN_FDS=\(environment["LISTEN_FDS"] ?? "(unset)") is not a number of descriptors")
        }
        guard count >= 1 else { throw Invalid(description: "LISTEN_FDS=\(count): systemd passed no socket") }
        guard count <= 64 else { throw Invalid(description: "LISTEN_FDS=\(count) is implausibly many") }
        for fd in firstDescriptor..<(firstDescriptor + count) {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        let fd = firstDescriptor
        var type: CInt = 0, listening: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 else {
            throw Invalid(description: "descriptor \(fd) passed by systemd is not a socket")
        }
        length = socklen_t(MemoryLayout<CInt>.size)
        guard type == CInt(SOCK_STREAM.rawValue), getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0, listening == 1 else {
            throw Invalid(description: "descriptor \(fd) passed by systemd is not a listening stream socket (ListenStream=)")
        }
        return fd
    }
}

/// sd_notify(3) without libsystemd: one datagram per message to $NOTIFY_SOCKET.
public final class SystemdNotifier: Sendable {
    private let path: String?
    /// Half of the watchdog interval systemd expects pings at, when it expects any.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        if let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0,
           environment["WATCHDOG_PID"].flatMap(Int32.init).map({ $0 == getpid() }) ?? true {
            watchdogInterval = .microseconds(Int64(usec / 2))
        } else {
            watchdogInterval = nil
        }
        // Children (PostgreSQL's tools) must not notify on our behalf.
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] { unsetenv(name) }
    }

    public var isEnabled: Bool { path != nil }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)\nMAINPID=\(getpid())") }
    public func status(_ text: String) { send("STATUS=\(text)") }
    public func stopping() { send("STOPPING=1\nSTATUS=stopping") }
    public func watchdog() { send("WATCHDOG=1") }
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        send("RELOADING=1\nMONOTONIC_USEC=\(UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000)")
    }

    /// Sends one message; failures are ignored, as sd_notify's are by most daemons.
    public func send(_ message: String) {
        guard let path else { return }
        let fd = socket(AF_UNIX, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        // A leading "@" is the abstract namespace: a NUL byte, and the length counts only what is used.
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        _ = message.withCString { text in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, text, strlen(text), CInt(MSG_NOSIGNAL), $0, length) }
            }
        }
    }
}

/// Credentials systemd passes (`LoadCredential=`), read from $CREDENTIALS_DIRECTORY.
public enum SystemdCredentials {
    /// The credential holding a libpq password file (`LoadCredential=pgpass:/etc/bbcs/pgpass`).
    public static let passfileName = "pgpass"

    /// The password file systemd passed, for `PGPASSFILE`: nil when none was passed, or when
    /// `PGPASSFILE` is already set (a connection string's own `passfile` wins over both).
    public static func passfile(environment: [String: String]) -> String? {
        guard environment["PGPASSFILE"] == nil, let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else { return nil }
        let path = URL(fileURLWithPath: directory).appendingPathComponent(passfileName).path
        return FileManager.default.isReadableFile(atPath: path) ? path : nil
    }
}
