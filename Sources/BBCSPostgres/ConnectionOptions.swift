import CLibPQ
import Foundation

/// A libpq connection string taken apart (`PQconninfoParse`, so keyword and URI forms and
/// multi-host lists read the same), with bbcs's defaults added for what it leaves out, and
/// opened with `PQconnectdbParams`.
///
/// The defaults bound a connect and make a silent server (a frozen primary, a cut network)
/// noticed within seconds on TCP: libpq's own wait forever. What the string sets stays.
struct ConnectionOptions {
    /// Option values by keyword, those the string set and the defaults.
    private(set) var values: [(keyword: String, value: String)]

    /// Seconds a connect may take per host; keepalives probe an idle connection after 5 s,
    /// every 2 s, 3 times; unacknowledged data ends the connection after 10 s.
    static let defaults: [(keyword: String, value: String)] = [
        ("connect_timeout", "5"), ("keepalives", "1"), ("keepalives_idle", "5"), ("keepalives_interval", "2"),
        ("keepalives_count", "3"), ("tcp_user_timeout", "10000"),
    ]

    /// - Parameter connectWithin: a tighter bound on the connect than the string's own.
    init(conninfo: String, connectWithin: Duration? = nil) throws {
        var error: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(conninfo, &error) else {
            // libpq's message names the fault, never the values (a password, say).
            let message = error.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "out of memory"
            if let error { PQfreemem(error) }
            throw PGError.connectionFailed("the connection string is not valid: \(message)")
        }
        defer { PQconninfoFree(parsed) }
        var values: [(String, String)] = []
        var option = parsed
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { values.append((String(cString: keyword), String(cString: value))) }
            option += 1
        }
        self.init(parameters: values, connectWithin: connectWithin)
    }

    /// Options already taken apart (one host's, from `PGHosts`), with the defaults added.
    init(parameters: [(String, String)], connectWithin: Duration? = nil) {
        values = parameters.map { (keyword: $0.0, value: $0.1) }
        for (keyword, value) in Self.defaults where self.value(of: keyword) == nil {
            values.append((keyword, value))
        }
        if let connectWithin {
            // libpq counts whole seconds, and takes less than 2 as 2; 0 means no limit.
            let bound = max(2, Int((Double(connectWithin.wholeMilliseconds) / 1000).rounded(.up)))
            let current = value(of: "connect_timeout").flatMap(Int.init) ?? 0
            if current <= 0 || current > bound { set("connect_timeout", "\(bound)") }
        }
    }

    func value(of keyword: String) -> String? { values.first { $0.keyword == keyword }?.value }

    private mutating func set(_ keyword: String, _ value: String) {
        values.removeAll { $0.keyword == keyword }
        values.append((keyword, value))
    }

    /// Opens the connection (blocking); nil only when libpq is out of memory.
    func connect() -> OpaquePointer? {
        let keywords = values.map { strdup($0.keyword) } + [nil]
        let settings = values.map { strdup($0.value) } + [nil]
        defer { (keywords + settings).forEach { free($0) } }
        return keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { keywords in
            settings.map { UnsafePointer($0) }.withUnsafeBufferPointer { settings in
                // expand_dbname 0: the string was expanded by the parse already.
                PQconnectdbParams(keywords.baseAddress, settings.baseAddress, 0)
            }
        }
    }
}

/// A connection's cancel key (`PQgetCancel`), usable from any thread while another one waits
/// on the connection, and alive as long as anyone holds it, whatever becomes of the connection.
final class PGCanceller: @unchecked Sendable {
    private let handle: OpaquePointer

    init?(_ connection: OpaquePointer) {
        guard let handle = PQgetCancel(connection) else { return nil }
        self.handle = handle
    }

    deinit { PQfreeCancel(handle) }

    /// Asks the server to cancel the statement running; blocks until the postmaster has taken
    /// the request, which a frozen server never does, so call it from a thread of its own.
    /// False when the request could not be sent.
    func cancel() -> Bool {
        var buffer = [CChar](repeating: 0, count: 256)
        return PQcancel(handle, &buffer, Int32(buffer.count)) == 1
    }
}
