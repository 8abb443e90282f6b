#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BBCSProtocol
import Foundation

/// Why a call did not produce a result.
public enum ClientError: Error, CustomStringConvertible {
    /// Nothing answered on the socket.
    case cannotConnect(path: String, reason: String)
    /// The daemon answered with an error.
    case server(ResponseError)
    /// The connection broke or the reply was not understood.
    case protocolFailure(String)

    public var description: String {
        switch self {
        case .cannotConnect(let path, let reason): return "cannot reach bbcsd at \(path): \(reason). Is the daemon running?"
        case .server(let error): return error.message
        case .protocolFailure(let message): return "the daemon's reply was not understood: \(message)"
        }
    }
}

/// A blocking client for bbcsd's socket: one connection, requests answered in order.
/// Plain system calls, so a one-shot command starts fast.
public final class Client {
    public let socketPath: String
    private let fd: Int32
    private var nextID = 1
    private var pending = [UInt8]()

    /// The socket path from $BBCS_SOCKET, or the system default.
    public static var defaultSocketPath: String {
        ProcessInfo.processInfo.environment["BBCS_SOCKET"].flatMap { $0.isEmpty ? nil : $0 } ?? "/run/bbcs/bbcsd.sock"
    }

    public init(socketPath: String) throws {
        self.socketPath = socketPath
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard socketPath.utf8.count < capacity else {
            throw ClientError.cannotConnect(path: socketPath, reason: "the path is longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socketPath.utf8)) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ClientError.cannotConnect(path: socketPath, reason: String(cString: strerror(errno))) }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard status == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ClientError.cannotConnect(path: socketPath, reason: reason)
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// A decoding failure as one clause naming where it happened (a reply from another
    /// version, usually), not Swift's multi-line dump.
    public static func sentence(_ error: Error) -> String {
        func path(_ context: DecodingError.Context, _ key: CodingKey? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "the reply" : "the reply's " + text.dropFirst()
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: return "\(path(context, key)) is missing"
        case .valueNotFound(_, let context)?: return "\(path(context)) is null"
        case .typeMismatch(let type, let context)?: return "\(path(context)) is not a \(type)"
        case .dataCorrupted(let context)?: return "\(path(context)) is malformed"
        default: return "\(error)".replacingOccurrences(of: "\n", with: " ")
        }
    }

    /// Sends `request` and returns its typed result, or throws the daemon's error.
    public func call<R: RequestType>(_ request: R) throws -> R.Response {
        let line = try send(request)
        let reply: ReplyEnvelope<R.Response>
        do {
            reply = try WireCoding.decoder().decode(ReplyEnvelope<R.Response>.self, from: line)
        } catch {
            throw ClientError.protocolFailure(Self.sentence(error))
        }
        if let error = reply.error { throw ClientError.server(error) }
        guard let result = reply.result else { throw ClientError.protocolFailure("a reply with neither result nor error") }
        return result
    }

    /// Sends `request` and returns the reply's `result` as JSON, unchanged, for scripts.
    public func callRaw<R: RequestType>(_ request: R) throws -> Any {
        let line = try send(request)
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            throw ClientError.protocolFailure("the reply is not a JSON object")
        }
        if let error = object["error"] {
            let data = try JSONSerialization.data(withJSONObject: error)
            throw ClientError.server(try WireCoding.decoder().decode(ResponseError.self, from: data))
        }
        guard let result = object["result"] else { throw ClientError.protocolFailure("a reply with neither result nor error") }
        return result
    }

    /// Writes one raw line (a newline is added) and reads one reply line; for tests and tools.
    public func exchange(rawLine: Data) throws -> Data {
        try write(rawLine + Data([UInt8(ascii: "\n")]))
        return try readLine()
    }

    private func send<R: RequestType>(_ request: R) throws -> Data {
        let id = nextID
        nextID += 1
        var line = try WireCoding.encoder().encode(RequestEnvelope(id: .number(id), method: R.method, params: request))
        line.append(UInt8(ascii: "\n"))
        try write(line)
        return try readLine()
    }

    private func write(_ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ClientError.protocolFailure("writing to the daemon failed: \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
    }

    /// Reads up to the next newline.
    public func readLine() throws -> Data {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(pending[..<newline])
                pending.removeSubrange(...newline)
                return line
            }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw ClientError.protocolFailure(n == 0 ? "the daemon closed the connection" : String(cString: strerror(errno)))
            }
            pending.append(contentsOf: chunk[..<n])
        }
    }
}
