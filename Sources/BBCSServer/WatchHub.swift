import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Fans the change sequence out to the connections watching it (`watch.subscribe`): each
/// change is encoded once, then offered to every watcher that may read it and whose filter
/// lets it through. A watcher that falls behind by more than its limits is dropped, never
/// buffered without bound.
public final class WatchHub: Sendable {
    /// How far one watcher may fall behind before it is dropped.
    public struct Limits: Sendable {
        /// Events handed to its connection and not yet taken by the socket.
        public var maxEvents = 1000
        /// Bytes of those events.
        public var maxBytes = 1 << 20
        /// How long a closing line (the reason it is dropped) may wait for a slow reader.
        public var closingGrace: TimeAmount = .seconds(5)
        public init() {}
    }

    let limits: Limits
    let logger: Logger
    /// Counts the watchers dropped, by reason.
    let metrics: DaemonMetrics
    /// Fills in what a change's detail leaves for the watcher to look up (a correction's
    /// previous value); the change unchanged when it cannot.
    private let enrich: @Sendable ([Change]) async throws -> [Change]
    /// The watcher's standing now, after users or posts changed; nil when it cannot be read.
    private let standing: @Sendable (Principal) async -> Principal?
    private let state = NIOLockedValueBox(State())

    private struct State {
        var watchers: [ObjectIdentifier: Watcher] = [:]
        /// The highest seq published so far.
        var published: Int64 = 0
    }

    /// - Parameters:
    ///   - after: the seq the feed starts after; a watcher added before anything is
    ///     published is told events follow from there.
    public init(after seq: Int64 = 0, limits: Limits = Limits(), logger: Logger, metrics: DaemonMetrics = DaemonMetrics(),
                enrich: @escaping @Sendable ([Change]) async throws -> [Change] = { $0 },
                standing: @escaping @Sendable (Principal) async -> Principal? = { $0 }) {
        self.limits = limits
        self.logger = logger
        self.metrics = metrics
        self.enrich = enrich
        self.standing = standing
        state.withLockedValue { $0.published = seq }
    }

    /// Connections watching now.
    public var count: Int { state.withLockedValue { $0.watchers.count } }

    /// Adds `watcher`; returns the seq after which it is sent events.
    func add(_ watcher: Watcher) -> Int64 {
        state.withLockedValue { state in
            state.watchers[ObjectIdentifier(watcher)] = watcher
            return state.published
        }
    }

    func remove(_ watcher: Watcher) {
        state.withLockedValue { _ = $0.watchers.removeValue(forKey: ObjectIdentifier(watcher)) }
    }

    /// Offers `changes` (in seq order) to every watcher. The stream delivers one batch at a
    /// time, so each watcher gets its events in seq order.
    public func publish(_ changes: [Change]) async {
        guard let last = changes.last?.seq else { return }
        let watchers = state.withLockedValue { state -> [Watcher] in
            state.published = max(state.published, last)
            return Array(state.watchers.values)
        }
        guard !watchers.isEmpty else { return }
        var enriched = changes
        do { enriched = try await enrich(changes) } catch {
            logger.warning("watch events sent without their looked-up values", metadata: ["error": "\(error)"])
        }
        for change in enriched {
            if change.kind == .directory {
                await recheck(watchers)
                continue
            }
            guard let kind = WatchKind(change.kind) else { continue }
            let detail = Self.shown(change.detail, kind: kind)
            let event = WatchEvent(seq: change.seq, at: change.at, kind: kind.rawValue, login: change.login, detail: detail.map(JSONValue.object))
            guard let line = try? WireCoding.encoder().encode(EventLine(event: event)) else {
                logger.error("watch event not encoded", metadata: ["seq": "\(change.seq)"])
                continue
            }
            let buffer = ByteBuffer(bytes: line)
            for watcher in watchers where watcher.wants(kind, detail ?? [:]) {
                watcher.offer(buffer)
            }
        }
    }

    /// The part of `detail` a watcher is shown for `kind`.
    static func shown(_ detail: JSONValue?, kind: WatchKind) -> [String: JSONValue]? {
        guard case .object(let object) = detail else { return nil }
        let keys = kind.detailKeys
        return object.filter { keys.contains($0.key) }
    }

