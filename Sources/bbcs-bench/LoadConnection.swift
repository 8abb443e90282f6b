// One load client's connection: raw newline-delimited JSON over a blocking Unix socket, with a
// receive buffer kept across replies so the client's own cost per request stays a few
// microseconds (the benchmark prints it beside the daemon's, to show it is not the limit).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct LoadConnectionError: Error, CustomStringConvertible {
    let description: String
}

/// A blocking connection to bbcsd answering one request line at a time.
final class LoadConnection {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    /// Bytes received and not yet returned: buffer[start..<end].
    private var start = 0
    private var end = 0

    init(socketPath: String) throws {
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
        var limit = timeval(tv_sec: Self.replyTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
    }

    /// Seconds a request may wait for its reply.
    static let replyTimeout = 120

    deinit { close(fd) }

    /// Sends one request line (ending in a newline) and returns its reply line, without the newline.
    func exchange(_ request: [UInt8]) throws -> ArraySlice<UInt8> {
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
                let reason = n == 0 ? "bbcsd closed the connection"
                    : errno == EAGAIN ? "no reply within \(Self.replyTimeout) s" : "recv: \(String(cString: strerror(errno)))"
                throw LoadConnectionError(description: reason)
            }
            end += n
        }
    }
}

/// What a reply line says, read without decoding it: whether its top-level object has an
/// `error` member (a result can be megabytes; this stops at the first top-level key that
/// tells).
enum ReplyLine {
    static func isError(_ line: ArraySlice<UInt8>) -> Bool {
        var depth = 0
        var index = line.startIndex
        while index < line.endIndex {
            switch line[index] {
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: "\""):
                let keyStart = index + 1
                index = keyStart
                while index < line.endIndex && line[index] != UInt8(ascii: "\"") {
                    index += line[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard depth == 1, index < line.endIndex else { break }
                let key = line[keyStart..<index]
                if key.elementsEqual("error".utf8) { return true }
                if key.elementsEqual("result".utf8) { return false }
            default: break
            }
            index += 1
        }
        return true
    }
}
