import Foundation

/// One layer of the daemon's settings: the configuration file (`key = value` lines, a
/// subset of TOML: strings in double quotes, whole numbers, one-line arrays of strings,
/// `#` comments), the environment (`BBCS_<KEY>`), or the command line. Unset keys are nil;
/// `merged(over:)` stacks the layers.
public struct ConfigFile: Sendable, Equatable {
    /// Why a configuration file was refused: file, line and key named.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var file: String
        public var line: Int
        public var key: String?
        public var problem: String
        public init(file: String, line: Int, key: String?, problem: String) {
            self.file = file; self.line = line; self.key = key; self.problem = problem
        }
        public var description: String {
            (line > 0 ? "\(file):\(line):" : "\(file):") + (key.map { " \($0):" } ?? "") + " \(problem)"
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
    public var shutdownTimeout: Int?
    public var taskReminderDays: [Int]?
    public var strategyReminderDays: [Int]?
    public var overdueEscalationDays: Int?
    public var mailCommand: String?
    public var mailTimeout: Int?
    public var schedulerInterval: Int?

    public init() {}

    public static let keys = ["database", "pool_size", "socket", "socket_mode", "max_line_bytes", "schema_dir", "plan", "log_level",
                              "admins", "figure_grace_days", "shutdown_timeout", "task_reminder_days", "strategy_reminder_days",
                              "overdue_escalation_days", "mail_command", "mail_timeout", "scheduler_interval"]

    /// Keys whose values are lists of strings; the environment writes them comma-separated.
    static let listKeys: Set = ["admins"]
    /// Keys whose values are lists of numbers, written `[28, 7, 1]` (the environment: `28,7,1`).
    static let numberListKeys: Set = ["task_reminder_days", "strategy_reminder_days"]
    /// Keys whose values are numbers; the rest are strings.
    static let numberKeys: Set = ["pool_size", "socket_mode", "max_line_bytes", "figure_grace_days", "shutdown_timeout",
                                  "overdue_escalation_days", "mail_timeout", "scheduler_interval"]

    /// The environment variable of a key: `BBCS_POOL_SIZE` for `pool_size`.
    public static func variable(for key: String) -> String { "BBCS_" + key.uppercased() }

    /// The layer the environment sets. Values are written as in a shell: strings bare, lists
    /// comma-separated (`BBCS_ADMINS=alice,bob`), modes in octal (`BBCS_SOCKET_MODE=660`).
    public static func environment(_ environment: [String: String]) throws -> ConfigFile {
        let values = Dictionary(uniqueKeysWithValues: keys.compactMap { key in environment[variable(for: key)].map { (key, $0) } })
        return try layer(values) { "environment variable \(variable(for: $0))" }
    }

    /// A layer from raw values by key, written as the environment writes them; an error
    /// names `source(key)` (a variable, a command-line flag).
    public static func layer(_ values: [String: String], source: (String) -> String) throws -> ConfigFile {
        var config = ConfigFile()
        for key in keys {
            guard let raw = values[key] else { continue }
            let value: String
            if listKeys.contains(key) {
                value = "[" + raw.split(separator: ",").map { "\"\($0.trimmingCharacters(in: .whitespaces))\"" }.joined(separator: ", ") + "]"
            } else if numberListKeys.contains(key) {
                value = "[" + raw + "]"
            } else if numberKeys.contains(key) {
                value = key == "socket_mode" && !raw.hasPrefix("0o") ? "0o" + raw : raw
            } else {
                value = "\"" + raw + "\""
            }
            do {
                config = try parse("\(key) = \(value)", file: "").merged(over: config)
            } catch var error as Invalid {
                error.file = source(key)
                error.line = 0
                throw error
            }
        }
        return config
    }

    /// This layer's keys, and `lower`'s where this one leaves a key unset.
    public func merged(over lower: ConfigFile) -> ConfigFile {
        var m = lower
        if let database { m.database = database }
        if let poolSize { m.poolSize = poolSize }
        if let socket { m.socket = socket }
        if let socketMode { m.socketMode = socketMode }
        if let maxLineBytes { m.maxLineBytes = maxLineBytes }
        if let schemaDir { m.schemaDir = schemaDir }
        if let plan { m.plan = plan }
        if let logLevel { m.logLevel = logLevel }
        if let admins { m.admins = admins }
        if let figureGraceDays { m.figureGraceDays = figureGraceDays }
        if let shutdownTimeout { m.shutdownTimeout = shutdownTimeout }
        if let taskReminderDays { m.taskReminderDays = taskReminderDays }
        if let strategyReminderDays { m.strategyReminderDays = strategyReminderDays }
        if let overdueEscalationDays { m.overdueEscalationDays = overdueEscalationDays }
        if let mailCommand { m.mailCommand = mailCommand }
        if let mailTimeout { m.mailTimeout = mailTimeout }
        if let schedulerInterval { m.schedulerInterval = schedulerInterval }
        return m
    }

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
            func integers(_ range: ClosedRange<Int>) throws -> [Int] {
                guard value.hasPrefix("["), value.hasSuffix("]") else { throw fail("expected an array of whole numbers, e.g. [28, 7, 1]") }
                let inner = value.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                if inner.isEmpty { return [] }
                return try inner.split(separator: ",", omittingEmptySubsequences: false).map { item in
                    guard let n = Int(item.trimmingCharacters(in: .whitespaces)) else { throw fail("expected an array of whole numbers, e.g. [28, 7, 1]") }
                    guard range.contains(n) else { throw fail("each number must be from \(range.lowerBound) to \(range.upperBound)") }
                    return n
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
            case "shutdown_timeout": config.shutdownTimeout = try integer(1...3600)
            case "task_reminder_days": config.taskReminderDays = try integers(1...366)
            case "strategy_reminder_days": config.strategyReminderDays = try integers(1...366)
            case "overdue_escalation_days": config.overdueEscalationDays = try integer(0...366)
            case "mail_command":
                let command = try string()
                config.mailCommand = command.trimmingCharacters(in: .whitespaces).isEmpty ? nil : command
            case "mail_timeout": config.mailTimeout = try integer(1...600)
            case "scheduler_interval": config.schedulerInterval = try integer(10...86400)
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
