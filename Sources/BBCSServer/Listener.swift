import BBCSProtocol
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Accepts connections on the Unix socket and serves each in a child task of its own:
/// requests on one connection are answered in order; one connection's failure never
/// reaches another or the listener.
public final class Listener: Service {
    public enum Endpoint: Sendable, Equatable {
        /// Bind a new socket at this path with this mode (e.g. 0o660).
        case path(String, mode: mode_t)
        /// A listening socket handed over already bound (socket activation).
        case descriptor(CInt)
    }

    let endpoint: Endpoint
    let dispatcher: Dispatcher
    let maxLineBytes: Int
    let limits: @Sendable () -> ConnectionLimits
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    let metrics: DaemonMetrics
    let onListening: @Sendable () -> Void

    /// What the child channel initializer hands the accept loop.
    private enum Accepted: Sendable {
        case admitted(NIOAsyncChannel<ByteBuffer, ByteBuffer>, Identity)
        /// Over a cap: answered and closing on its own.
        case refused
    }

    /// - Parameters:
    ///   - limits: the limits in force, read as each connection arrives (so a reload applies
    ///     them to new connections).
    ///   - onListening: called once the socket accepts connections.
    public init(endpoint: Endpoint, dispatcher: Dispatcher, maxLineBytes: Int,
                limits: @escaping @Sendable () -> ConnectionLimits = { ConnectionLimits() }, logger: Logger,
                group: MultiThreadedEventLoopGroup = .singleton, metrics: DaemonMetrics = DaemonMetrics(),
                onListening: @escaping @Sendable () -> Void = {}) {
        self.endpoint = endpoint
        self.dispatcher = dispatcher
        self.maxLineBytes = maxLineBytes
        self.limits = limits
        self.logger = logger
        self.group = group
        self.metrics = metrics
        self.onListening = onListening
    }

