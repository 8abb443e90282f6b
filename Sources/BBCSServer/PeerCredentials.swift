#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BBCSProtocol
import NIOCore

/// glibc's `struct ucred` (pid_t, uid_t, gid_t), which Swift cannot see without _GNU_SOURCE.
/// Three 32-bit fields, so this struct has the same layout.
struct UCred: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

enum PeerCredentials {
    /// SO_PEERCRED from <asm-generic/socket.h>; the same on every Linux architecture Swift runs on
    /// except those with their own socket.h (none of x86_64, aarch64).
    static let soPeerCred: Int32 = 17

    /// The kernel's record of who is at the other end of a Unix socket channel.
    static func read(from channel: Channel) -> EventLoopFuture<Identity> {
        guard let provider = channel as? SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
        }
        return provider.unsafeGetSocketOption(level: .socket, name: NIOBSDSocket.Option(rawValue: soPeerCred))
            .map { (cred: UCred) in Identity(uid: cred.uid, gid: cred.gid, pid: cred.pid, user: UnixAccounts.name(uid: cred.uid)) }
    }

}
