import Foundation

/// The daemon's configuration file: `key = value` lines (a subset of TOML: strings in
/// double quotes, whole numbers, one-line arrays of strings, `#` comments).
public struct ConfigFile: Sendable, Equatable {
    /// Why a configuration file was refused: file, line and key named.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var file: String
        public var line: Int
        public var key: String?
        public var problem: String
        public var description: String {
            "\(file):\(line):" + (key.map { " \($0):" } ?? "") + " \(problem)"
        }
    }

    public var database: String?
    public var poolSize: Int?
    public var socket: String?
    public var socketMode: Int?
    public var maxLineBytes: Int?
    public var schemaDir: String?
    public var plan: String?
    public var logLevel: String?
    public var admins: [String]?
    public var figureGraceDays: Int?

    public init() {}

    public static let keys = ["database", "pool_size", "socket", "socket_mode", "max_line_bytes", "schema_dir", "plan", "log_level",
                              "admins", "figure_grace_days"]

    public static func load(path: String) throws -> ConfigFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw Invalid(file: path, line: 0, key: nil, problem: "cannot be read: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> ConfigFile {
        var config = ConfigFile()
        var seen = Set<String>()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw Invalid(file: file, line: number, key: nil, problem: "expected key = value")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            func fail(_ problem: String) -> Invalid { Invalid(file: file, line: number, key: key, problem: problem) }
            guard keys.contains(key) else { throw fail("unknown key (known: \(keys.joined(separator: ", ")))") }
            guard seen.insert(key).inserted else { throw fail("set twice") }
            func string() throws -> String {
                guard value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") else { throw fail("expected a quoted string") }
                let inner = String(value.dropFirst().dropLast())
                guard !inner.contains("\"") else { throw fail("quotes inside a string are not supported") }
                return inner
            }
            func strings() throws -> [String] {
                guard value.hasPrefix("["), value.hasSuffix("]") else { throw fail("expected an array of quoted strings, e.g. [\"alice\", \"bob\"]") }
                let inner = value.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                if inner.isEmpty { return [] }
                return try inner.split(separator: ",", omittingEmptySubsequences: false).map { item in
                    let item = item.trimmingCharacters(in: .whitespaces)
                    guard item.count >= 2, item.hasPrefix("\""), item.hasSuffix("\""), !item.dropFirst().dropLast().contains("\"") else {
                        throw fail("expected an array of quoted strings, e.g. [\"alice\", \"bob\"]")
                    }
                    return String(item.dropFirst().dropLast())
                }
            }
            func integer(_ range: ClosedRange<Int>) throws -> Int {
                let parsed = value.hasPrefix("0o") ? Int(value.dropFirst(2), radix: 8) : Int(value)
                guard let n = parsed else { throw fail("expected a whole number") }
                guard range.contains(n) else { throw fail("must be from \(range.lowerBound) to \(range.upperBound)") }
                return n
            }
            switch key {
            case "database": config.database = try string()
            case "pool_size": config.poolSize = try integer(1...256)
            case "socket": config.socket = try string()
            case "socket_mode": config.socketMode = try integer(0...0o777)
            case "max_line_bytes": config.maxLineBytes = try integer(1024...(64 << 20))
            case "schema_dir": config.schemaDir = try string()
            case "admins": config.admins = try strings()
            case "figure_grace_days": config.figureGraceDays = try integer(0...366)
            case "plan": config.plan = try string()
            case "log_level":
                let level = try string()
                guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
                    throw fail("expected one of trace, debug, info, notice, warning, error, critical")
                }
                config.logLevel = level
            default: break
            }
        }
        return config
    }

    private static func stripComment(_ line: String) -> String {
        var inString = false
        for (offset, ch) in line.enumerated() {
            if ch == "\"" { inString.toggle() }
            if ch == "#" && !inString { return String(line.prefix(offset)) }
        }
        return line
    }
}
