import BBCSClient
import BBCSCore
import BBCSProtocol
import Foundation

/// Exit statuses scripts can rely on (sysexits.h where one fits).
enum Exit {
    static let usage: Int32 = 64          // EX_USAGE: bad command line or parameters
    static let cannotConnect: Int32 = 69  // EX_UNAVAILABLE: no daemon on the socket
    static let software: Int32 = 70       // EX_SOFTWARE: the daemon failed (internal)
    static let temporary: Int32 = 75      // EX_TEMPFAIL: the daemon's database is unavailable
    static let protocolError: Int32 = 76  // EX_PROTOCOL: the reply was not understood
    static let permission: Int32 = 77     // EX_NOPERM: unauthenticated or permission denied
    static let notFound: Int32 = 3
    static let conflict: Int32 = 4

    static func status(for error: ClientError) -> Int32 {
        switch error {
        case .cannotConnect: return cannotConnect
        case .protocolFailure: return protocolError
        case .server(let error):
            switch error.code {
            case .parseError, .invalidRequest, .methodNotFound, .invalidParams, .tooLarge: return usage
            case .unauthenticated, .permissionDenied: return permission
            case .notFound: return notFound
            case .conflict: return conflict
            case .unavailable: return temporary
            case .internal: return software
            }
        }
    }
}

/// Aligned plain-text tables for people.
struct Table {
    var headers: [String]
    var rows: [[String]] = []
    /// Widest a column may be before its text is cut with "…"; the last column is never cut.
    var maxWidth = 60

    init(_ headers: String...) { self.headers = headers }

    mutating func add(_ cells: String...) { rows.append(cells) }

    func render() -> String {
        let cut = rows.map { row in
            row.enumerated().map { index, cell in
                let flat = cell.replacingOccurrences(of: "\n", with: " ")
                return index < row.count - 1 && flat.count > maxWidth ? String(flat.prefix(maxWidth - 1)) + "…" : flat
            }
        }
        let widths = headers.indices.map { column in
            ([headers[column]] + cut.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(headers)] + cut.map(line)).joined(separator: "\n")
    }
}

/// One row per period: target, current figure, status and direction of travel.
func periodTable(_ periods: [PeriodStatus], percent: Bool) -> Table {
    var table = Table("Period", "Target", "Value", "Rev", "RAG", "vs prev", "vs year ago", "Flags", "Note")
    for p in periods {
        let target = formatValue(p.target, percent: percent) + (p.targetSource == .yearShare ? " (¼ of year)" : "")
        var flags: [String] = []
        if p.figure == nil && p.actual != nil { flags.append("plan actual") }
        if p.figure?.late == true { flags.append("late") }
        if p.figure?.validatedBy != nil { flags.append("validated") }
        table.add(p.period.description, target, formatValue(p.value, percent: percent), p.figure.map { "\($0.revision)" } ?? "",
                  p.rag.rawValue, p.sincePrevious?.rawValue ?? "", p.sinceYearEarlier?.rawValue ?? "",
                  flags.joined(separator: ","), p.figure?.note ?? "")
    }
    return table
}

/// A number as the plan prints it: whole numbers without decimals, percents with "%".
func formatValue(_ value: Double?, percent: Bool) -> String {
    guard let value else { return "-" }
    let text = value == value.rounded() ? String(Int64(value)) : String(format: "%.2f", value)
    return percent ? text + "%" : text
}

/// Text wrapped at `width`, every line indented; lines after the first of a "- " item hang
/// under its text.
func wrap(_ text: String, width: Int = 88, indent: String = "  ") -> String {
    var lines: [String] = []
    var current = ""
    let hanging = text.hasPrefix("- ") ? indent + "  " : indent
    for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
        let prefix = lines.isEmpty ? indent : hanging
        if !current.isEmpty && current.count + 1 + word.count > width - prefix.count {
            lines.append(prefix + current)
            current = ""
        }
        current += current.isEmpty ? String(word) : " " + word
    }
    if !current.isEmpty { lines.append((lines.isEmpty ? indent : hanging) + current) }
    return lines.joined(separator: "\n")
}

func printJSON(_ value: Any) {
    let options: JSONSerialization.WritingOptions = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]
    if let data = try? JSONSerialization.data(withJSONObject: value, options: options) {
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
