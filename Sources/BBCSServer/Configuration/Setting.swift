import BBCSCore
import Configuration
import Foundation
import TOMLKit

/// One configuration key of bbcsd: its name, the type and range of its values, its default,
/// its flag, a line of documentation, and whether SIGHUP applies it. ``Setting/all`` is the
/// table; every layer, `--help`, the example file's test and reload read it.
public struct Setting: Sendable {
    /// The values a key takes.
    public enum Kind: Sendable {
        /// A string.
        case text
        /// One of a few strings.
        case choice([String])
        /// A whole number in a range.
        case integer(ClosedRange<Int>)
        /// A whole number in a range, written in octal: `0o660` in the file, `660` elsewhere.
        case octal(ClosedRange<Int>)
        /// Strings: `["alice", "bob"]` in the file, `alice,bob` elsewhere.
        case texts
        /// Whole numbers, each in a range: `[28, 7, 1]` in the file, `28,7,1` elsewhere.
        case integers(ClosedRange<Int>)
        /// A day, held as `2026-04-01`: a TOML date or a quoted one in the file, bare elsewhere.
        case date
    }

    /// When a changed value takes effect.
    public enum Reload: Sendable {
        /// At once, on SIGHUP.
        case live
        /// At the next start; SIGHUP logs that a restart is needed.
        case restart
    }

    /// The key as the file writes it, `pool_size`.
    public let name: String
    public let kind: Kind
    /// The value when no layer sets the key; nil: none (the key is required, or unset means off).
    public let defaultValue: ConfigContent?
    /// The command-line flag that sets the key, `--pool-size`.
    public let flag: String?
    /// Whether the value must never reach a log or an error message (a connection string).
    public let isSecret: Bool
    public let reload: Reload
    /// One line of documentation, shown by `--help`.
    public let doc: String

    init(_ name: String, _ kind: Kind, default defaultValue: ConfigContent? = nil, flag: String? = nil,
         secret: Bool = false, _ reload: Reload, _ doc: String) {
        self.name = name; self.kind = kind; self.defaultValue = defaultValue; self.flag = flag
        self.isSecret = secret; self.reload = reload; self.doc = doc
    }

    /// The row of `name`, if it is a key.
    public static func named(_ name: String) -> Setting? { all.first { $0.name == name } }

    /// The environment variable that sets the key: `BBCS_POOL_SIZE`, as swift-configuration's
    /// `EnvironmentVariablesProvider` spells the key `bbcs.pool_size`.
    public var variable: String { "BBCS_" + name.uppercased() }

    /// The key under which swift-configuration's providers hold it.
    var configKey: AbsoluteConfigKey { AbsoluteConfigKey([name]) }
}

/// Why a value was refused, before the layer names where it came from.
struct SettingProblem: Error {
    var message: String

    /// This problem as an error naming where the value was written and its key.
    func located(source: String, line: Int? = nil, key: String) -> SettingError {
        SettingError(source: source, line: line, key: key, problem: message)
    }
}

