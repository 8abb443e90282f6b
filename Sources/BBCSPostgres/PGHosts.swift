import CLibPQ
import Foundation
import Logging
import Synchronization

/// Opens the daemon's database connections, and knows which host of a multi-host
/// connection string (`host=a,b`, `postgresql://a,b/db`) to try first.
///
/// With one host, a connection opens as libpq opens the string. With several, each new
/// connection must be a primary: `target_session_attrs=read-write` unless the string sets it.
/// The hosts are tried one at a time, the preferred one first and then the rest in their
/// order: the preferred host is the one that most recently proved primary, so a failed
/// primary started again as a primary (split brain) does not win the writes back while the
/// promoted one answers. A host whose write was refused as read-only (SQLSTATE 25006) loses
/// the preference to the next one (`demote`).
///
/// On top of that, a primary on an older timeline than one already seen on another host is
/// refused: a promoted standby starts a new timeline, and the former primary started again
/// stays on its old one, so its data has forked from what the daemon wrote since.
public final class PGHosts: Sendable {
    /// One host of the string: its `host`, `hostaddr` and `port` entries.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public let index: Int
        public let host: String?
        public let hostaddr: String?
        public let port: String?

        /// "/run/pg:5432", "db2.example:5433", "10.0.0.2".
        public var description: String { (host ?? hostaddr ?? "default") + (port.map { ":\($0)" } ?? "") }
    }

    /// The hosts in the string's order; one endpoint (with nil fields) for a string naming none.
    public let endpoints: [Endpoint]
    private let conninfo: String
    /// The string's other keywords, as PQconninfoParse read them (a URI's included).
    private let options: [Option]
    private let logger: Logger?
    private let state: Mutex<State>

    private struct Option: Sendable {
        let keyword: String
        let value: String
    }

    private struct State {
        var preferred = 0
        /// The newest timeline each host was seen on as a primary.
        var timelines: [Int: Int] = [:]
        /// Hosts refused for an old timeline, so the refusal is logged once per host and timeline.
        var refused: [Int: Int] = [:]
    }

    /// - Parameter logger: where changes of primary and refused hosts are logged (nil: nowhere).
    public init(conninfo: String, logger: Logger? = nil) {
        self.conninfo = conninfo
        self.logger = logger
        state = Mutex(State())
        guard let parsed = Self.parse(conninfo) else {
            // libpq reports what is wrong with the string when it is used.
            options = []
            endpoints = [Endpoint(index: 0, host: nil, hostaddr: nil, port: nil)]
            return
        }
        func list(_ keyword: String) -> [String] {
            parsed.first { $0.keyword == keyword }.map { $0.value.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        }
        let hosts = list("host"), addresses = list("hostaddr"), ports = list("port")
        let count = max(1, hosts.count, addresses.count)
        func entry(_ values: [String], _ index: Int) -> String? {
            // libpq's rule: one value applies to every host.
            let value = values.count == 1 ? values[0] : index < values.count ? values[index] : nil
            return value?.isEmpty == false ? value : nil
        }
        endpoints = (0..<count).map { Endpoint(index: $0, host: entry(hosts, $0), hostaddr: entry(addresses, $0), port: entry(ports, $0)) }
        var rest = parsed.filter { !["host", "hostaddr", "port"].contains($0.keyword) }
        if count > 1 && !rest.contains(where: { $0.keyword == "target_session_attrs" }) {
            rest.append(Option(keyword: "target_session_attrs", value: "read-write"))
        }
        options = rest
    }

    /// True when the string names more than one host.
    public var isMultiHost: Bool { endpoints.count > 1 }

    /// The host new connections try first.
    public var preferred: Endpoint { endpoints[state.withLock { $0.preferred }] }

    /// Opens a connection: with several hosts, to the first primary found from the preferred
    /// host on, which becomes the preferred one. Throws `PGError.connectionFailed` naming why
    /// each host was passed over.
    /// - Parameters:
    ///   - connectWithin: a tighter bound on each connect than the string's own.
    ///   - preferredOnly: try the preferred host alone, for a connection that follows the
    ///     others' choice of primary and never makes one (the health probe).
    public func connect(preparedStatementLimit: Int = PreparedStatements.defaultLimit, connectWithin: Duration? = nil,
                        preferredOnly: Bool = false) throws -> PGConnection {
        guard isMultiHost else {
            return try PGConnection(conninfo: conninfo, preparedStatementLimit: preparedStatementLimit, connectWithin: connectWithin)
        }
        let first = state.withLock { $0.preferred }
        var failures: [String] = []
        for step in 0..<(preferredOnly ? 1 : endpoints.count) {
            let endpoint = endpoints[(first + step) % endpoints.count]
            do {
                let connection = try PGConnection(parameters: parameters(for: endpoint), endpoint: endpoint,
                                                  preparedStatementLimit: preparedStatementLimit, connectWithin: connectWithin)
                try admit(connection, at: endpoint)
                return connection
            } catch let error as PGError {
                failures.append("\(endpoint): \(error.reason)")
            }
        }
        throw PGError.connectionFailed("no host is a usable primary (" + failures.joined(separator: "; ") + ")")
    }

    /// Judges `error` on one of `endpoint`'s connections. A write refused as read-only shows
    /// the host is no primary now: the preference moves to the next host. A broken connection
    /// leaves the preference where it is (the next connection tries the host first and goes on
    /// when it does not answer), since a backend terminated on the new primary must not hand
    /// the writes to an old one. Returns true for both, so the caller drops its idle
    /// connections to the host, likely broken or read-only too.
    @discardableResult
    public func demote(_ endpoint: Endpoint, after error: PGError) -> Bool {
        guard isMultiHost else { return false }
        guard error.isReadOnlyTransaction else { return error.isConnectionFailure }
        let next = state.withLock { state -> Int? in
            guard state.preferred == endpoint.index else { return nil }
            state.preferred = (endpoint.index + 1) % endpoints.count
            return state.preferred
        }
        if let next {
            logger?.notice("database host is read-only; trying the next one first", metadata: [
                "host": "\(endpoint)", "next": "\(endpoints[next])"])
        }
        return true
    }

    /// Refuses a primary on an older timeline than another host's, else records its timeline
    /// and makes it the preferred host.
    private func admit(_ connection: PGConnection, at endpoint: Endpoint) throws {
        let timeline: Int?
        do {
            timeline = try connection.one(TimelineRow.self, Self.timelineQuery).timeline
        } catch PGError.queryFailed {
            // A server that will not tell (a role denied the functions): the sticky preference alone then.
            timeline = nil
        }
        enum Verdict { case admitted(previous: Int), refused(newest: (host: Int, timeline: Int), logged: Bool) }
        let verdict = state.withLock { state -> Verdict in
            if let timeline,
               let newest = state.timelines.filter({ $0.key != endpoint.index }).max(by: { $0.value < $1.value }),
               newest.value > timeline {
                let logged = state.refused[endpoint.index] == timeline
                state.refused[endpoint.index] = timeline
                return .refused(newest: (newest.key, newest.value), logged: logged)
            }
            if let timeline { state.timelines[endpoint.index] = max(timeline, state.timelines[endpoint.index] ?? 0) }
            state.refused[endpoint.index] = nil
            defer { state.preferred = endpoint.index }
            return .admitted(previous: state.preferred)
        }
        switch verdict {
        case .admitted(let previous):
            if previous != endpoint.index {
                logger?.notice("database primary is now another host", metadata: [
                    "host": "\(endpoint)", "previous": "\(endpoints[previous])", "timeline": "\(timeline.map(String.init) ?? "unknown")"])
            }
        case .refused(let newest, let logged):
            let reason = "a primary on timeline \(timeline ?? 0), behind timeline \(newest.timeline) of \(endpoints[newest.host]): "
                + "a former primary started again as one; make it a standby of the new primary, or restart bbcsd to accept it"
            if !logged { logger?.error("database host refused", metadata: ["host": "\(endpoint)", "reason": "\(reason)"]) }
            throw PGError.connectionFailed(reason)
        }
    }

    /// The timeline WAL is written on now (the first eight hex digits of the current WAL
    /// file's name), which any role may read; null on a standby, which has none of its own.
    /// pg_control_checkpoint()'s timeline_id is the last checkpoint's, which lags a promotion
    /// until the checkpoint after it.
    private static let timelineQuery: PGQuery = """
        SELECT CASE WHEN pg_is_in_recovery() THEN NULL
               ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS timeline
        """

    private struct TimelineRow: Decodable { let timeline: Int? }

    private func parameters(for endpoint: Endpoint) -> [(String, String)] {
        var pairs = options.map { ($0.keyword, $0.value) }
        if let host = endpoint.host { pairs.append(("host", host)) }
        if let hostaddr = endpoint.hostaddr { pairs.append(("hostaddr", hostaddr)) }
        if let port = endpoint.port { pairs.append(("port", port)) }
        return pairs
    }

    /// The keywords the string sets, or nil when libpq cannot read it.
    private static func parse(_ conninfo: String) -> [Option]? {
        var message: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(conninfo, &message) else {
            if let message { PQfreemem(message) }
            return nil
        }
        defer { PQconninfoFree(parsed) }
        var options: [Option] = []
        var cursor = parsed
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val { options.append(Option(keyword: String(cString: keyword), value: String(cString: value))) }
            cursor += 1
        }
        return options
    }
}

extension PGError {
    /// SQLSTATE 25006: a write sent to a standby, or to a read-only session. Nothing was written.
    public var isReadOnlyTransaction: Bool { sqlState == "25006" }

    /// The text without its "connection failed: " lead, for lists of hosts.
    var reason: String {
        if case .connectionFailed(let message) = self { return message }
        return description
    }
}
