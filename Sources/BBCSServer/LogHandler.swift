import Foundation
import Logging
import NIOConcurrencyHelpers

/// Log lines in logfmt (`message key=value …`), one per event, to stderr. Under systemd
/// (`JOURNAL_STREAM` set) each line starts with its syslog priority (`<6>`) so journald
/// files it at the right level and stamps the time itself; elsewhere lines carry a
/// timestamp and the level. The level is shared by every logger and may change at run time
/// (SIGHUP rereads the configuration).
public struct DaemonLogHandler: LogHandler {
    /// The level every `DaemonLogHandler` logs at.
    public static let level = NIOLockedValueBox(Logger.Level.info)
    private static let output = NIOLockedValueBox(FileHandle.standardError)

    private let label: String
    private let journal: Bool
    public var metadata: Logger.Metadata = [:]

    public init(label: String, journal: Bool = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil) {
        self.label = label
        self.journal = journal
    }

    public var logLevel: Logger.Level {
        get { Self.level.withLockedValue { $0 } }
        set { Self.level.withLockedValue { $0 = newValue } }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
                    source: String, file: String, function: String, line: UInt) {
        let fields = metadata.merging(explicit ?? [:]) { $1 }
        var text = journal ? "<\(Self.priority(level))>" : "\(Self.timestamp()) \(level) "
        text += message.description
        for key in fields.keys.sorted() { text += " \(key)=\(Self.quoted("\(fields[key]!)"))" }
        text += "\n"
        Self.output.withLockedValue { $0.write(Data(text.utf8)) }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// A logfmt value: bare when it has no spaces, quotes or `=`, else quoted with escapes.
    static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(now.tv_nsec / 1_000_000))
    }
}
