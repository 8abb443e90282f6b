import Foundation

/// Aligned plain-text tables for people.
public struct Table: Sendable {
    public var headers: [String]
    public var rows: [[String]] = []
    /// Widest a column may be before its text is cut with "…"; the last column is never cut.
    public var maxWidth = 60

    public init(_ headers: String...) { self.headers = headers }
    public init(headers: [String]) { self.headers = headers }

    public mutating func add(_ cells: String...) { rows.append(cells) }

    public func render() -> String {
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

/// A number as the plan prints it: whole numbers without decimals, others with `decimals`,
/// percents with "%"; "-" for none.
public func formatValue(_ value: Double?, percent: Bool, decimals: Int = 2) -> String {
    guard let value else { return "-" }
    let text = value == value.rounded() ? String(Int64(value)) : String(format: "%.\(decimals)f", value)
    return percent ? text + "%" : text
}

/// Text wrapped at `width`, every line indented; lines after the first of a "- " item hang
/// under its text.
public func wrap(_ text: String, width: Int = 88, indent: String = "  ") -> String {
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

