import CLibPQ
import Foundation

/// One NOTIFY that reached a LISTENing connection.
public struct PGNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    /// The process id of the backend that sent it.
    public var senderPID: Int32
}

extension PGConnection {
    /// Subscribes this connection to `channel` (LISTEN).
    public func listen(_ channel: String) throws {
        try execute("LISTEN \(identifier: channel)")
    }

    /// Waits until notifications arrive, `timeout` passes, or `interrupt` (a descriptor, such
    /// as a pipe's read end) becomes readable; returns the notifications received (none on a
    /// timeout or an interrupt). A broken connection throws `PGError.connectionFailed`.
    ///
    /// Blocks the calling thread: call it from a thread of its own, never from Swift's
    /// cooperative pool.
    public func notifications(waitingUpTo timeout: Duration, interrupt: Int32? = nil) throws -> [PGNotification] {
        // A statement's result may have carried some in already.
        var received = takeNotifications()
        guard received.isEmpty else { return received }
        let socket = PQsocket(handle)
        guard socket >= 0 else { throw PGError.connectionFailed(errorText) }
        var descriptors = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0)]
        if let interrupt { descriptors.append(pollfd(fd: interrupt, events: Int16(POLLIN), revents: 0)) }
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let ready = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
        if ready < 0 {
            guard errno == EINTR else { throw PGError.connectionFailed("poll failed: \(String(cString: strerror(errno)))") }
            return []
        }
        guard descriptors[0].revents != 0 else { return [] }
        // Reads what the server sent: notifications, or the end of the connection.
        guard PQconsumeInput(handle) == 1, isHealthy else { throw PGError.connectionFailed(errorText) }
        received = takeNotifications()
        return received
    }

    private func takeNotifications() -> [PGNotification] {
        var received: [PGNotification] = []
        while let notify = PQnotifies(handle) {
            received.append(PGNotification(channel: String(cString: notify.pointee.relname),
                                           payload: notify.pointee.extra.map { String(cString: $0) } ?? "",
                                           senderPID: notify.pointee.be_pid))
            PQfreemem(notify)
        }
        return received
    }

    private var errorText: String {
        let text = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "the connection closed" : text
    }
}
