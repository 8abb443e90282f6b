import Foundation

/// Where bbcsd's settings come from, highest first: the flags, the `BBCS_*` environment, the
/// configuration file, `--dev`'s defaults, then the table's defaults. The flags and the
/// environment are checked once, when this is made; the file is read again at each
/// resolution, so SIGHUP sees its edits.
public struct SettingSources: Sendable {
    let flags: SettingLayer
    let environment: SettingLayer
    /// The listening socket systemd passed, if any (it replaces `socket` and `socket_mode`).
    let activatedDescriptor: CInt?
    /// Logins `--admin` (and `--dev`) add to `admins`.
    public var addedAdmins: [String]
    public var file: ConfigFile?
    /// `--dev`'s defaults, beneath the file.
    public var development: SettingLayer?
    /// The daemon's clock, if not real time.
    public var clock: (@Sendable () -> Date)?

    /// - Parameters:
    ///   - flags: the flags' values by key, as typed (`["socket_mode": "660"]`).
    ///   - admins: the logins of each `--admin`.
    ///   - environment: the process's environment (`BBCS_*`, and systemd's `LISTEN_*`).
    public init(flags: [String: String], admins: [String] = [], environment: [String: String],
                file: ConfigFile? = nil) throws {
        self.activatedDescriptor = try SocketActivation.listeningDescriptor(environment: environment)
        self.flags = try SettingLayer.flags(flags)
        self.environment = try SettingLayer.environment(environment)
        self.addedAdmins = admins
        self.file = file
    }

    /// Every key's value, the file read afresh.
    public func resolve() throws(SettingError) -> ResolvedSettings {
        ResolvedSettings(layers: [flags, environment, try file?.layer(), development].compactMap { $0 })
    }

    /// The daemon's settings, rereading these sources on SIGHUP.
    public func configuration() throws(SettingError) -> DaemonConfiguration {
        var resolved = try DaemonConfiguration(try resolve(), source: file?.path ?? "bbcsd",
                                               addedAdmins: addedAdmins, activatedDescriptor: activatedDescriptor)
        if let clock { resolved.clock = clock }
        resolved.reread = { try self.configuration() }
        return resolved
    }
}
