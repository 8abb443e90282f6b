import Configuration
import Foundation
import TOMLKit

/// bbcsd's configuration file, read afresh at start and on each SIGHUP: from disk, or (in
/// tests) from text.
public struct ConfigFile: Sendable {
    /// The path errors name.
    public let path: String
    private let read: @Sendable () throws(SettingError) -> String

    /// The file at `path`.
    public static func disk(_ path: String) -> ConfigFile {
        ConfigFile(path: path) { () throws(SettingError) in
            do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw SettingError(source: path, key: nil, problem: "cannot be read: \(error.localizedDescription)")
            }
        }
    }

    /// A file whose text is `text`, named `path`.
    public static func text(_ text: String, path: String) -> ConfigFile {
        ConfigFile(path: path) { text }
    }

    /// The file as a layer: TOML parsed by TOMLKit, each top-level key checked against its row.
    /// An error names the file, the line where known, and the key.
    public func layer() throws(SettingError) -> SettingLayer {
        let text = try read()
        let lines = TOMLKeyLines(text)
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch {
            let parse = error as? TOMLParseError
            let line = parse?.source.begin.line
            throw SettingError(source: path, line: line, key: line.flatMap(lines.key(onLine:)),
                               problem: parse?.description ?? "\(error)")
        }
        var values: [String: ConfigValue] = [:]
        // In file order, so the first mistake is the one reported.
        for key in table.keys.sorted(by: { (lines.line(of: $0) ?? .max) < (lines.line(of: $1) ?? .max) }) {
            let line = lines.line(of: key)
            guard let setting = Setting.named(key) else {
                throw SettingError(source: path, line: line, key: key,
                                   problem: "unknown key (known: \(Setting.all.map(\.name).joined(separator: ", ")))")
            }
            guard let value = table[key] else { continue }
            do { values[key] = try setting.value(toml: value) } catch { throw error.located(source: path, line: line, key: key) }
        }
        return SettingLayer(name: path, values: values)
    }
}

/// The line each top-level key of a TOML text is set on, which TOMLKit does not report.
struct TOMLKeyLines {
    private let lines: [Substring]

    init(_ text: String) { lines = text.split(separator: "\n", omittingEmptySubsequences: false) }

    /// The first line that sets `key` (`key = ...`, `"key" = ...`, `key.sub = ...` or `[key]`).
    /// A multi-line string's line that looks like one would be taken for it: the error then
    /// names a wrong line, never a wrong key.
    func line(of key: String) -> Int? {
        lines.indices.first { self.key(onLine: $0 + 1) == key }.map { $0 + 1 }
    }

    /// The top-level key line `number` (from 1) sets, if it sets one.
    func key(onLine number: Int) -> String? {
        guard lines.indices.contains(number - 1) else { return nil }
        var rest = lines[number - 1].drop { $0 == " " || $0 == "\t" }
        let header = rest.first == "["
        if header { rest = rest.dropFirst().drop { $0 == "[" || $0 == " " } }
        let key: Substring
        if let quote = rest.first, quote == "\"" || quote == "'" {
            key = rest.dropFirst().prefix { $0 != quote }
            rest = rest.dropFirst(key.count + 2)
        } else {
            key = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
            rest = rest.dropFirst(key.count)
        }
        rest = rest.drop { $0 == " " || $0 == "\t" }
        guard !key.isEmpty, let next = rest.first, next == "." || (header ? next == "]" : next == "=") else { return nil }
        return String(key)
    }
}
