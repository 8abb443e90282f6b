import CLibPQ
import Foundation

/// One libpq connection. Its calls block: run them off Swift's cooperative pool (`PGPool`
/// does), and from one thread at a time.
///
/// Statements are `PGQuery`s, written by interpolation that binds every value, and their
/// rows are read by column name into `Decodable` row structs (`PGResult.decode(_:)` has the
/// rules):
///
///     let figures = try db.rows(FigureRow.self, "SELECT ... WHERE indicator_id = \(id)")
public final class PGConnection: @unchecked Sendable {
    let handle: OpaquePointer
    /// This connection's prepared statements by SQL text; a new connection starts empty.
    private var statements: PreparedStatements
    /// The host of a multi-host connection string it was opened to (`PGHosts`); nil otherwise.
    public let endpoint: PGHosts.Endpoint?
    /// Asks the server to cancel the statement running on this connection, from any thread.
    let canceller: PGCanceller?
    /// The session limits last put in force on this connection (`apply(_:)`).
    private var sessionTimeouts: SessionTimeouts?
    /// Whether the statement sent last could have committed a change on its own: one sent
    /// outside a transaction (autocommit), or COMMIT. Read after it failed, by its own thread.
    private(set) var lastStatementMayCommit = false

    /// Opens a connection from a libpq connection string (keywords or URI). Options the
    /// string leaves out get bbcs's defaults (`ConnectionOptions`): a bounded connect and TCP
    /// keepalives, so a silent server is noticed.
    /// - Parameters:
    ///   - preparedStatementLimit: the most statements kept prepared on it; others run unnamed.
    ///   - connectWithin: a tighter bound on the connect than the string's own, e.g. what is
    ///     left of a request's time.
    public convenience init(conninfo: String, preparedStatementLimit: Int = PreparedStatements.defaultLimit,
                            connectWithin: Duration? = nil) throws {
        try self.init(options: ConnectionOptions(conninfo: conninfo, connectWithin: connectWithin), endpoint: nil,
                      preparedStatementLimit: preparedStatementLimit)
    }

    /// Opens a connection from libpq keywords and values, to one host of a `PGHosts`.
    convenience init(parameters: [(String, String)], endpoint: PGHosts.Endpoint, preparedStatementLimit: Int,
                     connectWithin: Duration?) throws {
        try self.init(options: ConnectionOptions(parameters: parameters, connectWithin: connectWithin), endpoint: endpoint,
                      preparedStatementLimit: preparedStatementLimit)
    }

    private init(options: ConnectionOptions, endpoint: PGHosts.Endpoint?, preparedStatementLimit: Int) throws {
        statements = PreparedStatements(limit: preparedStatementLimit)
        self.endpoint = endpoint
        guard let handle = options.connect() else { throw PGError.connectionFailed("out of memory") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(handle)
            throw PGError.connectionFailed(message)
        }
        self.handle = handle
        canceller = PGCanceller(handle)
        // Notices (e.g. "relation already exists, skipping") are not for stderr.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
    }

    deinit { PQfinish(handle) }

    /// The value of a connection option as libpq uses it (`keepalives`, `connect_timeout`...),
    /// nil when unset: what the connection string said, or bbcs's default (`ConnectionOptions`).
    public func option(_ keyword: String) -> String? {
        guard let options = PQconninfo(handle) else { return nil }
        defer { PQconninfoFree(options) }
        return ConnectionString.value(of: keyword, in: options)
    }

    /// Puts `timeouts` in force for this session (`statement_timeout`, `lock_timeout`), unless
    /// they already are. Outside a transaction only, so no ROLLBACK can undo the SET.
    func apply(_ timeouts: SessionTimeouts?) throws {
        guard let timeouts, timeouts != sessionTimeouts, PQtransactionStatus(handle) == PQTRANS_IDLE else { return }
        try execute(script: timeouts.script)
        // A SET commits nothing: a write abandoned after it has not been sent.
        lastStatementMayCommit = false
        sessionTimeouts = timeouts
    }

