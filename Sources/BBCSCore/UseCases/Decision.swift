import Foundation

/// When a change is made: the day the rules judge by (the daemon's clock, injectable) and
/// the real instant the records carry (an append-only trail never holds a rehearsal's times).
public struct ChangeTime: Sendable, Equatable {
    public var today: CalendarDate
    public var recordedAt: Date

    public init(today: CalendarDate, recordedAt: Date) { self.today = today; self.recordedAt = recordedAt }

    /// `recordedAt` as the records show it: Europe/London wall-clock text, "2026-07-14T09:30:00".
    public var recordedText: String { Self.londonFormatter.string(from: recordedAt) }

    private static let londonFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.timeZone = CalendarDate.planTimeZone
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter
    }()
}

/// The audit row a change writes beside it, in the same statement.
public struct AuditRecord: Sendable, Equatable {
    /// The indicator's or task's code, the user's login.
    public var object: String
    public var before: JSONValue?
    public var after: JSONValue?
    public var message: String?

    public init(object: String, before: JSONValue? = nil, after: JSONValue? = nil, message: String? = nil) {
        self.object = object; self.before = before; self.after = after; self.message = message
    }
}

extension JSONValue {
    /// `value` as JSON (what the audit trail and the change sequence keep); null if it cannot be encoded.
    public init(encoding value: some Encodable) {
        let encoder = JSONEncoder()
        // A stored value no Double holds reads as infinity; the trail keeps it as the wire does.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        self = (try? encoder.encode(value)).flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) } ?? .null
    }
}

/// A text parameter that must say something.
func requireText(_ text: String, param: String, _ message: String) throws(StoreError) {
    guard !text.allSatisfy(\.isWhitespace) else { throw StoreError.invalid(param: param, message) }
}
