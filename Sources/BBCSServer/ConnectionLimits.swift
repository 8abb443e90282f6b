#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BBCSProtocol
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// How many connections the listener holds, and how long a quiet one may stay.
public struct ConnectionLimits: Sendable, Equatable {
    /// Most connections open at once; one more is answered `too_many_connections` and closed.
    public var maxConnections = 1024
    /// Most connections open at once from one uid.
    public var maxPerUID = 64
    /// How long a connection that holds no request may stay silent before it is closed.
    public var idleTimeout: Duration = .seconds(300)
    /// How long a request line, once started, may wait for its newline.
    public var partialLineTimeout: Duration = .seconds(30)

    public init() {}
}

/// The connections open now, in all and by uid, and the refusals over the caps.
final class ConnectionCount: Sendable {
    private struct State {
        var total = 0
        var byUID: [UInt32: Int] = [:]
        var refusedSinceLog = 0
        var lastLog: ContinuousClock.Instant?
    }

    private let state = NIOLockedValueBox(State())
    private let logger: Logger
    private let metrics: DaemonMetrics

    init(logger: Logger, metrics: DaemonMetrics) {
        self.logger = logger
        self.metrics = metrics
    }

    /// Counts a connection from `uid` in, or returns the refusal when a cap is reached.
    func admit(uid: UInt32, limits: ConnectionLimits) -> ResponseError? {
        let refusal: ResponseError? = state.withLockedValue { state in
            let refusal: ResponseError?
            if state.total >= limits.maxConnections {
                refusal = ResponseError(.tooManyConnections, "bbcsd already serves the \(limits.maxConnections) connections it allows at once; try again shortly",
                                        data: ["limit": "max_connections", "max": "\(limits.maxConnections)"])
            } else if state.byUID[uid, default: 0] >= limits.maxPerUID {
                refusal = ResponseError(.tooManyConnections,
                                        "this user already has the \(limits.maxPerUID) connections one user may have open at once; close one and try again",
                                        data: ["limit": "max_connections_per_uid", "max": "\(limits.maxPerUID)"])
            } else {
                state.total += 1
                state.byUID[uid, default: 0] += 1
                return nil
            }
            state.refusedSinceLog += 1
            return refusal
        }
        if let refusal {
            metrics.connectionRefused(limit: refusal.data?["limit"] ?? "")
            logRefusal(refusal, uid: uid)
        } else {
            metrics.connectionOpened()
        }
        return refusal
    }

    /// Counts a connection admitted by ``admit(uid:limits:)`` out.
    func release(uid: UInt32) {
        metrics.connectionClosed()
        state.withLockedValue { state in
            state.total -= 1
            if let held = state.byUID[uid], held > 1 { state.byUID[uid] = held - 1 } else { state.byUID[uid] = nil }
        }
    }

    /// Every refusal at debug; at info one line a minute at most, with the count since the last,
    /// since a client looping on a full daemon would otherwise flood the log.
    private func logRefusal(_ refusal: ResponseError, uid: UInt32) {
        let limit = refusal.data?["limit"] ?? ""
        logger.debug("connection refused", metadata: ["uid": "\(uid)", "limit": "\(limit)"])
        let now = ContinuousClock.now
        let refused: Int? = state.withLockedValue { state in
            if let last = state.lastLog, now - last < .seconds(60) { return nil }
            defer { state.refusedSinceLog = 0; state.lastLog = now }
            return state.refusedSinceLog
        }
        if let refused {
            logger.info("refusing connections over a limit", metadata: ["limit": "\(limit)", "max": "\(refusal.data?["max"] ?? "")",
                                                                        "uid": "\(uid)", "refused": "\(refused)"])
        }
    }
}

/// The one error line a connection gets before the daemon closes it on its own.
func closingLine(_ error: ResponseError) -> ByteBuffer {
    var line = (try? WireCoding.encoder().encode(ErrorEnvelope(id: .null, error: error))) ?? Data()
    line.append(UInt8(ascii: "\n"))
    return ByteBuffer(bytes: line)
}

