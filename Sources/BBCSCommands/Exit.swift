import BBCSClient
import BBCSCore
import BBCSProtocol
import Foundation

/// Exit statuses scripts can rely on (sysexits.h where one fits).
enum Exit {
    static let usage: Int32 = 64          // EX_USAGE: bad command line or parameters
    static let cannotConnect: Int32 = 69  // EX_UNAVAILABLE: no daemon on the socket
    static let software: Int32 = 70       // EX_SOFTWARE: the daemon failed (internal)
    static let temporary: Int32 = 75      // EX_TEMPFAIL: the database is unavailable or too slow (timeout), or the daemon is full
    static let protocolError: Int32 = 76  // EX_PROTOCOL: the reply was not understood
    static let permission: Int32 = 77     // EX_NOPERM: unauthenticated or permission denied
    static let notFound: Int32 = 3
    static let conflict: Int32 = 4

    static func status(for error: ClientError) -> Int32 {
        switch error {
        case .cannotConnect: return cannotConnect
        case .protocolFailure: return protocolError
        case .server(let error):
            switch error.code {
            case .parseError, .invalidRequest, .methodNotFound, .invalidParams, .tooLarge: return usage
            case .unauthenticated, .permissionDenied: return permission
            case .notFound: return notFound
            case .conflict: return conflict
            case .unavailable, .timeout, .tooManyConnections, .tooSlow: return temporary
            case .internal: return software
            }
        }
    }
}
