import CLibPQ
import Foundation

/// What a libpq connection string says, read by libpq's own parser.
public enum ConnectionString {
    /// The value of `keyword` in `conninfo` (keywords or URI); nil when it is not set or the
    /// string does not parse.
    public static func value(of keyword: String, in conninfo: String) -> String? {
        guard let options = PQconninfoParse(conninfo, nil) else { return nil }
        defer { PQconninfoFree(options) }
        return value(of: keyword, in: options)
    }

    /// The value of `keyword` in an option array of libpq's (`PQconninfoParse`, `PQconninfo`).
    static func value(of keyword: String, in options: UnsafeMutablePointer<PQconninfoOption>) -> String? {
        var option = options
        while let name = option.pointee.keyword {
            if String(cString: name) == keyword { return option.pointee.val.map { String(cString: $0) } }
            option += 1
        }
        return nil
    }

    /// The role a connection over `conninfo` logs in as, as libpq chooses it: the string's
    /// `user`, else `PGUSER`, else the login of the user running this process.
    public static func role(of conninfo: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let user = value(of: "user", in: conninfo), !user.isEmpty { return user }
        if let user = environment["PGUSER"], !user.isEmpty { return user }
        return getpwuid(geteuid())?.pointee.pw_name.map { String(cString: $0) }
    }
}