/// Answers a connection over a cap with its error line and closes it as soon as the client
/// sends anything or hangs up, or after a second: a client that writes its request before
/// reading then reads the refusal, not a broken pipe.
final class RefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let line: ByteBuffer
    private var answered = false
    private var deadline: Scheduled<Void>?

    init(_ refusal: ResponseError) { line = closingLine(refusal) }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { answer(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        answer(context)
        context.fireChannelActive()
    }

    private func answer(_ context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        context.writeAndFlush(wrapOutboundOut(line), promise: nil)
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) { context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }
}

/// Closes a connection that holds no request and has been silent for the idle timeout, or
/// whose request line, once started, has no newline within the partial-line timeout; each
/// gets one error line first. The clocks stand still while a request is in hand: then the
/// daemon is the slow one, and it stops reading the socket until it has answered. Replies
/// stuck behind a client that reads none of them start the idle clock again.
///
/// Sits first in the pipeline, so it sees the raw bytes both ways: each request is one
/// `\n`-terminated line in, each reply one line out.
final class ConnectionTimeouts: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let idle: TimeAmount
    private let partial: TimeAmount
    private let idleSeconds: Int64
    private let partialSeconds: Int64
    private let logger: Logger
    /// Request lines received and reply lines sent; while fewer are sent, a request is in hand.
    private var linesIn = 0
    private var linesOut = 0
    private var lastActivity = NIODeadline.now()
    /// When the unfinished line began, or when the daemon last caught up with its requests
    /// while that line waited.
    private var partialSince: NIODeadline?
    /// False while replies back up in the channel's buffer.
    private var channelWritable = true
    /// Replies handed to the socket and not yet taken by it: the daemon writes one reply
    /// at a time and awaits it, so a client that reads nothing leaves one here for good.
    private var unsent = 0
    /// False while replies wait for a client that does not read them.
    private var writable: Bool { channelWritable && unsent == 0 }
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    /// Set once the connection watches events (``Watching``): neither timeout applies any more.
    private var watching = false

    /// Sent through the pipeline when the connection turns into an event stream: it waits on
    /// the daemon, never on its client, from then on.
    struct Watching: Sendable {}

    init(_ limits: ConnectionLimits, logger: Logger) {
        idle = TimeAmount(limits.idleTimeout)
        partial = TimeAmount(limits.partialLineTimeout)
        idleSeconds = limits.idleTimeout.components.seconds
        partialSeconds = limits.partialLineTimeout.components.seconds
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        lastActivity = .now()
        arm(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) { stop() }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    private func stop() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        let newlines = Self.newlines(in: bytes)
        let now = NIODeadline.now()
        linesIn += newlines
        lastActivity = now
        if bytes.readableBytesView.last == UInt8(ascii: "\n") {
            partialSince = nil
        } else if newlines > 0 || partialSince == nil {
            partialSince = now
        }
        arm(context)
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is Watching {
            watching = true
            return stop()
        }
        // The framing takes a last line without its newline as a request.
        if case ChannelEvent.inputClosed = event, partialSince != nil {
            linesIn += 1
            partialSince = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        linesOut += Self.newlines(in: unwrapOutboundIn(data))
        if linesOut >= linesIn {
            let now = NIODeadline.now()
            lastActivity = now
            if partialSince != nil { partialSince = now }
            arm(context)
        }
        let written = promise ?? context.eventLoop.makePromise()
        unsent += 1
        written.futureResult.assumeIsolated().whenComplete { _ in
            self.unsent -= 1
            self.lastActivity = .now()
            self.arm(context)
        }
        context.write(data, promise: written)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        channelWritable = context.channel.isWritable
        lastActivity = .now()
        arm(context)
        context.fireChannelWritabilityChanged()
    }

    /// Whether the connection waits on its client: it holds no request, or the replies to
    /// those it holds are not being read.
    private var waitingOnClient: Bool { linesOut >= linesIn || !writable }

    /// When the connection is closed unless something happens first.
    private var deadline: NIODeadline {
        if writable, let partialSince { partialSince + partial } else { lastActivity + idle }
    }

    /// Makes sure a timer fires no later than the deadline now in force; a timer that fires
    /// early looks again and waits the rest.
    private func arm(_ context: ChannelHandlerContext) {
        guard waitingOnClient, !watching else { return }
        let deadline = self.deadline
        if let timerDeadline, timerDeadline <= deadline { return }
        timer?.cancel()
        schedule(at: deadline, context)
    }

    private func schedule(at deadline: NIODeadline, _ context: ChannelHandlerContext) {
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.expire(context) }
    }

    private func expire(_ context: ChannelHandlerContext) {
        timer = nil
        timerDeadline = nil
        // With a request in hand the clock restarts when its reply is written.
        guard context.channel.isActive, waitingOnClient else { return }
        guard NIODeadline.now() >= deadline else { return schedule(at: deadline, context) }
        if writable, partialSince != nil {
            close(context, reason: "partial_line_timeout",
                  ResponseError(.invalidRequest, "a request line must end with a newline within \(partialSeconds) seconds of its start; closing the connection",
                                data: ["reason": "partial_line_timeout", "seconds": "\(partialSeconds)"]))
        } else {
            close(context, reason: "idle_timeout",
                  ResponseError(.unavailable, "closing the connection after \(idleSeconds) seconds without a request; connect again to continue",
                                data: ["reason": "idle_timeout", "seconds": "\(idleSeconds)"]))
        }
    }

    private func close(_ context: ChannelHandlerContext, reason: String, _ error: ResponseError) {
        logger.debug("connection timed out", metadata: ["reason": "\(reason)"])
        // Straight to the socket: a client that reads gets the line before the close.
        context.writeAndFlush(wrapOutboundOut(closingLine(error)), promise: nil)
        context.close(promise: nil)
    }

    private static func newlines(in buffer: ByteBuffer) -> Int {
        buffer.withUnsafeReadableBytes { bytes in
            guard var cursor = bytes.baseAddress else { return 0 }
            let end = cursor + bytes.count
            var count = 0
            while cursor < end, let found = memchr(cursor, Int32(UInt8(ascii: "\n")), end - cursor) {
                count += 1
                cursor = UnsafeRawPointer(found) + 1
            }
            return count
        }
    }
}

