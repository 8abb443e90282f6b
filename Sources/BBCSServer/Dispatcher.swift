import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation
import Logging

/// Turns one request line into one reply line: decodes it once, finds the method, decides
/// from the caller's standing whether they may call it, runs it, and audits every refusal.
public struct Dispatcher: Sendable {
    let table: MethodTable
    let memory: PlanMemory
    /// Audits every refusal, collapsing a storm's repeats; the daemon flushes it as windows end and at shutdown.
    public let refusals: RefusalThrottle
    /// Counts the requests refused because the database cannot serve; the daemon flushes it periodically and at shutdown.
    public let failures: FailureLog
    let clock: @Sendable () -> Date
    /// The time each request is given in the database (`RequestDeadline`), read per request.
    let requestTimeout: @Sendable () -> Duration
    let logger: Logger
    /// Counts every request by method and outcome, and times it.
    let metrics: DaemonMetrics
    private let decoder: JSONDecoder

    public init(table: MethodTable, pool: PGPool, memory: PlanMemory, clock: @escaping @Sendable () -> Date, logger: Logger,
                refusalLimits: @escaping @Sendable () -> RefusalThrottle.Limits = { RefusalThrottle.Limits() },
                requestTimeout: @escaping @Sendable () -> Duration = { .seconds(15) }, metrics: DaemonMetrics = DaemonMetrics()) {
        self.table = table
        self.memory = memory
        self.refusals = RefusalThrottle(audit: AuditLog(pool: pool), limits: refusalLimits, logger: logger)
        self.failures = FailureLog(logger: logger)
        self.clock = clock
        self.requestTimeout = requestTimeout
        self.logger = logger
        self.metrics = metrics
        decoder = WireCoding.decoder()
        decoder.userInfo[RequestLine.tableKey] = table
    }

    /// The reply line to one request line from `caller`; never throws: every failure is an error reply.
    public func reply(to line: Data, caller: Caller) async -> Data {
        let request: RequestLine
        do {
            request = try decoder.decode(RequestLine.self, from: line)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            return invalid(id: .null, RequestLine.notJSON)
        } catch {
            return invalid(id: .null, RequestLine.notARequest)
        }
        let call: RequestLine.Call
        switch request.call {
        case .failure(let problem): return invalid(id: request.id, problem)
        case .success(let found): call = found
        }
        let started = ContinuousClock.now
        let deadline = RequestDeadline(budget: requestTimeout(), mayWrite: call.entry.info.mutates, from: started)
        return await RequestDeadline.$current.withValue(deadline) { await answer(call, id: request.id, caller: caller, started: started) }
    }

    /// The reply to a decoded call, within its deadline.
    private func answer(_ call: RequestLine.Call, id: RequestID, caller: Caller, started: ContinuousClock.Instant) async -> Data {
        var actor: Actor?
        do {
            let context = context(for: caller.identity, method: call.entry.info)
            actor = context.actor
            if let denial = Policy.check(call.entry.info.access, context.principal) { throw denial }
            let reply = try await call.bound.get()(id, context)
            logger.debug("request", metadata: ["method": "\(call.method)", "user": "\(caller.identity.user)",
                                               "elapsed": "\(ContinuousClock.now - started)"])
            if call.entry.info.mutates {
                // A stored change means the database answers: an outage logged as such has ended.
                failures.recovered()
                logger.info("change", metadata: ["method": "\(call.method)", "user": "\(caller.identity.user)",
                                                 "uid": "\(caller.identity.uid)", "object": "\(call.subject ?? "-")"])
            }
            metrics.requestAnswered(method: call.method, outcome: "ok", after: ContinuousClock.now - started)
            return reply
        } catch {
            if let denial = error as? Denial, let actor { await recordRefusal(denial, actor: actor, call: call) }
            let wire = WireErrors.map(error, method: call.method, logger: logger, failures: failures)
            logger.debug("request failed", metadata: ["method": "\(call.method)", "user": "\(caller.identity.user)",
                                                      "code": "\(wire.code.rawValue)"])
            metrics.requestAnswered(method: call.method, outcome: wire.code.rawValue, after: ContinuousClock.now - started)
            return errorLine(id: id, wire)
        }
    }

    /// The caller's standing now, as memory has it: no database round trip per request. A
    /// write confirms it in SQL, so a memory behind the database never authorises one.
    private func context(for identity: Identity, method: MethodInfo) -> CallContext {
        let now = clock()
        let principal = memory.principal(login: identity.user, uid: identity.uid, pid: identity.pid, today: CalendarDate(now))
        return CallContext(identity: identity, principal: principal, actor: Actor(principal: principal, method: method.name, access: method.access, at: now))
    }

    /// Audits and logs a refused attempt with what it asked for, cut to size however large,
    /// through the throttle that collapses a storm. A failure to audit is logged, never hidden.
    private func recordRefusal(_ denial: Denial, actor: Actor, call: RequestLine.Call) async {
        await refusals.record(AuditLog.Refusal(actor, object: call.subject, params: call.params, denial: denial), missing: denial.missing)
    }

    /// The reply to a line that names no method the table has, or is no request: counted
    /// under one method name, so what callers send cannot add metrics without bound.
    private func invalid(id: RequestID, _ error: ResponseError) -> Data {
        metrics.requestAnswered(method: Self.invalidMethod, outcome: error.code.rawValue, after: .zero)
        return errorLine(id: id, error)
    }

    /// The method label of requests that name no method of the table.
    static let invalidMethod = "invalid"

    func errorLine(id: RequestID, _ error: ResponseError) -> Data {
        (try? WireCoding.encoder().encode(ErrorEnvelope(id: id, error: error)))
            ?? Data(#"{"id":null,"error":{"code":"internal","message":"reply could not be encoded"}}"#.utf8)
    }
}
