import Foundation

/// A fresh key for one attempt at a write (Schema/009): stored with the write's change, in
/// the same statement or transaction, so that after a broken connection the daemon can find
/// out whether the write committed (`RequestKey.fence`).
public struct RequestKey: Sendable, Hashable, CustomStringConvertible, PGParameter {
    public let uuid: UUID

    public init(_ uuid: UUID = UUID()) { self.uuid = uuid }

    public var pgText: String? { uuid.uuidString.lowercased() }
    public var description: String { uuid.uuidString.lowercased() }

    /// The INSERT of this key with the seq of each row of `source` (a CTE of the same statement
    /// whose rows have a `seq`): none when the write wrote nothing.
    func insert(seqFrom source: PGQuery) -> PGQuery {
        "INSERT INTO request_keys (key, seq) SELECT \(self)::uuid, seq FROM \(source)"
    }

    /// What a fence found.
    public enum Fence: Sendable, Equatable {
        /// The write committed, with the change `seq`.
        case committed(seq: Int64)
        /// The write did not commit and now never can: the key is taken.
        case fenced
    }

    /// Takes the key with seq NULL, unless the write that carries it has stored it: then the
    /// write committed. A write still in flight on another backend holds the key's index entry,
    /// so this waits for its end. Idempotent: a fence of our own found again is still `.fenced`.
    public func fence(_ db: PGConnection) throws -> Fence {
        if try db.exists("INSERT INTO request_keys (key) VALUES (\(self)::uuid) ON CONFLICT (key) DO NOTHING RETURNING key") {
            return .fenced
        }
        // A statement of its own: the INSERT's snapshot may predate the commit it waited for.
        guard let row = try db.first(StoredKey.self, "SELECT seq FROM request_keys WHERE key = \(self)::uuid") else {
            throw PGError.unexpectedResult("request key \(self) conflicted but is not stored")
        }
        return row.seq.map { .committed(seq: $0) } ?? .fenced
    }

    /// What a database that takes no writes (read-only for now) can tell without a fence: the
    /// write committed if its key is stored; it did not, and never can, if the backend it was
    /// sent to is gone (a backend's commit is visible before it ends); else nil, not known.
    public func lookUp(_ db: PGConnection, backend: Int32) throws -> Fence? {
        if let row = try db.first(StoredKey.self, "SELECT seq FROM request_keys WHERE key = \(self)::uuid") {
            return row.seq.map { .committed(seq: $0) } ?? .fenced
        }
        let alive = try db.exists("SELECT 1 FROM pg_stat_activity WHERE pid = \(Int(backend))::integer")
        return alive ? nil : .fenced
    }

    private struct StoredKey: Decodable {
        let seq: Int64?
    }
}
