import Foundation

/// The release of bbcs: `system.hello` and both programs' `--version` report it.
public let bbcsVersion = "0.2.0"

/// The version of the wire protocol this build speaks.
public let protocolVersion = 1

/// Longest request line the daemon accepts by default, in bytes.
public let defaultMaxLineBytes = 1 << 20

/// A request's `id`, echoed in its reply: a number, a string, or absent (null).
public enum RequestID: Codable, Hashable, Sendable, CustomStringConvertible {
    case number(Int)
    case string(String)
    case null

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let n = try? container.decode(Int.self) { self = .number(n) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else { throw DecodingError.typeMismatch(RequestID.self, .init(codingPath: decoder.codingPath, debugDescription: "id must be a number or a string")) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let n): try container.encode(n)
        case .string(let s): try container.encode(s)
        case .null: try container.encodeNil()
        }
    }

    public var description: String {
        switch self {
        case .number(let n): return String(n)
        case .string(let s): return s
        case .null: return "null"
        }
    }
}

/// The error codes of the protocol; each is a string on the wire.
public enum ErrorCode: String, Codable, Sendable, CaseIterable {
    case parseError = "parse_error"
    case invalidRequest = "invalid_request"
    case methodNotFound = "method_not_found"
    case invalidParams = "invalid_params"
    case unauthenticated
    case permissionDenied = "permission_denied"
    case notFound = "not_found"
    case conflict
    case unavailable
    /// The request did not finish within `request_timeout` (a lock held, a slow or frozen
    /// database): nothing was changed; it may be sent again.
    case timeout
    case tooLarge = "too_large"
    /// The daemon holds as many connections as it allows (in all, or from the caller's uid).
    case tooManyConnections = "too_many_connections"
    /// A watcher fell too far behind the changes sent to it and was dropped.
    case tooSlow = "too_slow"
    case `internal`
}

/// An error reply: a code, one sentence for people, and optional details for scripts.
public struct ResponseError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    public var data: [String: String]?

    public init(_ code: ErrorCode, _ message: String, data: [String: String]? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// A whole request line, as a client writes it.
public struct RequestEnvelope<Params: Encodable & Sendable>: Encodable, Sendable {
    public var id: RequestID
    public var method: String
    public var params: Params
    public init(id: RequestID, method: String, params: Params) {
        self.id = id
        self.method = method
        self.params = params
    }
}

/// A successful reply line.
public struct ResultEnvelope<Result: Encodable & Sendable>: Encodable, Sendable {
    public var id: RequestID
    public var result: Result
    public init(id: RequestID, result: Result) {
        self.id = id
        self.result = result
    }
}

/// An error reply line.
public struct ErrorEnvelope: Codable, Sendable {
    public var id: RequestID
    public var error: ResponseError
    public init(id: RequestID, error: ResponseError) {
        self.id = id
        self.error = error
    }
}

/// A reply as a client reads it: either a result of the expected type or an error.
public struct ReplyEnvelope<Result: Decodable & Sendable>: Decodable, Sendable {
    public var id: RequestID?
    public var result: Result?
    public var error: ResponseError?
}

/// The encoders both ends use: compact, one line, stable key order, slashes unescaped
/// (periods are written "2025/26"). A stored number no Double holds (a numeric beyond
/// 1.8e308 reads as infinity) still has a reply: JSON has no infinity, so it travels as the
/// string "Infinity" ("-Infinity", "NaN"). No rule lets one in: a figure, target or
/// tolerance sent so is refused.
public enum WireCoding {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }
}