extension Setting {
    /// A value as a shell writes it, after a flag or in an environment variable: strings bare,
    /// lists comma-separated, modes in octal.
    func value(shell raw: String) throws(SettingProblem) -> ConfigValue {
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        switch kind {
        case .text, .choice:
            return try checked(.string(raw))
        case .date:
            return try checked(.string(trimmed))
        case .integer:
            guard let number = Int(trimmed) else { throw SettingProblem(message: "expected a whole number") }
            return try checked(.int(number))
        case .octal:
            let digits = trimmed.hasPrefix("0o") ? String(trimmed.dropFirst(2)) : trimmed
            guard let number = Int(digits, radix: 8) else { throw SettingProblem(message: "expected a whole number in octal, e.g. 660") }
            return try checked(.int(number))
        case .texts:
            return try checked(.stringArray(raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }))
        case .integers:
            let items = trimmed.isEmpty ? [] : trimmed.split(separator: ",", omittingEmptySubsequences: false)
            let numbers = items.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard numbers.count == items.count else { throw SettingProblem(message: "expected whole numbers separated by commas, e.g. 28,7,1") }
            return try checked(.intArray(numbers))
        }
    }

    /// A value as TOMLKit read it from the configuration file.
    func value(toml: any TOMLValueConvertible) throws(SettingProblem) -> ConfigValue {
        switch kind {
        case .text, .choice:
            guard let string = toml.string else { throw SettingProblem(message: "expected a quoted string") }
            return try checked(.string(string))
        case .date:
            if let date = toml.date {
                return try checked(.string(CalendarDate(year: date.year, month: date.month, day: date.day).description))
            }
            guard let string = toml.string else { throw SettingProblem(message: "expected a date, e.g. 2026-04-01") }
            return try checked(.string(string))
        case .integer, .octal:
            guard let number = toml.int else { throw SettingProblem(message: "expected a whole number") }
            return try checked(.int(number))
        case .texts:
            let strings = toml.array.map { $0.compactMap(\.string) }
            guard let strings, strings.count == toml.array?.count else {
                throw SettingProblem(message: "expected an array of quoted strings, e.g. [\"alice\", \"bob\"]")
            }
            return try checked(.stringArray(strings))
        case .integers:
            let numbers = toml.array.map { $0.compactMap(\.int) }
            guard let numbers, numbers.count == toml.array?.count else {
                throw SettingProblem(message: "expected an array of whole numbers, e.g. [28, 7, 1]")
            }
            return try checked(.intArray(numbers))
        }
    }

    /// `content` if it is in the key's range or among its choices.
    func checked(_ content: ConfigContent) throws(SettingProblem) -> ConfigValue {
        switch (kind, content) {
        case (.choice(let choices), .string(let string)) where !choices.contains(string):
            throw SettingProblem(message: "expected one of \(choices.joined(separator: ", "))")
        case (.integer(let range), .int(let number)) where !range.contains(number):
            throw SettingProblem(message: "must be from \(range.lowerBound) to \(range.upperBound)")
        case (.octal(let range), .int(let number)) where !range.contains(number):
            throw SettingProblem(message: "must be from \(Self.octal(range.lowerBound)) to \(Self.octal(range.upperBound))")
        case (.integers(let range), .intArray(let numbers)) where !numbers.allSatisfy(range.contains):
            throw SettingProblem(message: "each number must be from \(range.lowerBound) to \(range.upperBound)")
        case (.date, .string(let string)) where CalendarDate(iso: string) == nil:
            throw SettingProblem(message: "expected a date, e.g. 2026-04-01")
        default:
            return ConfigValue(content, isSecret: isSecret)
        }
    }

    /// The resolved value from `reader`, which holds the layers.
    func read(from reader: ConfigReader) -> ConfigValue? {
        let key = ConfigKey(configKey.components)
        let content: ConfigContent? = switch kind {
        case .text, .choice, .date: reader.string(forKey: key, isSecret: isSecret).map(ConfigContent.string)
        case .integer, .octal: reader.int(forKey: key, isSecret: isSecret).map(ConfigContent.int)
        case .texts: reader.stringArray(forKey: key, isSecret: isSecret).map(ConfigContent.stringArray)
        case .integers: reader.intArray(forKey: key, isSecret: isSecret).map(ConfigContent.intArray)
        }
        return content.map { ConfigValue($0, isSecret: isSecret) }
    }

    private static func octal(_ number: Int) -> String { "0o" + String(number, radix: 8) }

    /// `content` as the configuration file writes it: `"info"`, `0o660`, `[28, 7, 1]`.
    func toml(_ content: ConfigContent) -> String {
        switch content {
        case .string(let string): Self.quoted(string)
        case .int(let number): if case .octal = kind { Self.octal(number) } else { "\(number)" }
        case .stringArray(let strings): "[" + strings.map(Self.quoted).joined(separator: ", ") + "]"
        case .intArray(let numbers): "[" + numbers.map(String.init).joined(separator: ", ") + "]"
        default: "\(content)"
        }
    }

    private static func quoted(_ string: String) -> String {
        "\"" + string.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// What the key takes, for `--help`: `1 to 256`, `octal 0o0 to 0o777`.
    var range: String {
        switch kind {
        case .text: "string"
        case .choice(let choices): "one of " + choices.joined(separator: ", ")
        case .integer(let range): "\(range.lowerBound) to \(range.upperBound)"
        case .octal(let range): "octal \(Self.octal(range.lowerBound)) to \(Self.octal(range.upperBound))"
        case .texts: "list of strings"
        case .integers(let range): "list, each \(range.lowerBound) to \(range.upperBound)"
        case .date: "date, YYYY-MM-DD"
        }
    }
}
