import Configuration
import Foundation

/// One layer of settings (the flags, the environment, the file, `--dev`'s defaults, the
/// table's defaults), every value already checked against its key's row, handed to
/// swift-configuration's `ConfigReader` as a provider.
public struct SettingLayer: Sendable {
    /// The layer's name in swift-configuration's access reports.
    let name: String
    /// Values by key.
    let values: [String: ConfigValue]

    var provider: InMemoryProvider {
        InMemoryProvider(name: name, values: Dictionary(uniqueKeysWithValues: Setting.all.compactMap { setting in
            values[setting.name].map { (setting.configKey, $0) }
        }))
    }

    /// A layer of values already known to be valid, each marked secret as its row says.
    private init(name: String, contents: [String: ConfigContent]) {
        self.name = name
        values = Setting.all.reduce(into: [:]) { values, setting in
            values[setting.name] = contents[setting.name].map { ConfigValue($0, isSecret: setting.isSecret) }
        }
    }

    init(name: String, values: [String: ConfigValue]) {
        self.name = name
        self.values = values
    }

    /// The flags: values by key as typed after each key's flag (`--socket-mode 660`); an
    /// error names the flag.
    public static func flags(_ raw: [String: String]) throws(SettingError) -> SettingLayer {
        try shell("flags") { setting in raw[setting.name].map { ($0, setting.flag ?? setting.name) } }
    }

    /// The `BBCS_*` variables of `environment`, read through swift-configuration's
    /// `EnvironmentVariablesProvider`; an error names the variable.
    public static func environment(_ environment: [String: String]) throws(SettingError) -> SettingLayer {
        let provider = EnvironmentVariablesProvider(
            environmentVariables: environment,
            secretsSpecifier: .specific(Set(Setting.all.filter(\.isSecret).map(\.variable))))
        return try shell("environment") { setting in
            let key = AbsoluteConfigKey(["bbcs"] + setting.configKey.components)
            // A string never fails to convert: each row reads the text itself.
            guard let lookup = try? provider.value(forKey: key, type: .string),
                  case .string(let text)? = lookup.value?.content else { return nil }
            return (text, "environment variable \(lookup.encodedKey)")
        }
    }

    /// A layer of values written as a shell writes them; `raw` gives a key's text and the
    /// source its errors name, or nil when the key is not set.
    private static func shell(_ name: String, _ raw: (Setting) -> (text: String, source: String)?) throws(SettingError) -> SettingLayer {
        var values: [String: ConfigValue] = [:]
        for setting in Setting.all {
            guard let (text, source) = raw(setting) else { continue }
            do { values[setting.name] = try setting.value(shell: text) } catch { throw error.located(source: source, key: setting.name) }
        }
        return SettingLayer(name: name, values: values)
    }

    /// The table's defaults, beneath every other layer.
    static let defaults = SettingLayer(name: "defaults", contents: Dictionary(uniqueKeysWithValues: Setting.all.compactMap { setting in
        setting.defaultValue.map { (setting.name, $0) }
    }))

    /// What `bbcsd --dev DIR` puts beneath the file: its private cluster, a socket in DIR that
    /// only its own user may connect to (`--socket-mode 666` lets every local user in, and the
    /// daemon decides what each may do), the shipped plan when it was found.
    /// The daemon serves as the cluster's runtime role and migrates as its owner.
    public static func development(database: String, migrationDatabase: String, directory: URL, plan: URL?) -> SettingLayer {
        var contents: [String: ConfigContent] = [
            "database": .string(database), "migration_database": .string(migrationDatabase),
            "socket": .string(directory.appendingPathComponent("bbcsd.sock").path), "socket_mode": .int(0o600),
        ]
        contents["plan"] = plan.map { .string($0.path) }
        return SettingLayer(name: "dev", contents: contents)
    }
}
