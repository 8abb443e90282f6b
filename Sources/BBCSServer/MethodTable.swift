import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation
import Logging
import NIOPosix

/// The one table of methods the daemon answers: name to decoder, handler and encoder.
public struct MethodTable: Sendable {
    struct Entry: Sendable {
        let info: MethodInfo
        /// Reads the method's typed parameters from the request line's own container and binds
        /// them to the handler.
        let bind: @Sendable (KeyedDecodingContainer<RequestLine.Key>) throws -> BoundCall
    }

    /// A handler with its decoded parameters: run, it answers the reply line for `id`.
    typealias BoundCall = @Sendable (_ id: RequestID, _ context: CallContext) async throws -> Data

    private(set) var entries: [String: Entry] = [:]
    private(set) var order: [String] = []

    public init() {}

    /// Adds `R`'s handler. The handler gets decoded, typed parameters and returns the typed
    /// result; it runs only once the caller has `R.access`.
    public mutating func register<R: RequestType>(_ type: R.Type, _ handler: @escaping @Sendable (R, CallContext) async throws -> R.Response) {
        add(R.self) { request, id, context in
            try WireCoding.encoder().encode(ResultEnvelope(id: id, result: try await handler(request, context)))
        }
    }

    /// Adds `R`'s handler whose result comes as JSON already encoded (a reply kept from an
    /// earlier call, say): it goes into the reply line as it is.
    mutating func register<R: RequestType>(_ type: R.Type, encoded handler: @escaping @Sendable (R, CallContext) async throws -> Data) {
        add(R.self) { request, id, context in try Self.resultLine(id: id, json: try await handler(request, context)) }
    }

    /// The reply line `{"id":...,"result":...}` around a result encoded already, as
    /// `ResultEnvelope` would encode it.
    static func resultLine(id: RequestID, json: Data) throws -> Data {
        var line = Data(#"{"id":"#.utf8)
        line.append(try WireCoding.encoder().encode(id))
        line.append(contentsOf: #","result":"#.utf8)
        line.append(json)
        line.append(UInt8(ascii: "}"))
        return line
    }

    private mutating func add<R: RequestType>(_ type: R.Type, reply: @escaping @Sendable (R, RequestID, CallContext) async throws -> Data) {
        precondition(entries[R.method] == nil, "\(R.method) registered twice")
        order.append(R.method)
        // A request without `params` is read as `{}`: decoded once, here.
        let empty = Result { try WireCoding.decoder().decode(R.self, from: Data("{}".utf8)) }
        entries[R.method] = Entry(info: MethodInfo(R.self)) { container in
            let request = try container.decodeIfPresent(R.self, forKey: .params) ?? empty.get()
            try R.checkBounds(container.decodeIfPresent(JSONValue.self, forKey: .params))
            return { id, context in try await reply(request, id, context) }
        }
    }

    /// Every method, in registration order.
    public var methods: [MethodInfo] { order.compactMap { entries[$0]?.info } }

    /// The daemon's table over a pool that never connects and an empty memory, for what only
    /// decodes requests (the method-list tests, the fuzzers): no handler can run.
    static func withoutDatabase(logger: Logger) -> MethodTable {
        let pool = PGPool(conninfo: "host=/nonexistent", size: 1)
        let scheduler = Scheduler(pool: pool, settings: { (.init(), nil) }, clock: { Date() }, logger: logger)
        let memory = PlanMemory(pool: pool, logger: logger, snapshot: PlanSnapshot(
            seq: 0, indicators: [], tasks: [], directory: DirectoryState(users: [:], posts: [:], postKeys: [:])))
        let changes = ChangeStream(pool: pool, after: 0, logger: logger)
        let watch = WatchHub(logger: logger)
        let monitor = DaemonMonitor(metrics: DaemonMetrics(), pool: pool, probe: DatabaseProbe(hosts: pool.hosts), scheduler: scheduler.progress,
                                    delivery: nil, changes: changes, watch: watch, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        let site = SiteKeeper(memory: memory, pool: pool, settings: { .init() }, clock: { Date() }, graceDays: { 30 }, logger: logger)
        return standard(Stores(pool: pool, scheduler: scheduler, memory: memory, changes: changes, watch: watch, monitor: monitor, site: site,
                               figureGraceDays: { 30 }))
    }

    /// The table the daemon serves: every method of `builtinRequests` with its handler.
    static func standard(_ stores: Stores) -> MethodTable {
        var table = MethodTable()
        table.registerSystemHandlers(stores)
        table.registerPlanHandlers(stores)
        table.registerObjectiveHandlers(stores)
        table.registerIndicatorHandlers(stores)
        table.registerTaskHandlers(stores)
        table.registerStrategyHandlers(stores)
        table.registerRiskHandlers(stores)
        table.registerPostHandlers(stores)
        table.registerFigureHandlers(stores)
        table.registerRoundHandlers(stores)
        table.registerTargetHandlers(stores)
        table.registerReminderHandlers(stores)
        table.registerSchedulerHandlers(stores)
        table.registerUserHandlers(stores)
        table.registerAuditHandlers(stores)
        table.registerReportHandlers(stores)
        table.registerWatchHandlers(stores)
        table.registerSiteHandlers(stores)
        return table
    }
}