    /// A duplicate of the connection's socket (close-on-exec), for `StatementWatch` to shut
    /// down from another thread when the server does not answer even a cancel (a frozen
    /// server): the thread blocked on it wakes with the connection broken, and the connection
    /// is never fit for use again. -1 when it has none.
    func duplicateSocket() -> Int32 {
        let socket = PQsocket(handle)
        return socket >= 0 ? fcntl(socket, F_DUPFD_CLOEXEC, 0) : -1
    }

    /// The process id of the connection's backend (kept after the connection broke).
    var backendPID: Int32 { PQbackendPID(handle) }

    /// False once the connection to the server has broken.
    public var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// False when the server said anything to the connection while it sat idle, or closed it
    /// (a terminated backend, a restart: its FATAL message, then the end), so a write is not
    /// sent on a connection that is already gone and then taken for one that may have
    /// committed. An idle connection of the pool has nothing to hear: any input at all means
    /// it is going. Does not wait.
    var isOpenAfterIdle: Bool {
        guard isHealthy else { return false }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0
    }

    /// Healthy and outside any transaction: fit for the next caller whatever the last one threw.
    var isReusable: Bool { isHealthy && PQtransactionStatus(handle) == PQTRANS_IDLE }

    /// Runs a statement; the result tells the rows it changed or holds.
    @discardableResult
    public func execute(_ query: PGQuery) throws -> PGResult { try send(query.sql, query.values) }

    /// Every row of the result, each decoded by column name.
    public func rows<Row: Decodable>(_ type: Row.Type, _ query: PGQuery) throws -> [Row] {
        try execute(query).decode(type)
    }

    /// The first row of the result, or nil when there is none.
    public func first<Row: Decodable>(_ type: Row.Type, _ query: PGQuery) throws -> Row? {
        let result = try execute(query)
        return result.count == 0 ? nil : try result.decode(type, row: 0)
    }

    /// The one row of the result; any other number of rows is `PGError.unexpectedResult`.
    public func one<Row: Decodable>(_ type: Row.Type, _ query: PGQuery) throws -> Row {
        let result = try execute(query)
        guard result.count == 1 else { throw PGError.unexpectedResult("expected one \(Row.self) row, got \(result.count)") }
        return try result.decode(type, row: 0)
    }

    /// True when the statement returns at least one row.
    public func exists(_ query: PGQuery) throws -> Bool { try execute(query).count > 0 }

