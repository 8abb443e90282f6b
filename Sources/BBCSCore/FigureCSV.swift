/// Figures as a spreadsheet: a header naming the columns, then one figure per line. `code`,
/// `period` and `value` are required; `plan` (where plans share codes), `period_start` and
/// `period_end` (ISO dates, checked against the period), `note`, `forecast`, `provisional`
/// (yes or no) and `reason` (for a correction) may follow, in any order. RFC 4180 quoting,
/// UTF-8, CRLF: the open-data form `OpenData.figures` describes.
public enum FigureCSV {
    public static let columns = ["plan", "code", "period", "period_start", "period_end", "value", "note", "forecast", "provisional", "reason"]
    static let required = ["code", "period", "value"]

    /// One line of the file, its cells by column name (a cell left empty is absent).
    public struct Row: Sendable, Equatable {
        public var line: Int
        public var cells: [String: String]
        public init(line: Int, cells: [String: String]) { self.line = line; self.cells = cells }
        public subscript(column: String) -> String? { cells[column] }
    }

    /// Why a file or one of its lines was refused: the line, the column and a sentence.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var column: String?
        public var message: String
        public init(line: Int, column: String?, _ message: String) { self.line = line; self.column = column; self.message = message }
        public var description: String { "line \(line)" + (column.map { ", column \($0)" } ?? "") + ": " + message }
    }

    /// The file's lines, after its header; a header without the required columns, an unknown
    /// column, a quote left open or a line with more cells than the header is refused.
    public static func parse(_ text: String) throws(Problem) -> [Row] {
        let records = try records(text)
        guard let header = records.first else { throw Problem(line: 1, column: nil, "the file is empty: its first line names the columns, \(columns.joined(separator: ","))") }
        let names = header.cells.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for name in names where !columns.contains(name) {
            throw Problem(line: header.line, column: name, "unknown column \"\(name)\"; the columns are \(columns.joined(separator: ", "))")
        }
        for name in required where !names.contains(name) {
            throw Problem(line: header.line, column: name, "the header has no \(name) column; \(required.joined(separator: ", ")) are required")
        }
        var seen = Set<String>()
        for name in names where !seen.insert(name).inserted { throw Problem(line: header.line, column: name, "the column \(name) appears twice") }
        return try records.dropFirst().filter { !($0.cells.count == 1 && $0.cells[0].isEmpty) }.map { (record) throws(Problem) -> Row in
            guard record.cells.count <= names.count else {
                throw Problem(line: record.line, column: nil, "\(record.cells.count) cells where the header names \(names.count)")
            }
            var cells: [String: String] = [:]
            for (name, cell) in zip(names, record.cells) where !cell.trimmingCharacters(in: .whitespaces).isEmpty { cells[name] = cell }
            return Row(line: record.line, cells: cells)
        }
    }

    /// The file's records with the line each starts on; quoted cells may hold commas, quotes
    /// (doubled) and line breaks.
    static func records(_ text: String) throws(Problem) -> [(line: Int, cells: [String])] {
        var records: [(line: Int, cells: [String])] = []
        var cells: [String] = [], cell = "", quoted = false, afterQuote = false
        var line = 1, start = 1
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return scalars.next()
        }
        func endRecord() {
            cells.append(cell)
            records.append((start, cells))
            cells = []; cell = ""; afterQuote = false
        }
        var sawAny = false
        while let c = next() {
            sawAny = true
            if quoted {
                if c == "\"" {
                    if let n = next() {
                        if n == "\"" { cell.unicodeScalars.append("\"") } else { quoted = false; afterQuote = true; pending = n }
                    } else { quoted = false; afterQuote = true }
                } else {
                    if c == "\n" { line += 1 }
                    cell.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case ",": cells.append(cell); cell = ""; afterQuote = false
            case "\r":
                if let n = next(), n != "\n" { pending = n }
                endRecord(); line += 1; start = line
            case "\n": endRecord(); line += 1; start = line
            case "\"" where cell.isEmpty && !afterQuote: quoted = true
            default:
                if afterQuote { throw Problem(line: line, column: nil, "text after a closing quote; a quote inside a quoted cell is written twice") }
                cell.unicodeScalars.append(c)
            }
        }
        if quoted { throw Problem(line: start, column: nil, "a quoted cell is never closed") }
        if sawAny && !(cell.isEmpty && cells.isEmpty) { endRecord() }
        return records
    }

    /// The CSV text of `rows` under `columns`' header: cells quoted where they must be, CRLF line ends.
    public static func render(_ rows: [[String]]) -> String {
        func quote(_ field: String) -> String {
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }
        return ([columns] + rows).map { $0.map(quote).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    /// A figure's cells in `columns`' order (no reason: an export read back changes nothing).
    public static func cells(plan: String, code: String, _ figure: FigureRevision) -> [String] {
        [plan, code, figure.period.description, figure.period.start.description, figure.period.end.description,
         FigureRules.format(figure.value), figure.note ?? "", figure.forecast.map { FigureRules.format($0) } ?? "",
         figure.provisional ? "yes" : "no", ""]
    }
}
