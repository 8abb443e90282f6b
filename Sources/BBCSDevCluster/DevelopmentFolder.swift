import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The folder of `bbcsd --dev DIR`: the private cluster in `DIR/postgres` and the socket
/// `DIR/bbcsd.sock`, claimed by one daemon at a time.
public struct DevelopmentFolder: Sendable {
    public let directory: URL

    /// The private cluster in `DIR/postgres`.
    public var cluster: PostgresCluster { PostgresCluster(directory: directory.appendingPathComponent("postgres")) }

    /// Claims `directory` for this process until it exits: creates it if need be, refuses it
    /// unless it is a real folder of this process's user that no one else may write to, and
    /// refuses it while another daemon holds it. A cluster running in a claimed folder is
    /// therefore one whose daemon is gone, and this process may adopt (and stop) it.
    public static func claim(_ directory: URL) throws -> DevelopmentFolder {
        let directory = directory.standardizedFileURL
        try FileManager.default.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
        // 0755: the server's account must pass through it to reach DIR/postgres.
        let folder = try OwnedFolder(directory.path, creatingWith: 0o755, owners: [geteuid()])
        var status = stat()
        if geteuid() == 0, fstat(folder.descriptor, &status) == 0, status.st_mode & 0o001 == 0 {
            let mode = String(status.st_mode & 0o7777, radix: 8)
            throw FolderRefusal(path: directory.path,
                                reason: "the postgres account cannot pass through it to its cluster (mode \(mode); chmod o+x \(directory.path))")
        }
        let lock = openat(folder.descriptor, "bbcsd.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard lock >= 0 else {
            throw FolderRefusal(path: directory.path,
                                reason: "its lock file bbcsd.lock cannot be opened (\(String(cString: strerror(errno))))")
        }
        // The lock is held by this open descriptor, never closed, so it ends with the process
        // however it ends (a daemon killed with SIGKILL included); CLOEXEC keeps PostgreSQL from
        // inheriting it.
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(lock, &buffer, buffer.count, 0)
            let holder = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
            close(lock)
            throw FolderRefusal(path: directory.path,
                                reason: "another bbcsd\(holder.isEmpty ? "" : " (pid \(holder))") is using it; stop that one first")
        }
        // A daemon from before this lock, or one started by hand, shows by answering.
        let socket = directory.appendingPathComponent("bbcsd.sock").path
        if answers(socket) {
            close(lock)
            throw FolderRefusal(path: directory.path, reason: "another bbcsd already serves \(socket); stop that one first")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(lock, 0)
        _ = pwrite(lock, pid, pid.count, 0)
        return DevelopmentFolder(directory: directory)
    }

    /// True when something accepts connections on the Unix socket `path`.
    private static func answers(_ path: String) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
    }
}