    public func run() async throws {
        let maxLineBytes = self.maxLineBytes
        let (limits, logger) = (self.limits, self.logger)
        let count = ConnectionCount(logger: logger, metrics: metrics)
        let initializer: @Sendable (Channel) -> EventLoopFuture<Accepted> = { channel in
            PeerCredentials.read(from: channel).flatMapThrowing { identity in
                let limits = limits()
                if let refusal = count.admit(uid: identity.uid, limits: limits) {
                    try channel.pipeline.syncOperations.addHandler(RefusalHandler(refusal))
                    return .refused
                }
                channel.closeFuture.whenComplete { _ in count.release(uid: identity.uid) }
                try channel.pipeline.syncOperations.addHandlers(ConnectionTimeouts(limits, logger: logger),
                                                                ByteToMessageHandler(LineFraming.Decoder(maxLength: maxLineBytes)),
                                                                MessageToByteHandler(LineFraming.Encoder()))
                return .admitted(try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel), identity)
            }.flatMapErrorThrowing { error in
                // NIO drops a failed initializer's channel without closing it.
                channel.close(promise: nil)
                throw error
            }
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AcceptPause(logger: logger)) }
            }
            .childChannelOption(.allowRemoteHalfClosure, value: true)
        checkDescriptorLimit()
        let server: NIOAsyncChannel<Accepted, Never>
        switch endpoint {
        case .path(let path, let mode):
            try SocketFile.removeIfStale(path)
            // bind creates the file with 0777 & ~umask, so this umask gives exactly `mode`; no
            // chmod after, which would follow a symlink swapped in for the socket meanwhile.
            let previous = umask(~mode & 0o777)
            defer { umask(previous) }
            server = try await bootstrap.bind(unixDomainSocketPath: path, childChannelInitializer: initializer)
            logger.info("listening", metadata: ["socket": "\(path)"])
        case .descriptor(let fd):
            server = try await bootstrap.bind(fd, childChannelInitializer: initializer)
            logger.info("listening", metadata: ["fd": "\(fd)"])
        }

        onListening()
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { connections in
                try await server.executeThenClose { inbound in
                    for try await accepted in inbound {
                        guard case .admitted(let connection, let identity) = accepted else { continue }
                        connections.addTask { await self.serve(connection, caller: Caller(identity: identity)) }
                    }
                }
            }
        } onGracefulShutdown: {
            // Stop accepting; connections finish the request in hand and close.
            server.channel.close(promise: nil)
        }
        logger.info("listener stopped")
    }

    /// Raises the soft descriptor limit to the hard one, and warns when that still leaves no
    /// room for the connection cap: connections over it then wait in the backlog.
    private func checkDescriptorLimit() {
        guard let limit = DescriptorLimit.raiseToHard() else { return }
        let cap = limits().maxConnections
        // The database pool, PostgreSQL's tools, the mail command and NIO need some too.
        let reserve: UInt64 = 64
        if limit.soft < UInt64(cap) + reserve {
            logger.warning("the descriptor limit leaves no room for max_connections; raise LimitNOFILE or lower max_connections",
                           metadata: ["descriptors": "\(limit.soft)", "max_connections": "\(cap)"])
        } else {
            logger.debug("descriptor limit", metadata: ["soft": "\(limit.soft)", "hard": "\(limit.hard)"])
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, caller: Caller) async {
        let logger = self.logger
        var metadata: Logger.Metadata = ["user": "\(caller.identity.user)", "uid": "\(caller.identity.uid)", "pid": "\(caller.identity.pid)"]
        logger.debug("connection opened", metadata: metadata)
        do {
            let channel = connection.channel
            // Replies are written on the channel and awaited until the socket has taken them:
            // the async writer's write returns once queued, and leaving executeThenClose
            // drops what is still queued (apple/swift-nio#2795): a client that half-closed
            // and read late lost the end of a large reply.
            let upgrade = ConnectionUpgrade()
            let stopping = NIOLockedValueBox(false)
            try await connection.executeThenClose { inbound, _ in
                do {
                    // On SIGTERM stop reading: the request in hand (and any already received)
                    // is answered, then the connection closes. Cancelling the task instead
                    // would lose the reply.
                    try await withGracefulShutdownHandler {
                        var watching: Watcher?
                        for try await line in inbound {
                            if let watching {
                                metadata["reason"] = "request_while_watching"
                                try await watching.finish(ResponseError(.invalidRequest, "a watching connection takes no requests; send them on another connection",
                                                                        data: ["reason": "request_while_watching"]))?.get()
                                break
                            }
                            let reply = await ConnectionUpgrade.$current.withValue(upgrade) {
                                await dispatcher.reply(to: Data(line.readableBytesView), caller: caller)
                            }
                            // watch.subscribe answered: its reply, then events, go out through the watcher.
                            if let watcher = upgrade.watcher {
                                watcher.start(on: channel, reply: ByteBuffer(bytes: reply))
                                watching = watcher
                                metadata["watch"] = "true"
                                continue
                            }
                            try await channel.writeAndFlush(ByteBuffer(bytes: reply)).get()
                        }
                        if let watching, stopping.withLockedValue({ $0 }) {
                            try await watching.finish(ResponseError(.unavailable, "bbcsd is stopping; watch again once it is back",
                                                                    data: ["reason": "shutdown"]))?.get()
                        }
                    } onGracefulShutdown: {
                        stopping.withLockedValue { $0 = true }
                        channel.close(mode: .input, promise: nil)
                    }
                } catch is LineFraming.LineTooLong {
                    let error = ResponseError(.tooLarge, "a request line may be at most \(maxLineBytes) bytes; closing the connection")
                    try await channel.writeAndFlush(ByteBuffer(bytes: dispatcher.errorLine(id: .null, error))).get()
                    metadata["reason"] = "too_large"
                }
            }
        } catch {
            metadata["error"] = "\(error)"
        }
        logger.debug("connection closed", metadata: metadata)
    }
}

/// Offered by the listener to the handlers of each connection's requests: one that turns the
/// connection into an event stream (`watch.subscribe`) leaves its watcher here, and the
/// listener hands the reply to it instead of writing it, then reads no more requests.
final class ConnectionUpgrade: Sendable {
    /// The current request's connection; nil outside the listener (a handler called otherwise).
    @TaskLocal static var current: ConnectionUpgrade?

    private let taken = NIOLockedValueBox<Watcher?>(nil)

    /// The watcher a handler started, if one did.
    var watcher: Watcher? { taken.withLockedValue { $0 } }

    /// Makes the connection `watcher`'s; false when it already watches.
    func watch(_ watcher: Watcher) -> Bool {
        taken.withLockedValue { taken in
            guard taken == nil else { return false }
            taken = watcher
            return true
        }
    }
}

/// The socket file a daemon binds by hand.
enum SocketFile {
    struct InUse: Error, CustomStringConvertible {
        let path: String
        var description: String { "another daemon is answering on \(path)" }
    }

    /// Removes a socket file left behind by a daemon that is gone; refuses when one answers.
    static func removeIfStale(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else { return }  // not ours to delete; bind will say why
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected == 0 { throw InUse(path: path) }
        unlink(path)
    }
}