    /// Runs SQL whose `$n` parameters are numbered by hand. For tools and tests; the daemon's
    /// stores write `PGQuery`s.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PGParameter] = []) throws -> PGResult {
        try send(sql, parameters.map(\.pgText))
    }

    /// Runs SQL text that may hold several statements and no parameters (migrations).
    public func execute(script sql: String) throws {
        noteStatement(sql)
        try check(PQexec(handle, sql)).clear()
    }

    /// Runs `body` inside BEGIN/COMMIT, rolling back when it throws. When the connection breaks
    /// once COMMIT is sent, whether it committed is not known: `PGError.outcomeUnknown`, never
    /// `connectionFailed`, so no caller takes it for a transaction that may simply run again
    /// (`PGPool.keyedTransaction` finds out instead).
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        let value: T
        do {
            value = try body()
        } catch {
            if isHealthy { _ = try? execute("ROLLBACK") }
            throw error
        }
        try commit()
        return value
    }

    /// Sends COMMIT; a broken connection is `PGError.outcomeUnknown`.
    func commit() throws {
        do {
            try execute("COMMIT")
        } catch let error as PGError where error.isConnectionFailure {
            throw PGError.outcomeUnknown("the connection broke with COMMIT in flight (\(error))")
        }
    }

    /// Runs `body` inside BEGIN/ROLLBACK: it sees its own writes, and none of them is kept.
    public func rolledBack<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        defer { if isHealthy { _ = try? execute("ROLLBACK") } }
        return try body()
    }

    /// Statements kept prepared on this connection (for tests and diagnostics).
    public var preparedStatementCount: Int { statements.count }

    /// Runs one statement as a prepared statement of this connection: prepared the first time
    /// its text is sent, executed by name after, so PostgreSQL parses it once per connection
    /// (and, once its generic plan is as good, plans it once): for the daemon's small queries
    /// that was most of their cost.
    private func send(_ sql: String, _ values: [String?]) throws -> PGResult {
        noteStatement(sql)
        let cStrings = values.map { $0.map { strdup($0) } ?? nil }
        defer { cStrings.forEach { free($0) } }
        return try cStrings.withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { values in
                guard let name = try preparedName(for: sql) else {
                    return try check(PQexecParams(handle, sql, Int32(values.count), nil, values.baseAddress, nil, nil, 0))
                }
                do {
                    return try check(PQexecPrepared(handle, name, Int32(values.count), values.baseAddress, nil, nil, 0))
                } catch PGError.queryFailed(let diagnostics) where diagnostics.sqlState == PreparedStatements.invalidatedState {
                    // A schema change altered the statement's result type ("cached plan must not change
                    // result type"): prepare it afresh. Inside a transaction the failure has aborted it,
                    // so the retry is left to the next use.
                    statements.invalidate(sql)
                    guard PQtransactionStatus(handle) == PQTRANS_IDLE,
                          let fresh = try preparedName(for: sql) else { throw PGError.queryFailed(diagnostics) }
                    return try check(PQexecPrepared(handle, fresh, Int32(values.count), values.baseAddress, nil, nil, 0))
                }
            }
        }
    }

    private func noteStatement(_ sql: String) {
        lastStatementMayCommit = sql == "COMMIT" || (PQtransactionStatus(handle) == PQTRANS_IDLE && sql != "BEGIN")
    }

    /// The name `sql` is prepared under on this connection, preparing it now if needed; nil
    /// when the cache is full (the statement then runs unnamed).
    private func preparedName(for sql: String) throws -> String? {
        if let name = statements.name(of: sql) { return name }
        // A statement invalidated inside a transaction still holds its name on the server.
        if let stale = statements.stale(sql) {
            try check(PQexec(handle, "DEALLOCATE \(quotedIdentifier(stale))")).clear()
            statements.deallocated(sql)
        }
        guard let name = statements.nextName() else { return nil }
        // Parameter types are left to the server, as PQexecParams leaves them.
        try check(PQprepare(handle, name, sql, 0, nil)).clear()
        statements.add(sql, name: name)
        return name
    }

    private func check(_ result: OpaquePointer?) throws -> PGResult {
        guard let result else { throw PGError.connectionFailed(errorMessage) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PGResult(result)
        default:
            let diagnostics = PGDiagnostics(result)
            PQclear(result)
            let state = diagnostics.sqlState
            // Class 08 is connection exception; a broken connection has no state at all.
            if !isHealthy || state.hasPrefix("08") || state.hasPrefix("57P") || state.isEmpty {
                throw PGError.connectionFailed(state.isEmpty ? errorMessage : diagnostics.description)
            }
            // Cancelled (statement_timeout, a cancel request) or a lock not granted in time
            // (lock_timeout): the statement failed, so nothing of it was written.
            if PGError.cancelledStates.contains(state) { throw PGError.timedOut(diagnostics.description) }
            throw PGError.queryFailed(diagnostics)
        }
    }

    private var errorMessage: String {
        String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The rows of a statement's result, in PostgreSQL's text format.
public final class PGResult {
    private var handle: OpaquePointer?
    /// Column numbers by name, filled as rows are decoded.
    private var columns: [String: Int] = [:]

    init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { clear() }

    func clear() {
        if let handle { PQclear(handle) }
        handle = nil
    }

    public var count: Int { handle.map { Int(PQntuples($0)) } ?? 0 }

    /// Rows changed by an INSERT, UPDATE or DELETE.
    public var affectedRows: Int { handle.flatMap { Int(String(cString: PQcmdTuples($0))) } ?? 0 }

    /// Every row, each decoded by column name.
    ///
    /// A property's column is the snake_case form of its coding key (`indicatorID` reads
    /// `indicator_id`, `postIDs` `post_ids`), so a row struct names its columns once, in
    /// the SELECT's aliases; a CodingKeys enum may name a column outright. Values convert
    /// from PostgreSQL's text format: String, Bool, the integer and floating-point types and
    /// what decodes from one of those (CalendarDate, Period, enums with raw values); json
    /// and jsonb columns decode as nested Decodable values, one-dimensional arrays
    /// (integer[], text[]...) as Swift arrays. A row type that is one value (Int, String,
    /// Period...) reads a one-column result. A missing column (even for an optional
    /// property), a null in a non-optional property or a value that does not convert is
    /// `PGError.unexpectedResult` naming the column and the type, never the value.
    public func decode<Row: Decodable>(_ type: Row.Type) throws -> [Row] {
        try (0..<count).map { try decode(type, row: $0) }
    }

    func decode<Row: Decodable>(_ type: Row.Type, row: Int) throws -> Row {
        try Row(from: PGRowDecoder(result: self, row: row, rowType: "\(Row.self)"))
    }

    var columnCount: Int { handle.map { Int(PQnfields($0)) } ?? 0 }

    func columnName(_ column: Int) -> String { PQfname(handle, Int32(column)).map { String(cString: $0) } ?? "" }

    /// The number of the column called exactly `name`.
    func column(named name: String) -> Int? {
        if let known = columns[name] { return known }
        // Quoted, so PQfnumber matches the name as it is instead of folding it to lower case.
        let number = Int(PQfnumber(handle, quotedIdentifier(name)))
        guard number >= 0 else { return nil }
        columns[name] = number
        return number
    }

    func value(row: Int, column: Int) -> PGValue {
        let type = PQftype(handle, Int32(column))
        let kind: PGValue.Kind = Self.jsonTypes.contains(type) ? .json : Self.arrayTypes.contains(type) ? .array : .scalar
        return PGValue(column: columnName(column), text: string(row, column), kind: kind)
    }

    /// json, jsonb.
    private static let jsonTypes: Set<Oid> = [114, 3802]
    /// bool[], int2[], int4[], text[], bpchar[], varchar[], int8[], float4[], float8[], date[], numeric[].
    private static let arrayTypes: Set<Oid> = [1000, 1005, 1007, 1009, 1014, 1015, 1016, 1021, 1022, 1182, 1231]

    // Reads by column number, for tools and tests; the stores decode rows by name.

    public func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(handle, Int32(row), Int32(column)) == 1 }

    public func string(_ row: Int, _ column: Int) -> String? {
        isNull(row, column) ? nil : String(cString: PQgetvalue(handle, Int32(row), Int32(column)))
    }

    public func text(_ row: Int, _ column: Int) throws -> String {
        guard let value = string(row, column) else { throw PGError.unexpectedResult("null in column \(column)") }
        return value
    }

    public func int(_ row: Int, _ column: Int) throws -> Int {
        guard let value = Int(try text(row, column)) else { throw PGError.unexpectedResult("column \(column) is not an integer") }
        return value
    }


    public func bool(_ row: Int, _ column: Int) -> Bool { string(row, column) == "t" }

    /// Rows as an array, each read by `transform`.
    public func map<T>(_ transform: (Int) throws -> T) rethrows -> [T] { try (0..<count).map(transform) }
}

