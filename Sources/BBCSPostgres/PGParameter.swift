import BBCSCore

/// A value bound to a statement parameter, sent in PostgreSQL's text format (nil is NULL).
public protocol PGParameter {
    var pgText: String? { get }
}

extension String: PGParameter { public var pgText: String? { self } }
extension Int: PGParameter { public var pgText: String? { String(self) } }
extension Int64: PGParameter { public var pgText: String? { String(self) } }
extension Int32: PGParameter { public var pgText: String? { String(self) } }
extension UInt32: PGParameter { public var pgText: String? { String(self) } }
extension Bool: PGParameter { public var pgText: String? { self ? "t" : "f" } }
extension Double: PGParameter {
    public var pgText: String? { self == rounded() && abs(self) < 1e15 ? String(Int64(self)) : String(self) }
}
extension Optional: PGParameter where Wrapped: PGParameter {
    public var pgText: String? { self?.pgText }
}

/// An array literal (`{"a","b"}`) for a text[], integer[] or bigint[] parameter: cast it in
/// the SQL, e.g. `\(ids)::bigint[]`.
extension Array: PGParameter where Element: PGParameter {
    public var pgText: String? {
        let items = map { item in
            item.pgText.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
                ?? "NULL"
        }
        return "{" + items.joined(separator: ",") + "}"
    }
}

/// Dates are sent as ISO text (`2026-03-31`), periods as `2025/26` or `2025/26 Q1`.
extension CalendarDate: PGParameter { public var pgText: String? { description } }
extension Period: PGParameter { public var pgText: String? { description } }

/// Enums are stored as their raw values.
extension PGParameter where Self: RawRepresentable, RawValue == String {
    public var pgText: String? { rawValue }
}

extension IndicatorCategory: PGParameter {}
extension IndicatorUnit: PGParameter {}
extension Polarity: PGParameter {}
extension Frequency: PGParameter {}
extension TaskStatus: PGParameter {}
extension BudgetKind: PGParameter {}
extension ReminderKind: PGParameter {}
extension TaskChange.Kind: PGParameter {}
extension AuditEntry.Outcome: PGParameter {}
extension Reminder.MailState: PGParameter {}
extension Change.Kind: PGParameter {}
