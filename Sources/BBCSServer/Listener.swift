import BBCSProtocol
import Foundation
import Logging
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
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    let onListening: @Sendable () -> Void

    /// - Parameter onListening: called once the socket accepts connections.
    public init(endpoint: Endpoint, dispatcher: Dispatcher, maxLineBytes: Int, logger: Logger,
                group: MultiThreadedEventLoopGroup = .singleton, onListening: @escaping @Sendable () -> Void = {}) {
        self.endpoint = endpoint
        self.dispatcher = dispatcher
        self.maxLineBytes = maxLineBytes
        self.logger = logger
        self.group = group
        self.onListening = onListening
    }

    public func run() async throws {
        let maxLineBytes = self.maxLineBytes
        let initializer: @Sendable (Channel) -> EventLoopFuture<(NIOAsyncChannel<ByteBuffer, ByteBuffer>, Identity)> = { channel in
            PeerCredentials.read(from: channel).flatMapThrowing { identity in
                try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(LineFraming.Decoder(maxLength: maxLineBytes)),
                                                                MessageToByteHandler(LineFraming.Encoder()))
                return (try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel), identity)
            }
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
        let server: NIOAsyncChannel<(NIOAsyncChannel<ByteBuffer, ByteBuffer>, Identity), Never>
        switch endpoint {
        case .path(let path, let mode):
            try SocketFile.removeIfStale(path)
            // The socket file takes the umask: create it no wider than asked, then set the mode exactly.
            let previous = umask(~mode & 0o777)
            defer { umask(previous) }
            server = try await bootstrap.bind(unixDomainSocketPath: path, childChannelInitializer: initializer)
            chmod(path, mode)
            logger.info("listening", metadata: ["socket": "\(path)"])
        case .descriptor(let fd):
            server = try await bootstrap.bind(fd, childChannelInitializer: initializer)
            logger.info("listening", metadata: ["fd": "\(fd)"])
        }

        onListening()
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { connections in
                try await server.executeThenClose { inbound in
                    for try await (connection, identity) in inbound {
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

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, caller: Caller) async {
        let logger = self.logger
        var metadata: Logger.Metadata = ["user": "\(caller.identity.user)", "uid": "\(caller.identity.uid)", "pid": "\(caller.identity.pid)"]
        logger.debug("connection opened", metadata: metadata)
        do {
            let channel = connection.channel
            try await connection.executeThenClose { inbound, outbound in
                do {
                    // On SIGTERM stop reading: the request in hand (and any already received)
                    // is answered, then the connection closes. Cancelling the task instead
                    // would lose the reply.
                    try await withGracefulShutdownHandler {
                        for try await line in inbound {
                            try await outbound.write(ByteBuffer(bytes: await dispatcher.reply(to: Data(line.readableBytesView), caller: caller)))
                        }
                    } onGracefulShutdown: {
                        channel.close(mode: .input, promise: nil)
                    }
                } catch is LineFraming.LineTooLong {
                    let error = ResponseError(.tooLarge, "a request line may be at most \(maxLineBytes) bytes; closing the connection")
                    try await outbound.write(ByteBuffer(bytes: dispatcher.errorLine(id: .null, error)))
                    metadata["reason"] = "too_large"
                }
            }
        } catch {
            metadata["error"] = "\(error)"
        }
        logger.debug("connection closed", metadata: metadata)
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