/// The statements one connection has prepared, by SQL text, at most `limit` of them; names
/// are `bbcs_1`, `bbcs_2`... in the order they were prepared.
public struct PreparedStatements: Sendable {
    /// Enough for every distinct statement the daemon sends, with room for SQL built from filters.
    public static let defaultLimit = 256
    /// "cached plan must not change result type", after a schema change.
    static let invalidatedState = "0A000"

    let limit: Int
    private var names: [String: String] = [:]
    /// Statements invalidated inside a transaction, whose names the server still holds.
    private var stale: [String: String] = [:]
    private var prepared = 0

    init(limit: Int) { self.limit = max(0, limit) }

    var count: Int { names.count + stale.count }

    func name(of sql: String) -> String? { names[sql] }

    /// A fresh name, or nil when `limit` statements are prepared already.
    mutating func nextName() -> String? {
        guard count < limit else { return nil }
        prepared += 1
        return "bbcs_\(prepared)"
    }

    mutating func add(_ sql: String, name: String) { names[sql] = name }

    /// Marks `sql`'s statement as no longer usable; its name is deallocated before it is prepared again.
    mutating func invalidate(_ sql: String) {
        if let name = names.removeValue(forKey: sql) { stale[sql] = name }
    }

    func stale(_ sql: String) -> String? { stale[sql] }

    mutating func deallocated(_ sql: String) { stale[sql] = nil }
}
