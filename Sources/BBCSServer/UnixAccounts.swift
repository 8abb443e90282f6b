#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOPosix

/// The host's account database (passwd, and whatever NSS adds: LDAP, sssd).
enum UnixAccounts {
    /// The user name of `uid`, or "#uid" when the account has no name.
    static func name(uid: UInt32) -> String {
        lookup { getpwuid_r(uid, $0, $1, $2, $3) }?.login ?? "#\(uid)"
    }

    /// The account called `login`, with its full name from the GECOS field. NSS may ask a
    /// directory server (LDAP, sssd), so the lookup runs on a thread pool, never on Swift's
    /// cooperative threads.
    static func account(_ login: String) async throws -> (login: String, uid: UInt32, fullName: String)? {
        try await NIOThreadPool.singleton.runIfActive { lookup { getpwnam_r(login, $0, $1, $2, $3) } }
    }

    private static func lookup(
        _ call: (UnsafeMutablePointer<passwd>, UnsafeMutablePointer<CChar>, Int, UnsafeMutablePointer<UnsafeMutablePointer<passwd>?>) -> Int32
    ) -> (login: String, uid: UInt32, fullName: String)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let status = buffer.withUnsafeMutableBufferPointer { buffer in call(&entry, buffer.baseAddress!, buffer.count, &result) }
        guard status == 0, result != nil, let name = entry.pw_name else { return nil }
        let gecos = entry.pw_gecos.map { String(cString: $0) } ?? ""
        // GECOS is "Full Name,room,work phone,home phone"; only the name is wanted.
        let fullName = gecos.split(separator: ",", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return (String(cString: name), entry.pw_uid, fullName)
    }
}
