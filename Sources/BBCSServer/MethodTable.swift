import BBCSProtocol
import Foundation
import Logging

/// The one table of methods the daemon answers: name to decoder, handler and encoder.
public struct MethodTable: Sendable {
    struct Entry: Sendable {
        let info: MethodInfo
        let call: @Sendable (_ line: Data, _ id: RequestID, _ caller: Caller) async throws -> Data
    }

    private(set) var entries: [String: Entry] = [:]
    private(set) var order: [String] = []

    public init() {}

    /// Adds `R`'s handler. The handler gets decoded, typed parameters and returns the typed result.
    public mutating func register<R: RequestType>(_ type: R.Type, _ handler: @escaping @Sendable (R, Caller) async throws -> R.Response) {
        precondition(entries[R.method] == nil, "\(R.method) registered twice")
        order.append(R.method)
        entries[R.method] = Entry(info: MethodInfo(R.self)) { line, id, caller in
            let request = try decodeParams(R.self, from: line)
            let result = try await handler(request, caller)
            return try WireCoding.encoder().encode(ResultEnvelope(id: id, result: result))
        }
    }

    /// Every method, in registration order, for `system.describe`.
    public var methods: [MethodInfo] { order.compactMap { entries[$0]?.info } }
}

private struct ParamsEnvelope<P: Decodable>: Decodable {
    var params: P?
}

/// Decodes a request's `params` as `R`; a request without `params` is read as `{}`.
private func decodeParams<R: RequestType>(_ type: R.Type, from line: Data) throws -> R {
    let decoder = WireCoding.decoder()
    do {
        if let params = try decoder.decode(ParamsEnvelope<R>.self, from: line).params { return params }
        return try decoder.decode(R.self, from: Data("{}".utf8))
    } catch let error as DecodingError {
        throw WireErrors.invalidParams(error)
    }
}

/// Turns one request line into one reply line.
public struct Dispatcher: Sendable {
    let table: MethodTable
    let logger: Logger

    public init(table: MethodTable, logger: Logger) {
        self.table = table
        self.logger = logger
    }

    public func reply(to line: Data, caller: Caller) async -> Data {
        let header: RequestHeader
        do {
            header = try WireCoding.decoder().decode(RequestHeader.self, from: line)
        } catch {
            return errorLine(id: recoverID(line), headerError(line, error))
        }
        let id = header.id ?? .null
        guard let entry = table.entries[header.method] else {
            return errorLine(id: id, ResponseError(.methodNotFound, "no method \"\(header.method)\"; system.describe lists them",
                                                   data: ["method": header.method]))
        }
        let started = ContinuousClock.now
        do {
            let reply = try await entry.call(line, id, caller)
            logger.debug("request", metadata: ["method": "\(header.method)", "user": "\(caller.identity.user)",
                                               "elapsed": "\(ContinuousClock.now - started)"])
            return reply
        } catch {
            let wire = WireErrors.map(error, method: header.method, logger: logger)
            logger.debug("request failed", metadata: ["method": "\(header.method)", "user": "\(caller.identity.user)",
                                                      "code": "\(wire.code.rawValue)"])
            return errorLine(id: id, wire)
        }
    }

    func errorLine(id: RequestID, _ error: ResponseError) -> Data {
        (try? WireCoding.encoder().encode(ErrorEnvelope(id: id, error: error)))
            ?? Data(#"{"id":null,"error":{"code":"internal","message":"reply could not be encoded"}}"#.utf8)
    }

    private func headerError(_ line: Data, _ error: Error) -> ResponseError {
        guard (try? JSONSerialization.jsonObject(with: line, options: [.fragmentsAllowed])) != nil else {
            return ResponseError(.parseError, "the line is not JSON")
        }
        if case .keyNotFound(let key, _) = error as? DecodingError, key.stringValue == "method" {
            return ResponseError(.invalidRequest, "the request has no \"method\"")
        }
        return ResponseError(.invalidRequest, "a request is a JSON object with \"method\" (a string), \"id\" and \"params\"")
    }

    private func recoverID(_ line: Data) -> RequestID {
        struct IDOnly: Decodable { var id: RequestID? }
        return ((try? WireCoding.decoder().decode(IDOnly.self, from: line))?.id ?? nil) ?? .null
    }
}
