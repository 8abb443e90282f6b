import BBCSCore
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
        let headers = self.headers.map { printable($0, lineBreaks: false) }
        let cut = rows.map { row in
            row.enumerated().map { index, cell in
                let flat = printable(cell, lineBreaks: false)
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
/// percents with "%"; "-" for none. Total: any Double prints (`FigureRules.format`).
public func formatValue(_ value: Double?, percent: Bool, decimals: Int = 2) -> String {
    guard let value else { return "-" }
    let text = FigureRules.format(value, decimals: decimals)
    return percent ? text + "%" : text
}

/// `text` safe to print on a terminal or lay out for a reader: every control character (C0,
/// DEL, C1), with which stored names, notes and reasons could move the cursor, retitle the
/// window or hide lines behind ANSI escape sequences, becomes U+FFFD. With `lineBreaks` a
/// layout keeps newlines and tabs (a CR LF is a newline); without, they become spaces.
/// Every text layout, and every line bbcsctl prints, passes through here.
public func printable(_ text: String, lineBreaks: Bool = true) -> String {
    // General category Cc: exactly C0, DEL and C1.
    func isControl(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.generalCategory == .control }
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var out = String.UnicodeScalarView()
    var scalars = text.unicodeScalars.makeIterator()
    var next = scalars.next()
    while let scalar = next {
        next = scalars.next()
        switch scalar {
        case "\r" where next == "\n": continue
        case "\n", "\t": out.append(lineBreaks ? scalar : " ")
        case _ where isControl(scalar): out.append("\u{FFFD}")
        default: out.append(scalar)
        }
    }
    return String(out)
}

/// Text wrapped at `width`, every line indented; lines after the first of a "- " item hang
/// under its text. Newlines in `text` are spaces; its control characters are replaced (`printable`).
public func wrap(_ text: String, width: Int = 88, indent: String = "  ") -> String {
    let text = printable(text, lineBreaks: false)
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

