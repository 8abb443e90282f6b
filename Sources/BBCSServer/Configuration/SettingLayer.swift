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
        InMemoryProvider(name: name, values: Dictionary(uniqueKeysWithValues: values.compactMap { key, value in
            Setting.named(key).map { ($0.configKey, value) }
        }))
    }

    /// The flags: values by key as typed after each key's flag (`--socket-mode 660`); an
    /// error names the flag.
    public static func flags(_ raw: [String: String]) throws(SettingError) -> SettingLayer {
        var values: [String: ConfigValue] = [:]
        for setting in Setting.all {
            guard let text = raw[setting.name] else { continue }
            do { values[setting.name] = try setting.value(shell: text) } catch {
                throw error.located(source: setting.flag ?? setting.name, key: setting.name)
            }
        }
        return SettingLayer(name: "flags", values: values)
    }

    /// The `BBCS_*` variables of `environment`, read through swift-configuration's
    /// `EnvironmentVariablesProvider`; an error names the variable.
    public static func environment(_ environment: [String: String]) throws(SettingError) -> SettingLayer {
        let provider = EnvironmentVariablesProvider(
            environmentVariables: environment,
            secretsSpecifier: .specific(Set(Setting.all.filter(\.isSecret).map(\.variable))))
        var values: [String: ConfigValue] = [:]
        for setting in Setting.all {
            let key = AbsoluteConfigKey(["bbcs"] + setting.configKey.components)
            // A string never fails to convert: each row reads the text itself.
            guard let lookup = try? provider.value(forKey: key, type: .string),
                  case .string(let text)? = lookup.value?.content else { continue }
            do { values[setting.name] = try setting.value(shell: text) } catch {
                throw error.located(source: "environment variable \(lookup.encodedKey)", key: setting.name)
            }
        }
        return SettingLayer(name: "environment", values: values)
    }

    /// The table's defaults, beneath every other layer.
    static let defaults = SettingLayer(name: "defaults", values: Setting.all.reduce(into: [:]) { values, setting in
        values[setting.name] = setting.defaultValue.map { ConfigValue($0, isSecret: setting.isSecret) }
    })

    /// What `bbcsd --dev DIR` puts beneath the file: its private cluster, a socket in DIR that
    /// every local user may connect to (the daemon decides what each may do), the shipped plan.
    public static func development(database: String, directory: URL, plan: URL) -> SettingLayer {
        let values: [String: ConfigContent] = [
            "database": .string(database), "socket": .string(directory.appendingPathComponent("bbcsd.sock").path),
            "socket_mode": .int(0o666), "plan": .string(plan.path),
        ]
        return SettingLayer(name: "dev", values: values.reduce(into: [:]) { layer, entry in
            layer[entry.key] = ConfigValue(entry.value, isSecret: Setting.named(entry.key)?.isSecret ?? true)
        })
    }
}
