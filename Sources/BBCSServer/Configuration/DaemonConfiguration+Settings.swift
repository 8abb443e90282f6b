import BBCSCore
import Foundation
import Logging

extension DaemonConfiguration {
    /// The daemon's settings from resolved keys. `source` names the configuration file (or
    /// `bbcsd`) in the errors of keys no layer set.
    init(_ settings: ResolvedSettings, source: String, addedAdmins: [String], activatedDescriptor: CInt?) throws(SettingError) {
        guard let database = settings.string("database") else {
            throw SettingError(source: source, key: "database",
                               problem: "no database: set it in the configuration file, BBCS_DATABASE or --database (or use --dev DIR)")
        }
        guard let schema = settings.string("schema_dir").map(URL.init(fileURLWithPath:)) ?? Resources.locate("Schema") else {
            throw SettingError(source: source, key: "schema_dir", problem: "cannot find the Schema folder; set schema_dir or give --schema DIR")
        }
        let endpoint: Listener.Endpoint
        if let activatedDescriptor {
            endpoint = .descriptor(activatedDescriptor)
        } else if let socket = settings.string("socket"), let mode = settings.int("socket_mode") {
            endpoint = .path(socket, mode: mode_t(mode))
        } else {
            throw SettingError(source: source, key: "socket", problem: "no socket path or mode")
        }
        self.init(database: database, endpoint: endpoint, schemaDirectory: schema,
                  initialPlan: settings.string("plan").map(URL.init(fileURLWithPath:)))
        self.settings = settings
        migrationDatabase = settings.string("migration_database")
        poolSize = settings.int("pool_size") ?? poolSize
        poolWaitTimeout = settings.int("pool_wait_timeout").map { .seconds($0) } ?? poolWaitTimeout
        requestTimeout = settings.int("request_timeout").map { .seconds($0) } ?? requestTimeout
        lockTimeout = settings.int("lock_timeout").map { .seconds($0) } ?? lockTimeout
        maxLineBytes = settings.int("max_line_bytes") ?? maxLineBytes
        connectionLimits.maxConnections = settings.int("max_connections") ?? connectionLimits.maxConnections
        connectionLimits.maxPerUID = settings.int("max_connections_per_uid") ?? connectionLimits.maxPerUID
        connectionLimits.idleTimeout = settings.int("idle_timeout").map { .seconds($0) } ?? connectionLimits.idleTimeout
        connectionLimits.partialLineTimeout = settings.int("partial_line_timeout").map { .seconds($0) } ?? connectionLimits.partialLineTimeout
        var seen = Set<String>()
        bootstrapAdmins = ((settings.strings("admins") ?? []) + addedAdmins).filter { seen.insert($0).inserted }
        logLevel = settings.string("log_level").flatMap(Logger.Level.init(rawValue:)) ?? logLevel
        shutdownTimeout = settings.int("shutdown_timeout").map { .seconds($0) } ?? shutdownTimeout
        reminders.figureGraceDays = settings.int("figure_grace_days") ?? reminders.figureGraceDays
        reminders.figuresTrackedFrom = settings.string("figures_tracked_from").flatMap(CalendarDate.init(iso:))
        reminders.taskLeadDays = settings.ints("task_reminder_days") ?? reminders.taskLeadDays
        reminders.strategyLeadDays = settings.ints("strategy_reminder_days") ?? reminders.strategyLeadDays
        reminders.escalateAfterDays = settings.int("overdue_escalation_days") ?? reminders.escalateAfterDays
        if let size = settings.int("risk_matrix_size"), let bands = settings.string("risk_bands") {
            do { riskMatrix = try RiskMatrix(size: size, bands: bands) } catch {
                throw SettingError(source: source, key: error.param, problem: error.message)
            }
        }
        defaultPlan = settings.string("default_plan").flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        schedulerInterval = settings.int("scheduler_interval").map { .seconds($0) } ?? schedulerInterval
        metricsTextfile = settings.string("metrics_textfile").flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        metricsInterval = settings.int("metrics_interval").map { .seconds($0) } ?? metricsInterval
        site.directory = settings.string("site_dir").flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        site.showUnvalidated = settings.string("site_unvalidated") == "show"
        refusalLimits = RefusalThrottle.Limits(window: settings.int("refusal_window").map { .seconds($0) } ?? refusalLimits.window,
                                               distinctPerUid: settings.int("refusal_distinct_limit") ?? refusalLimits.distinctPerUid)
        // An empty command, the default, means inbox only.
        if let command = settings.string("mail_command"), !command.trimmingCharacters(in: .whitespaces).isEmpty,
           let timeout = settings.int("mail_timeout") {
            mail = MailSettings(command: command, timeout: .seconds(timeout), concurrency: settings.int("mail_concurrency") ?? 4)
        }
    }
}
