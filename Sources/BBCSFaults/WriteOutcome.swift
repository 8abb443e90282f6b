import Foundation

/// What one reply to a write said, in the terms the checker judges it by.
public enum Reply: Sendable, Equatable {
    /// Stored, as the given revision (nil when the reply did not name one).
    case ok(revision: Int?)
    /// An error code that says nothing was stored: conflict, permission_denied, invalid_params,
    /// not_found, timeout, unavailable without outcome "unknown", and the connection-level refusals.
    case refused(code: String)
    /// `unavailable` with `{"outcome": "unknown"}`: the daemon could not find out.
    case unknown
    /// `internal`: the daemon failed in a way that tells nothing about the write.
    case internalError
    /// The connection closed, or no reply came within the client's timeout.
    case noReply(String)

    /// Reads a reply line of `figure.correct`.
    public init(line: some Collection<UInt8>) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
            self = .noReply("a reply that is not a JSON object")
            return
        }
        if let result = object["result"] as? [String: Any] {
            let figure = (result["status"] as? [String: Any])?["figure"] as? [String: Any]
            self = .ok(revision: figure?["revision"] as? Int)
            return
        }
        let error = object["error"] as? [String: Any]
        let code = error?["code"] as? String ?? "(no code)"
        let outcome = (error?["data"] as? [String: Any])?["outcome"] as? String
        switch code {
        case "unavailable" where outcome == "unknown": self = .unknown
        case "internal": self = .internalError
        default: self = .refused(code: code)
        }
    }
}

/// One write a writer sent: the note that makes it findable in the database, and its reply.
public struct WriteRecord: Sendable {
    /// Unique to this write: `figures.note` of the revision it stores, if it stores one.
    public let note: String
    /// Seconds from the run's start to the request being sent.
    public let sentAt: Double
    /// Seconds until the reply (or until the connection failed).
    public let elapsed: Double
    public let reply: Reply

    public init(note: String, sentAt: Double, elapsed: Double, reply: Reply) {
        self.note = note; self.sentAt = sentAt; self.elapsed = elapsed; self.reply = reply
    }
}

/// A revision found in the database for a write's note.
public struct StoredRevision: Decodable, Sendable {
    public let note: String
    public let revision: Int
    public init(note: String, revision: Int) { self.note = note; self.revision = revision }
}