/// Stops accepting for a second when the process is out of descriptors. After a failed
/// accept NIO keeps the listening socket registered for reading, so without this the event
/// loop wakes at once for the connection still queued, fails again, and spins at full CPU
/// until a descriptor frees up; its own `AcceptBackoffHandler` only delays the next read
/// asked for, and none is asked for while one is pending.
final class AcceptPause: ChannelInboundHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel

    private let pause: TimeAmount
    private let logger: Logger
    private var paused = false
    /// Whether the log says accepting is paused, until a connection is accepted again.
    private var reported = false

    init(pause: TimeAmount = .seconds(1), logger: Logger) {
        self.pause = pause
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? IOError, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode) {
            pauseAccepting(context, error: error)
        }
        context.fireErrorCaught(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if reported {
            reported = false
            logger.notice("accepting connections again")
        }
        context.fireChannelRead(data)
    }

    private func pauseAccepting(_ context: ChannelHandlerContext, error: IOError) {
        guard !paused, let options = context.channel.syncOptions else { return }
        // Turning autoRead off takes the socket out of the poll set; turning it on puts it back.
        guard (try? options.setOption(.autoRead, value: false)) != nil else { return }
        paused = true
        if !reported {
            reported = true
            logger.warning("out of file descriptors; accepting again in a moment",
                           metadata: ["error": "\(error)", "descriptors": "\(DescriptorLimit.current.map { "\($0.soft)" } ?? "unknown")"])
        }
        context.eventLoop.assumeIsolated().scheduleTask(in: pause) {
            self.paused = false
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }
}

/// The process's limit on open descriptors (RLIMIT_NOFILE).
enum DescriptorLimit {
    static var current: (soft: UInt64, hard: UInt64)? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    /// Raises the soft limit to the hard one (systemd's default soft limit, 1024, is for
    /// programs that still use select()), and returns the limit in force.
    static func raiseToHard() -> (soft: UInt64, hard: UInt64)? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised)
        }
        return current
    }
}
