import BBCSProtocol
import Configuration
import Logging

extension Setting {
    /// Every key bbcsd reads, in the order `--help` lists them. A new key is one row here,
    /// documented in `Config/bbcsd.toml`, and read where `DaemonConfiguration` is resolved.
    public static let all: [Setting] = [
        Setting("database", .text, flag: "--database", secret: true, .restart,
                "libpq connection string (keywords or URI) of the role bbcsd serves as; required unless --dev."),
        Setting("migration_database", .text, flag: "--migration-database", secret: true, .restart,
                "libpq connection string of the schema's owner, used only to migrate and grant the serving role its privileges (default: migrate over database)."),
        Setting("pool_size", .integer(1...256), default: 8, flag: "--pool-size", .restart,
                "Most database connections open at once."),
        Setting("pool_wait_timeout", .integer(1...3600), default: 10, .live,
                "Seconds a request waits for a free database connection before it is answered unavailable."),
        Setting("request_timeout", .integer(1...3600), default: 15, flag: "--request-timeout", .live,
                "Seconds a request may take in the database: then its statement is cancelled and it is answered timeout, nothing changed."),
        Setting("lock_timeout", .integer(1...3600), default: 5, flag: "--lock-timeout", .live,
                "Seconds a statement waits for a lock (a table or row another session holds) before it is answered timeout."),
        Setting("socket", .text, default: "/run/bbcs/bbcsd.sock", flag: "--socket", .restart,
                "Socket path to listen on when not socket-activated."),
        Setting("socket_mode", .octal(0...0o777), default: 0o660, flag: "--socket-mode", .restart,
                "Permission bits of that socket, in octal (600 with --dev)."),
        Setting("max_line_bytes", .integer(1024...(64 << 20)), default: .int(defaultMaxLineBytes), .restart,
                "Longest request line accepted, in bytes."),
        Setting("max_connections", .integer(1...1_000_000), default: 1024, .live,
                "Most client connections open at once; one more is answered too_many_connections and closed."),
        Setting("max_connections_per_uid", .integer(1...1_000_000), default: 64, .live,
                "Most client connections open at once from one Unix user."),
        Setting("idle_timeout", .integer(1...86400), default: 300, .live,
                "Seconds a connection with no request in hand may stay silent before it is closed."),
        Setting("partial_line_timeout", .integer(1...3600), default: 30, .live,
                "Seconds a client has to finish a request line it has started."),
        Setting("schema_dir", .text, flag: "--schema", .restart,
                "Folder of SQL migrations (default: the Schema folder shipped with bbcs)."),
        Setting("plan", .text, flag: "--plan", .restart,
                "Plan file to import at start when the database holds no plan."),
        Setting("default_plan", .text, default: "", .live,
                "Code of the plan lists, reports and rounds are of when a request names none and the database holds several."),
        Setting("log_level", .choice(Logger.Level.allCases.map(\.rawValue)), default: "info", flag: "--log-level", .live,
                "How much to log: debug adds a line per request, info has a line per change."),
        Setting("admins", .texts, default: .stringArray([]), flag: "--admin", .live,
                "Unix logins made administrators at start (--admin LOGIN, repeatable, adds one)."),
        Setting("figure_grace_days", .integer(0...366), default: 30, flag: "--figure-grace-days", .live,
                "Days after a period ends before its figure is due."),
        Setting("figures_tracked_from", .date, .live,
                "Figures of periods that ended before this day are not reminded (default: the day the plan was first loaded)."),
        Setting("risk_matrix_size", .integer(2...10), default: 4, .live,
                "Likelihood and impact are each scored 1 to this (the council's risk matrix, 4x4 by default)."),
        Setting("risk_bands", .text, default: "low 3, medium 7, high 11, very high 16", .live,
                "The matrix's bands: each name with the highest score in it, rising to the size squared."),
        Setting("shutdown_timeout", .integer(1...3600), default: 10, flag: "--shutdown-timeout", .live,
                "Seconds SIGTERM waits for requests in flight."),
        Setting("task_reminder_days", .integers(1...366), default: .intArray([28, 7, 1]), .live,
                "Days before a task's target date to remind its officers."),
        Setting("strategy_reminder_days", .integers(1...366), default: .intArray([90, 28]), .live,
                "Days before a strategy's renewal date to remind who answers for it."),
        Setting("overdue_escalation_days", .integer(0...366), default: 14, .live,
                "Days a task is overdue before administrators are reminded too."),
        Setting("mail_command", .text, default: "", .live,
                "Shell command each reminder is piped to, e.g. \"/usr/bin/msmtp --file=/etc/bbcs/msmtprc -t\" (README, Mail); empty: inbox only."),
        Setting("mail_timeout", .integer(1...600), default: 30, .live,
                "Seconds one run of the mail command may take, writing the message to it included, before it is stopped and retried later."),
        Setting("mail_concurrency", .integer(1...64), default: 4, .live,
                "Most mail commands running at once."),
        Setting("scheduler_interval", .integer(10...86400), default: 300, .live,
                "Seconds between the scheduler's looks for reminders due."),
        Setting("metrics_textfile", .text, default: "", flag: "--metrics-textfile", .live,
                "File the daemon writes its metrics to, in the Prometheus text format, for node_exporter's textfile collector (a .prom file); empty: none."),
        Setting("metrics_interval", .integer(1...3600), default: 15, .live,
                "Seconds between writes of metrics_textfile."),
        Setting("site_dir", .text, default: "", flag: "--site-dir", .live,
                "Where the daemon keeps the public performance site (a link to each build, swapped whole), for a web server to serve; empty: none."),
        Setting("site_unvalidated", .choice(["hide", "show"]), default: "hide", .live,
                "Whether the public site shows figures an administrator has not validated yet (marked as such)."),
        Setting("refusal_window", .integer(1...3600), default: 60, .live,
                "Seconds over which one uid's identical refusals are audited and logged as one row and line with a count."),
        Setting("refusal_distinct_limit", .integer(1...10000), default: 50, .live,
                "Distinct refusals of one uid audited one by one in a window; the rest become one row with a count."),
    ]

    /// The key list of `bbcsd --help`: each key with its default, range, flag and reload,
    /// then its documentation, in lines short enough not to be wrapped again.
    public static var helpList: String {
        all.map { setting in
            let assignment = setting.name + (setting.defaultValue.map { " = " + setting.toml($0) } ?? "")
            let details = [setting.range, setting.flag, setting.reload == .live ? "applies on SIGHUP" : "needs a restart"]
            return "  \(assignment)\n" + wrapped(setting.doc + " (" + details.compactMap { $0 }.joined(separator: "; ") + ")")
        }.joined(separator: "\n")
    }

    private static func wrapped(_ text: String, indent: String = "      ", width: Int = 79) -> String {
        var lines: [String] = []
        for word in text.split(separator: " ") {
            if let last = lines.last, last.count + 1 + word.count <= width {
                lines[lines.count - 1] = last + " " + word
            } else {
                lines.append(indent + word)
            }
        }
        return lines.joined(separator: "\n")
    }
}
