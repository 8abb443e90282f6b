import CLibPQ

/// Errors of the database layer. The server maps them to wire errors once. Their text is
/// for logs, and even there never holds SQL or a value: PostgreSQL's own message can quote
/// a parameter (`invalid input syntax for type integer: "abc"`) or a key
/// (`Key (code)=(x) already exists`), so only its names and codes are kept.
public enum PGError: Error, Sendable, CustomStringConvertible {
    /// The server could not be reached or the connection broke: the request may be retried later.
    /// The text is libpq's about the connection (host, socket, authentication), or the
    /// diagnostics of a statement that ended it.
    case connectionFailed(String)
    /// A statement failed.
    case queryFailed(PGDiagnostics)
    /// A result did not have the shape the code expected (names the column and the type).
    case unexpectedResult(String)
    /// Every pooled connection stayed in use for as long as a caller may wait for one.
    case poolBusy(waited: Duration)
    /// The statement was cancelled by `statement_timeout` or `lock_timeout` (SQLSTATE 57014,
    /// 55P03), or by the pool at the request's deadline, or no connection came free before
    /// it: nothing was written (an autocommit statement that failed, or a transaction whose
    /// COMMIT was not sent). The text says which, for the log.
    case timedOut(String)
    /// A write whose COMMIT may have reached PostgreSQL, and the daemon could not find out
    /// (within the request's time) whether it did: the caller must read before trying again.
    /// Every other error of a write means nothing was stored. The text says why, for logs.
    case outcomeUnknown(String)

    public var description: String {
        switch self {
        case .connectionFailed(let m): return "connection failed: \(m)"
        case .queryFailed(let diagnostics): return "query failed: \(diagnostics)"
        case .unexpectedResult(let m): return "unexpected result: \(m)"
        case .poolBusy(let waited): return "the database pool is busy: no connection came free within \(Self.seconds(waited))"
        case .timedOut(let m): return "timed out: \(m)"
        case .outcomeUnknown(let m): return "outcome unknown: \(m)"
        }
    }

    /// "10 s", "0.5 s".
    public static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return attoseconds == 0 ? "\(seconds) s" : "\(Double(seconds) + Double(attoseconds) / 1e18) s"
    }

    /// SQLSTATEs of a statement cancelled: query_canceled (statement_timeout, a cancel request)
    /// and lock_not_available (lock_timeout).
    static let cancelledStates: Set<String> = ["57014", "55P03"]

    /// PostgreSQL's five-character code, for a failed statement.
    public var sqlState: String? {
        if case .queryFailed(let diagnostics) = self { return diagnostics.sqlState }
        return nil
    }

    /// True when the connection is as good after it as before: a statement that failed, or
    /// that a session timeout stopped.
    var leavesConnectionFit: Bool {
        switch self {
        case .queryFailed, .timedOut: true
        default: false
        }
    }

    /// True for `timedOut`.
    public var isTimedOut: Bool { if case .timedOut = self { true } else { false } }

    /// True for a statement cancelled because the daemon is stopping (`PGPool.cancelledAtShutdown`).
    public var isCancelledAtShutdown: Bool {
        if case .timedOut(let why) = self { why.hasPrefix(PGPool.cancelledAtShutdown) } else { false }
    }

    /// True when the connection broke (`connectionFailed`).
    public var isConnectionFailure: Bool { if case .connectionFailed = self { true } else { false } }

    /// True for unique and exclusion violations, serialization failures and deadlocks.
    public var isConflict: Bool { ["23505", "23P01", "40001", "40P01"].contains(sqlState ?? "") }
}

/// The fields of a PostgreSQL error that are codes and names, never values: what a log may keep.
public struct PGDiagnostics: Sendable, Equatable, CustomStringConvertible {
    /// The five-character SQLSTATE, e.g. "23505".
    public var sqlState: String
    /// ERROR, FATAL or PANIC (never localised).
    public var severity: String?
    public var schema: String?
    public var table: String?
    public var column: String?
    public var dataType: String?
    public var constraint: String?

    public init(sqlState: String, severity: String? = nil, schema: String? = nil, table: String? = nil, column: String? = nil,
                dataType: String? = nil, constraint: String? = nil) {
        self.sqlState = sqlState; self.severity = severity; self.schema = schema; self.table = table
        self.column = column; self.dataType = dataType; self.constraint = constraint
    }

    /// The fields of a failed result.
    init(_ result: OpaquePointer) {
        // libpq's PG_DIAG_* codes are character macros, which Swift does not import.
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue ?? 0)).map { String(cString: $0) }
        }
        self.init(sqlState: field("C") ?? "", severity: field("V"), schema: field("s"), table: field("t"), column: field("c"),
                  dataType: field("d"), constraint: field("n"))
    }

    /// "SQLSTATE 23505 (ERROR), table public.figures, constraint figures_key".
    public var description: String {
        let relation = table.map { (schema.map { "\($0)." } ?? "") + $0 }
        let named = [("table", relation), ("column", column), ("type", dataType), ("constraint", constraint)]
            .compactMap { label, name in name.map { "\(label) \($0)" } }
        return (["SQLSTATE \(sqlState)" + (severity.map { " (\($0))" } ?? "")] + named).joined(separator: ", ")
    }
}