    /// Users, posts or holdings changed: a watcher no longer active is closed; the others
    /// read reminders as their standing now allows.
    private func recheck(_ watchers: [Watcher]) async {
        for watcher in watchers where !watcher.isFinished {
            guard let now = await standing(watcher.principal) else { continue }
            if let denial = Policy.check(.registered, now) {
                logger.info("watcher closed", metadata: ["user": "\(now.login)", "reason": "no longer active"])
                metrics.watcherDropped(reason: "no_longer_active")
                watcher.finish(ResponseError(.permissionDenied, denial.message))
            } else {
                watcher.principal = now
            }
        }
    }
}

/// One watching connection: what it asked for, who it is, and the events handed to its
/// channel and not yet written to the socket.
final class Watcher: Sendable {
    /// What the watcher asked to see.
    struct Filter: Sendable {
        var kinds: Set<WatchKind>
        /// The objective's code as the plan spells it.
        var objective: String?
        /// The post's own name.
        var owner: String?

        /// The kinds named in a request, refusing any other as `invalid_params` naming it;
        /// every kind when none are named.
        static func kinds(_ names: [String]?) throws -> Set<WatchKind> {
            guard let names else { return Set(WatchKind.allCases) }
            var kinds: Set<WatchKind> = []
            for name in names {
                guard let kind = WatchKind(rawValue: name) else {
                    let named = String(name.prefix(InputBounds.nameLength))
                    throw ResponseError(.invalidParams, "\"\(named)\" is not a kind of event; the kinds are "
                                        + WatchKind.allCases.map(\.rawValue).joined(separator: ", "), data: ["param": "kinds", "kind": named])
                }
                kinds.insert(kind)
            }
            guard !kinds.isEmpty else {
                throw ResponseError(.invalidParams, "name at least one kind of event, or leave \"kinds\" out for all", data: ["param": "kinds"])
            }
            return kinds
        }

        /// Whether an event of `kind` with `detail` passes: its kind is wanted, and it is about
        /// the objective and the owner asked for (an event about neither, a reminder, passes no
        /// objective or owner filter).
        func admits(_ kind: WatchKind, _ detail: [String: JSONValue]) -> Bool {
            guard kinds.contains(kind) else { return false }
            if let objective {
                guard case .string(let code)? = detail["objective"], code.lowercased() == objective.lowercased() else { return false }
            }
            if let owner {
                let owner = owner.lowercased()
                if kind.isIndicatorKind {
                    guard case .string(let post)? = detail["ownerPost"], post.lowercased() == owner else { return false }
                } else if kind.isTaskKind {
                    guard case .array(let posts)? = detail["posts"],
                          posts.contains(where: { if case .string(let post) = $0 { post.lowercased() == owner } else { false } }) else { return false }
                } else {
                    return false
                }
            }
            return true
        }
    }

    let filter: Filter
    private let hub: WatchHub
    private let limits: WatchHub.Limits
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    private struct State {
        var principal: Principal
        /// Set once the reply has been handed over; until then events wait in `held`.
        var channel: Channel?
        var held: [ByteBuffer] = []
        var unsentEvents = 0
        var unsentBytes = 0
        /// Why the watch ends, once it does: nothing more is sent but that line.
        var ending: ResponseError?
        var finished = false
    }

    init(filter: Filter, principal: Principal, hub: WatchHub) {
        self.filter = filter
        self.hub = hub
        limits = hub.limits
        logger = hub.logger
        state = NIOLockedValueBox(State(principal: principal))
    }

    /// Who watches, as last checked.
    var principal: Principal {
        get { state.withLockedValue { $0.principal } }
        set { state.withLockedValue { $0.principal = newValue } }
    }

    var isFinished: Bool { state.withLockedValue { $0.ending != nil } }

    /// Whether this watcher may read an event of `kind` and asked for it: a reminder only
    /// reaches its recipient and administrators.
    func wants(_ kind: WatchKind, _ detail: [String: JSONValue]) -> Bool {
        guard filter.admits(kind, detail) else { return false }
        guard kind == .reminderCreated else { return true }
        let principal = self.principal
        if principal.isAdmin { return true }
        guard case .string(let recipient)? = detail["recipient"] else { return false }
        return recipient == principal.login
    }

