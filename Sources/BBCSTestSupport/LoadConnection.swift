// One load client's connection (the load benchmark's and the fault suite's): raw
// newline-delimited JSON over a blocking Unix socket, with a receive buffer kept across
// replies so the client's own cost per request stays a few microseconds (the benchmark
// prints it beside the daemon's, to show it is not the limit).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a load connection could not connect, send or read a reply.
public struct LoadConnectionError: Error, CustomStringConvertible {
    public let description: String
    /// True when the daemon closed the connection or it broke (not a reply timeout).
    public let closed: Bool
    init(description: String, closed: Bool = true) {
        self.description = description
        self.closed = closed
    }
}

/// A blocking connection to bbcsd answering one request line at a time.
public final class LoadConnection {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    /// Bytes received and not yet returned: buffer[start..<end].
    private var start = 0
    private var end = 0

    /// Seconds a request may wait for its reply.
    public let replyTimeout: Int

    public init(socketPath: String, replyTimeout: Int = 120) throws {
        self.replyTimeout = replyTimeout
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard socketPath.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw LoadConnectionError(description: "the socket path \(socketPath) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socketPath.utf8)) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LoadConnectionError(description: "socket: \(String(cString: strerror(errno)))") }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard status == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw LoadConnectionError(description: "cannot connect to \(socketPath): \(reason)")
        }
        // A daemon that stops answering ends the client with an error instead of a hang.
        var limit = timeval(tv_sec: replyTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
    }

    deinit { close(fd) }

    /// Sends one request line (ending in a newline) and returns its reply line, without the newline.
    public func exchange(_ request: [UInt8]) throws -> ArraySlice<UInt8> {
        try request.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw LoadConnectionError(description: "send: \(String(cString: strerror(errno)))") }
                offset += n
            }
        }
        return try readLine()
    }

    private func readLine() throws -> ArraySlice<UInt8> {
        var scanned = start
        while true {
            if let newline = buffer[scanned..<end].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[start..<newline]
                start = newline + 1
                return line
            }
            scanned = end
            if start > 0 {
                // Keep the partial line at the front so the buffer does not grow without need.
                let (from, count) = (start, end - start)
                buffer.withUnsafeMutableBytes { raw in _ = memmove(raw.baseAddress!, raw.baseAddress! + from, count) }
                scanned -= start
                end -= start
                start = 0
            }
            if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            let (fd, filled) = (self.fd, end)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, $0.count - filled, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let timedOut = n < 0 && errno == EAGAIN
                let reason = n == 0 ? "bbcsd closed the connection"
                    : timedOut ? "no reply within \(replyTimeout) s" : "recv: \(String(cString: strerror(errno)))"
                throw LoadConnectionError(description: reason, closed: !timedOut)
            }
            end += n
        }
    }
}
