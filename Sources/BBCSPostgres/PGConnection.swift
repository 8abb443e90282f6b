import CLibPQ
import Foundation

/// Errors of the database layer. The server maps them to wire errors once; their text is
/// for logs, never for clients.
public enum PGError: Error, Sendable, CustomStringConvertible {
    /// The server could not be reached or the connection broke: the request may be retried later.
    case connectionFailed(String)
    /// A statement failed; `sqlState` is PostgreSQL's five-character code.
    case queryFailed(sqlState: String, message: String)
    /// A result did not have the shape the code expected.
    case unexpectedResult(String)

    public var description: String {
        switch self {
        case .connectionFailed(let m): return "connection failed: \(m)"
        case .queryFailed(let state, let m): return "query failed (\(state)): \(m)"
        case .unexpectedResult(let m): return "unexpected result: \(m)"
        }
    }

    /// True for unique and exclusion violations and serialization failures.
    public var isConflict: Bool {
        if case .queryFailed(let state, _) = self { return ["23505", "23P01", "40001", "40P01"].contains(state) }
        return false
    }
}

/// A value bound to a statement parameter, sent in PostgreSQL's text format.
public protocol PGParameter {
    var pgText: String? { get }
}

extension String: PGParameter { public var pgText: String? { self } }
extension Int: PGParameter { public var pgText: String? { String(self) } }
extension Int32: PGParameter { public var pgText: String? { String(self) } }
extension UInt32: PGParameter { public var pgText: String? { String(self) } }
extension Bool: PGParameter { public var pgText: String? { self ? "t" : "f" } }
extension Double: PGParameter {
    public var pgText: String? { self == rounded() && abs(self) < 1e15 ? String(Int64(self)) : String(self) }
}
extension Optional: PGParameter where Wrapped: PGParameter {
    public var pgText: String? { self?.pgText }
}

/// One libpq connection. Its calls block: run them off Swift's cooperative pool (`PGPool`
/// does), and from one thread at a time.
public final class PGConnection: @unchecked Sendable {
    private let handle: OpaquePointer

    /// Opens a connection from a libpq connection string (keywords or URI).
    public init(conninfo: String) throws {
        guard let handle = PQconnectdb(conninfo) else { throw PGError.connectionFailed("out of memory") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(handle)
            throw PGError.connectionFailed(message)
        }
        self.handle = handle
        // Notices (e.g. "relation already exists, skipping") are not for stderr.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
    }

    deinit { PQfinish(handle) }

    /// False once the connection to the server has broken.
    public var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Runs one statement with parameters bound by libpq (never spliced into the text).
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PGParameter] = []) throws -> PGResult {
        let texts = parameters.map { $0.pgText }
        let cStrings = texts.map { $0.map { strdup($0) } ?? nil }
        defer { cStrings.forEach { free($0) } }
        let result: OpaquePointer? = cStrings.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { values in
                PQexecParams(handle, sql, Int32(texts.count), nil, values.baseAddress, nil, nil, 0)
            }
        }
        return try check(result)
    }

    /// Runs SQL text that may hold several statements and no parameters (migrations).
    public func execute(script sql: String) throws {
        try check(PQexec(handle, sql)).clear()
    }

    /// Runs `body` inside BEGIN/COMMIT, rolling back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try query("BEGIN")
        do {
            let value = try body()
            try query("COMMIT")
            return value
        } catch {
            if isHealthy { _ = try? query("ROLLBACK") }
            throw error
        }
    }

    private func check(_ result: OpaquePointer?) throws -> PGResult {
        guard let result else { throw PGError.connectionFailed(errorMessage) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PGResult(result)
        default:
            let stateField = PQresultErrorField(result, 67 /* PG_DIAG_SQLSTATE 'C' */)
            let state = stateField.map { String(cString: $0) } ?? ""
            let message = String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQclear(result)
            // Class 08 is connection exception; a broken connection has no state at all.
            if !isHealthy || state.hasPrefix("08") || state.hasPrefix("57P") || state.isEmpty {
                throw PGError.connectionFailed(message.isEmpty ? errorMessage : message)
            }
            throw PGError.queryFailed(sqlState: state, message: message)
        }
    }

    private var errorMessage: String {
        String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The rows of a statement's result, read as text and converted on access.
public final class PGResult {
    private var handle: OpaquePointer?

    init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { clear() }

    func clear() {
        if let handle { PQclear(handle) }
        handle = nil
    }

    public var count: Int { handle.map { Int(PQntuples($0)) } ?? 0 }

    /// Rows changed by an INSERT, UPDATE or DELETE.
    public var affectedRows: Int { handle.flatMap { Int(String(cString: PQcmdTuples($0))) } ?? 0 }

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

    public func double(_ row: Int, _ column: Int) -> Double? { string(row, column).flatMap(Double.init) }

    public func bool(_ row: Int, _ column: Int) -> Bool { string(row, column) == "t" }

    /// Rows as an array, each read by `transform`.
    public func map<T>(_ transform: (Int) throws -> T) rethrows -> [T] { try (0..<count).map(transform) }
}