    /// Starts sending on `channel`: the reply first, then the events held since the
    /// subscription; the channel's idle timeout no longer applies.
    func start(on channel: Channel, reply: ByteBuffer) {
        channel.pipeline.fireUserInboundEventTriggered(ConnectionTimeouts.Watching())
        channel.closeFuture.whenComplete { _ in self.hub.remove(self) }
        let ending: ResponseError? = state.withLockedValue { state in
            state.channel = channel
            send(reply, on: channel, counted: false)
            for line in state.held { send(line, on: channel, counted: true) }
            state.held = []
            return state.ending
        }
        if let ending { close(channel, with: ending) }
    }

    /// Hands one event line to the connection, or drops the watcher when that would take it
    /// beyond its limits.
    func offer(_ line: ByteBuffer) {
        let dropped: (channel: Channel?, events: Int, bytes: Int)? = state.withLockedValue { state in
            guard state.ending == nil else { return nil }
            guard state.unsentEvents < limits.maxEvents, state.unsentBytes + line.readableBytes <= limits.maxBytes else {
                state.ending = ResponseError(.tooSlow, "the watcher fell more than \(limits.maxEvents) events or \(limits.maxBytes >> 20) MiB behind; watch again to continue",
                                             data: ["reason": "too_slow", "events": "\(state.unsentEvents)", "bytes": "\(state.unsentBytes)"])
                return (state.channel, state.unsentEvents, state.unsentBytes)
            }
            state.unsentEvents += 1
            state.unsentBytes += line.readableBytes
            if let channel = state.channel { send(line, on: channel, counted: true) } else { state.held.append(line) }
            return nil
        }
        guard let dropped else { return }
        hub.metrics.watcherDropped(reason: "too_slow")
        let principal = self.principal
        logger.notice("watcher dropped", metadata: ["reason": "too_slow", "user": "\(principal.login)", "uid": "\(principal.uid)",
                                                    "unsent_events": "\(dropped.events)", "unsent_bytes": "\(dropped.bytes)"])
        if let channel = dropped.channel, let ending = state.withLockedValue({ $0.ending }) { close(channel, with: ending) }
    }

    /// Ends the watch with `error` as its last line; returns once the line is written or
    /// the closing grace has passed, and the connection is closed.
    @discardableResult
    func finish(_ error: ResponseError) -> EventLoopFuture<Void>? {
        let channel: Channel? = state.withLockedValue { state in
            guard state.ending == nil else { return nil }
            state.ending = error
            return state.channel
        }
        return channel.map { close($0, with: error) }
    }

    /// Writes the closing line after what is queued, and closes once it is written or after
    /// the grace, whichever comes first.
    @discardableResult
    private func close(_ channel: Channel, with error: ResponseError) -> EventLoopFuture<Void> {
        let closed = channel.eventLoop.makePromise(of: Void.self)
        let line = (try? WireCoding.encoder().encode(EventLine(closing: error))).map { ByteBuffer(bytes: $0) } ?? ByteBuffer()
        let grace = limits.closingGrace
        state.withLockedValue { state in
            guard !state.finished else { return closed.succeed() }
            state.finished = true
            channel.eventLoop.execute {
                let deadline = channel.eventLoop.scheduleTask(in: grace) { channel.close(promise: nil) }
                channel.writeAndFlush(line).whenComplete { _ in
                    deadline.cancel()
                    channel.close(promise: nil)
                }
                channel.closeFuture.cascade(to: closed)
            }
        }
        return closed.futureResult
    }

    /// Queues `line` on the event loop (never inline: a write completing at once would call
    /// back into the lock held here).
    private func send(_ line: ByteBuffer, on channel: Channel, counted: Bool) {
        let size = line.readableBytes
        channel.eventLoop.execute {
            let written = channel.writeAndFlush(line)
            guard counted else { return }
            written.whenComplete { _ in
                self.state.withLockedValue { state in
                    state.unsentEvents -= 1
                    state.unsentBytes -= size
                }
            }
        }
    }
}

extension WatchHub {
    /// The daemon's hub over its pool: corrections get their previous value looked up, and
    /// a watcher's standing is read again when users or posts change.
    static func daemon(pool: PGPool, memory: PlanMemory, after seq: Int64, clock: @escaping @Sendable () -> Date, logger: Logger,
                       metrics: DaemonMetrics) -> WatchHub {
        let lookups = WatchLookups(pool: pool)
        return WatchHub(after: seq, logger: logger, metrics: metrics, enrich: { try await lookups.withPreviousValues($0) }, standing: { principal in
            memory.principal(login: principal.login, uid: principal.uid, pid: principal.pid, today: CalendarDate(clock()))
        })
    }
}
