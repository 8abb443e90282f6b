import Foundation

/// Every reply of a run judged against what the database holds, by the rules of the fault
/// suite: `ok` means stored exactly once, as the revision the reply named; a refusal
/// (`timeout`, `unavailable` without outcome "unknown", `conflict`, ...) means not stored;
/// outcome unknown, `internal` and no reply may be either, and are counted.
public struct Verdict: Sendable {
    public private(set) var writes = 0
    public private(set) var ok = 0
    /// Refusals by error code.
    public private(set) var refused: [String: Int] = [:]
    public private(set) var unknown = 0
    public private(set) var internalErrors = 0
    public private(set) var noReply = 0
    /// Of the unknown, internal and unanswered writes, how many the database holds.
    public private(set) var eitherStored = 0
    /// `ok`, and the database has no such revision.
    public private(set) var lost = 0
    /// The database holds the write more than once.
    public private(set) var doubled = 0
    /// `ok`, stored once, but as another revision than the reply named.
    public private(set) var wrongRevision = 0
    /// Refused, and the database holds it.
    public private(set) var falselyRefused = 0
    /// `ok` replies that named no revision (so their revision could not be checked).
    public private(set) var unnamed = 0
    /// A few of the writes at fault, for the report.
    public private(set) var examples: [String] = []

    /// Judges `records` against `stored` (every revision whose note starts with the run's prefix).
    public init(records: [WriteRecord], stored: [StoredRevision]) {
        let copies = Dictionary(grouping: stored, by: \.note)
        for record in records {
            writes += 1
            let found = copies[record.note] ?? []
            if found.count > 1 { doubled += 1; example("doubled", record, found) }
            switch record.reply {
            case .ok(let revision):
                ok += 1
                if revision == nil { unnamed += 1 }
                if found.isEmpty { lost += 1; example("lost", record, found) }
                else if found.count == 1, let revision, found[0].revision != revision { wrongRevision += 1; example("wrong revision", record, found) }
            case .refused(let code):
                refused[code, default: 0] += 1
                if !found.isEmpty { falselyRefused += 1; example("falsely refused (\(code))", record, found) }
            case .unknown:
                unknown += 1
                if !found.isEmpty { eitherStored += 1 }
            case .internalError:
                internalErrors += 1
                if !found.isEmpty { eitherStored += 1 }
            case .noReply:
                noReply += 1
                if !found.isEmpty { eitherStored += 1 }
            }
        }
    }

    /// No reply contradicts the database.
    public var isSound: Bool { lost == 0 && doubled == 0 && wrongRevision == 0 && falselyRefused == 0 }

    /// "unavailable 120, conflict 3", or "-".
    public var refusedText: String {
        refused.isEmpty ? "-" : refused.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    private mutating func example(_ what: String, _ record: WriteRecord, _ found: [StoredRevision]) {
        guard examples.count < 5 else { return }
        examples.append("\(what): \"\(record.note)\" sent at \(String(format: "%.2f", record.sentAt)) s, reply \(record.reply), "
                        + "stored as revisions \(found.map(\.revision))")
    }
}
