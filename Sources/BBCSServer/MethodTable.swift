import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation
import Logging

/// The one table of methods the daemon answers: name to decoder, handler and encoder.
public struct MethodTable: Sendable {
    struct Entry: Sendable {
        let info: MethodInfo
        let call: @Sendable (_ line: Data, _ id: RequestID, _ context: CallContext) async throws -> Data
    }

    private(set) var entries: [String: Entry] = [:]
    private(set) var order: [String] = []

    public init() {}

    /// Adds `R`'s handler. The handler gets decoded, typed parameters and returns the typed
    /// result; it runs only once the caller has `R.access`.
    public mutating func register<R: RequestType>(_ type: R.Type, _ handler: @escaping @Sendable (R, CallContext) async throws -> R.Response) {
        precondition(entries[R.method] == nil, "\(R.method) registered twice")
        order.append(R.method)
        entries[R.method] = Entry(info: MethodInfo(R.self)) { line, id, context in
            let request = try decodeParams(R.self, from: line)
            let result = try await handler(request, context)
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

/// Turns one request line into one reply line: finds the method, decides from the caller's
/// standing whether they may call it, runs it, and audits every refusal.
public struct Dispatcher: Sendable {
    let table: MethodTable
    let directory: Directory
    let audit: AuditLog
    let clock: @Sendable () -> Date
    let logger: Logger

    public init(table: MethodTable, pool: PGPool, clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.table = table
        self.directory = Directory(pool: pool)
        self.audit = AuditLog(pool: pool)
        self.clock = clock
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
        var actor: Actor?
        do {
            let context = try await context(for: caller.identity, method: entry.info)
            actor = context.actor
            if let denial = Policy.check(entry.info.access, context.principal) { throw denial }
            let reply = try await entry.call(line, id, context)
            logger.debug("request", metadata: ["method": "\(header.method)", "user": "\(caller.identity.user)",
                                               "elapsed": "\(ContinuousClock.now - started)"])
            if entry.info.mutates {
                logger.info("change", metadata: ["method": "\(header.method)", "user": "\(caller.identity.user)",
                                                 "uid": "\(caller.identity.uid)", "object": "\(Self.subject(of: line) ?? "-")"])
            }
            return reply
        } catch {
            if let denial = error as? Denial, let actor { await recordRefusal(denial, actor: actor, line: line) }
            let wire = WireErrors.map(error, method: header.method, logger: logger)
            logger.debug("request failed", metadata: ["method": "\(header.method)", "user": "\(caller.identity.user)",
                                                      "code": "\(wire.code.rawValue)"])
            return errorLine(id: id, wire)
        }
    }

    /// The caller's standing now. Methods open to anyone still answer when the database is
    /// away, taking the caller as unregistered.
    private func context(for identity: Identity, method: MethodInfo) async throws -> CallContext {
        let now = clock()
        let principal: Principal
        do {
            principal = try await directory.principal(login: identity.user, uid: identity.uid, pid: identity.pid, today: CalendarDate(now))
        } catch _ where method.access == .anyone {
            principal = Principal(login: identity.user, uid: identity.uid, pid: identity.pid, standing: .unregistered, posts: [])
        }
        return CallContext(identity: identity, principal: principal, actor: Actor(principal: principal, method: method.name, at: now))
    }

    /// Audits a refused attempt with what it asked for; a failure to audit is logged, never hidden.
    private func recordRefusal(_ denial: Denial, actor: Actor, line: Data) async {
        let object = Self.subject(of: line)
        var params: String?
        if let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any], let value = object["params"],
           let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) {
            params = data.count <= 4096 ? String(decoding: data, as: UTF8.self) : #"{"omitted_bytes":\#(data.count)}"#
        }
        do {
            try await audit.recordRefusal(actor, object: object, params: params, denial: denial)
        } catch {
            logger.error("refusal not audited", metadata: ["method": "\(actor.method)", "user": "\(actor.principal.login)",
                                                           "error": "\(error)"])
        }
        logger.notice("refused", metadata: ["method": "\(actor.method)", "user": "\(actor.principal.login)",
                                            "uid": "\(actor.principal.uid)", "missing": "\(denial.missing)"])
    }

    /// What a request is about, for logs and the audit trail: its code, login, post or name.
    static func subject(of line: Data) -> String? {
        struct Subject: Decodable { var code: String?; var login: String?; var post: String?; var name: String? }
        struct Params: Decodable { var params: Subject? }
        let subject = (try? WireCoding.decoder().decode(Params.self, from: line))?.params
        return subject?.code ?? subject?.login ?? subject?.post ?? subject?.name
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
