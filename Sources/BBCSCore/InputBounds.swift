/// What text and dates from outside (requests and plan files) may be, so that what the
/// database can hold is never what answers: PostgreSQL cuts text at a NUL without a word,
/// refuses an index entry over 2,704 bytes, and has no year 0.
public enum InputBounds {
    /// Longest name, code or login, in Unicode scalars: at most 800 bytes of UTF-8, well
    /// under PostgreSQL's largest index entry (names of posts and strategies are indexed).
    public static let nameLength = 200

    /// Longest free text (a note, a reason, a comment), in Unicode scalars.
    public static let textLength = 10_000

    /// The dates the daemon takes: the years a period may name (1900/01 to 9998/99), to the
    /// last day four digits write.
    public static let dates = CalendarDate(year: 1900, month: 1, day: 1)...CalendarDate(year: 9999, month: 12, day: 31)

    /// Why `text` cannot be stored, as the end of a sentence naming it ("contains a NUL
    /// character"), or nil when it can. `maxLength` in Unicode scalars; nil for no limit.
    /// Text no longer than a name is one line: no control characters (a line break, a tab,
    /// an escape) and no Unicode line or paragraph separators, which would break every
    /// listing and message that shows it.
    public static func problem(text: String, maxLength: Int?) -> String? {
        if text.utf8.contains(0) { return "contains a NUL character, which no text may hold" }
        if let maxLength, maxLength <= nameLength,
           let bad = text.unicodeScalars.first(where: { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" }) {
            let hex = String(bad.value, radix: 16, uppercase: true)
            return "contains the control character U+\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex); names and codes are one line of text"
        }
        if let maxLength {
            let length = text.unicodeScalars.count
            if length > maxLength { return "is \(length) characters long; at most \(maxLength) are allowed" }
        }
        return nil
    }

    /// Why `date` cannot be stored, or nil when it can.
    public static func problem(date: CalendarDate) -> String? {
        dates.contains(date) ? nil : "must be a date from \(dates.lowerBound) to \(dates.upperBound)"
    }
}
