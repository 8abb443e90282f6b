import Configuration

/// Every key's value once the layers are stacked: the highest layer that sets a key wins,
/// as swift-configuration's `ConfigReader` reads its providers in order.
public struct ResolvedSettings: Sendable, Equatable, CustomStringConvertible {
    /// Values by key; a key no layer sets (and without a default) is absent.
    public let values: [String: ConfigValue]

    /// `layers`, highest first.
    init(layers: [SettingLayer]) {
        let reader = ConfigReader(providers: layers.map(\.provider) + [SettingLayer.defaults.provider])
        values = Setting.all.reduce(into: [:]) { values, setting in values[setting.name] = setting.read(from: reader) }
    }

    func string(_ key: String) -> String? {
        if case .string(let string)? = values[key]?.content { string } else { nil }
    }

    func int(_ key: String) -> Int? {
        if case .int(let number)? = values[key]?.content { number } else { nil }
    }

    func strings(_ key: String) -> [String]? {
        if case .stringArray(let strings)? = values[key]?.content { strings } else { nil }
    }

    func ints(_ key: String) -> [Int]? {
        if case .intArray(let numbers)? = values[key]?.content { numbers } else { nil }
    }

    /// The keys whose change needs a restart, where `next` differs from these.
    public func restartNeeded(for next: ResolvedSettings) -> [String] {
        Setting.all.filter { $0.reload == .restart && values[$0.name] != next.values[$0.name] }.map(\.name)
    }

    /// The keys applied at once on SIGHUP, each with its value as the file writes it, for the
    /// reload's log line.
    public var live: [(key: String, value: String)] {
        Setting.all.filter { $0.reload == .live }.map { ($0.name, rendered($0) ?? "none") }
    }

    /// `key=value` for each key set, as the file writes it, secrets redacted.
    public var description: String {
        Setting.all.compactMap { setting in rendered(setting).map { "\(setting.name)=\($0)" } }.joined(separator: " ")
    }

    private func rendered(_ setting: Setting) -> String? {
        values[setting.name].map { $0.isSecret ? "<redacted>" : setting.toml($0.content) }
    }
}
