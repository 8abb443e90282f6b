@testable import BBCSServer
import BBCSCore
import Configuration
import Foundation
import BBCSTestSupport
import Testing

/// The table of keys, each layer, and their resolution into the daemon's settings; no daemon
/// is started.
@Suite("configuration file")
struct ConfigFileTests {
    /// The settings from these sources, as bbcsd would resolve them.
    func resolve(flags: [String: String] = [:], admins: [String] = [], environment: [String: String] = [:],
                 file: String? = nil, dev: SettingLayer? = nil) throws -> DaemonConfiguration {
        var sources = try SettingSources(flags: flags, admins: admins, environment: environment,
                                         file: file.map { .text($0, path: "t.toml") })
        sources.development = dev
        return try sources.configuration()
    }

    /// The error `body` throws, if it is a `SettingError`.
    func refusal(_ body: () throws -> Void) -> SettingError? {
        do { try body() } catch let error as SettingError { return error } catch { Issue.record("unexpected \(error)") }
        return nil
    }

    @Test func readsEveryKey() throws {
        let config = try resolve(file: """
            # comment
            database = "host=/run/postgresql dbname=bbcs"   # trailing comment
            pool_size = 12
            socket = "/run/bbcs/bbcsd.sock"
            socket_mode = 0o640
            max_line_bytes = 2097152
            schema_dir = "/usr/share/bbcs/Schema"
            plan = "/usr/share/bbcs/plan.json"
            log_level = "debug"
            admins = ["alice", "bob"]
            figure_grace_days = 45
            """)
        #expect(config.database == "host=/run/postgresql dbname=bbcs")
        #expect(config.poolSize == 12)
        #expect(config.endpoint == .path("/run/bbcs/bbcsd.sock", mode: 0o640))
        #expect(config.maxLineBytes == 2_097_152)
        #expect(config.schemaDirectory.path == "/usr/share/bbcs/Schema" && config.initialPlan?.path == "/usr/share/bbcs/plan.json")
        #expect(config.logLevel == .debug)
        #expect(config.bootstrapAdmins == ["alice", "bob"])
        #expect(config.reminders.figureGraceDays == 45)
        #expect(try resolve(file: "database = \"x\"\nadmins = []").bootstrapAdmins == [])
    }

    /// `pool_wait_timeout` is whole seconds, at least one (waiting without bound is not offered),
    /// 10 unless set, and applied by a reload.
    @Test func poolWaitTimeoutIsPositiveSeconds() throws {
        #expect(try resolve(file: "database = \"x\"\npool_wait_timeout = 3").poolWaitTimeout == .seconds(3))
        #expect(try resolve(flags: ["database": "x"]).poolWaitTimeout == .seconds(10))
        #expect(try resolve(flags: ["database": "x"], environment: ["BBCS_POOL_WAIT_TIMEOUT": "2"]).poolWaitTimeout == .seconds(2))
        for refused in ["0", "-1", "3601"] {
            let error = refusal { _ = try resolve(file: "database = \"x\"\npool_wait_timeout = \(refused)") }
            #expect(error?.key == "pool_wait_timeout", "\(refused): \(String(describing: error))")
        }
        #expect(Setting.named("pool_wait_timeout")?.reload == .live)
    }

    @Test func remindersAndMailKeys() throws {
        let config = try resolve(file: """
            database = "x"
            task_reminder_days = [14, 3]
            strategy_reminder_days = []
            overdue_escalation_days = 21
            mail_command = "/usr/sbin/sendmail -t"
            mail_timeout = 15
            scheduler_interval = 60
            shutdown_timeout = 20
            """)
        #expect(config.reminders.taskLeadDays == [14, 3] && config.reminders.strategyLeadDays == [])
        #expect(config.reminders.escalateAfterDays == 21 && config.mail == MailSettings(command: "/usr/sbin/sendmail -t", timeout: .seconds(15)))
        #expect(config.schedulerInterval == .seconds(60) && config.shutdownTimeout == .seconds(20))
        #expect(try resolve(file: "database = \"x\"\nmail_command = \"\"").mail == nil)
        #expect(refusal { _ = try ConfigFile.text("task_reminder_days = [7, soon]", path: "t").layer() } != nil)
        #expect(refusal { _ = try ConfigFile.text("scheduler_interval = 1", path: "t").layer() }?.key == "scheduler_interval")
    }

    /// `figures_tracked_from` is a day, as a TOML date or quoted; unset, the plan's first load decides.
    @Test func figuresTrackedFromIsADay() throws {
        #expect(try resolve(file: "database = \"x\"\nfigures_tracked_from = 2026-04-01").reminders.figuresTrackedFrom
                == CalendarDate(year: 2026, month: 4, day: 1))
        #expect(try resolve(file: "database = \"x\"\nfigures_tracked_from = \"2025-04-01\"").reminders.figuresTrackedFrom
                == CalendarDate(year: 2025, month: 4, day: 1))
        #expect(try resolve(environment: ["BBCS_DATABASE": "x", "BBCS_FIGURES_TRACKED_FROM": "2025-10-01"]).reminders.figuresTrackedFrom
                == CalendarDate(year: 2025, month: 10, day: 1))
        #expect(try resolve(file: "database = \"x\"").reminders.figuresTrackedFrom == nil)
        for bad in ["figures_tracked_from = \"2026-02-30\"", "figures_tracked_from = \"April\"", "figures_tracked_from = 20260401",
                    "figures_tracked_from = 2026-04-01T09:00:00Z"] {
            let error = refusal { _ = try ConfigFile.text(bad, path: "t").layer() }
            #expect(error?.key == "figures_tracked_from" && error?.problem == "expected a date, e.g. 2026-04-01", "\(bad): \(String(describing: error))")
        }
        #expect(refusal { _ = try resolve(environment: ["BBCS_DATABASE": "x", "BBCS_FIGURES_TRACKED_FROM": "soon"]) }?.description
                == "environment variable BBCS_FIGURES_TRACKED_FROM: figures_tracked_from: expected a date, e.g. 2026-04-01")
    }

    /// Real TOML: escapes, literal and multi-line strings.
    @Test func theFileIsTOML() throws {
        let config = try resolve(file: #"""
            database = 'host=/run/postgresql dbname=bbcs application_name="bbcs \d"'
            mail_command = """
            /usr/sbin/sendmail -t \
              -f "bbcs@example.org\\reminders\""""
            admins = [
              "alice",  # trailing comma and comments inside an array
              'bob',
            ]
            """#)
        #expect(config.database == #"host=/run/postgresql dbname=bbcs application_name="bbcs \d""#)
        #expect(config.mail?.command == #"/usr/sbin/sendmail -t -f "bbcs@example.org\reminders""#)
        #expect(config.bootstrapAdmins == ["alice", "bob"])
    }

    /// The environment layer: strings bare, lists comma-separated, modes in octal; a bad value names its variable.
    @Test func theEnvironmentLayer() throws {
        let config = try resolve(environment: [
            "BBCS_DATABASE": "host=/run/postgresql dbname=bbcs", "BBCS_ADMINS": "alice, bob", "BBCS_SOCKET_MODE": "640",
            "BBCS_TASK_REMINDER_DAYS": "28,7", "BBCS_POOL_SIZE": "3", "UNRELATED": "x",
        ])
        #expect(config.database == "host=/run/postgresql dbname=bbcs" && config.bootstrapAdmins == ["alice", "bob"])
        #expect(config.endpoint == .path("/run/bbcs/bbcsd.sock", mode: 0o640) && config.reminders.taskLeadDays == [28, 7])
        #expect(config.poolSize == 3)
        let error = refusal { _ = try resolve(environment: ["BBCS_MAIL_TIMEOUT": "forever"]) }
        #expect(error?.description == "environment variable BBCS_MAIL_TIMEOUT: mail_timeout: expected a whole number")
    }

    /// Every key has its variable, spelled as swift-configuration's environment provider spells it.
    @Test func everyKeyHasItsVariable() throws {
        for setting in Setting.all {
            let (raw, value): (String, ConfigContent) = switch setting.kind {
            case .text: ("x", .string("x"))
            case .choice(let choices): (choices[choices.count - 1], .string(choices[choices.count - 1]))
            case .integer(let range): ("\(range.upperBound)", .int(range.upperBound))
            case .octal(let range): (String(range.upperBound, radix: 8), .int(range.upperBound))
            case .texts: ("a", .stringArray(["a"]))
            case .integers(let range): ("\(range.upperBound)", .intArray([range.upperBound]))
            case .date: ("2026-04-01", .string("2026-04-01"))
            }
            let settings = try SettingSources(flags: [:], environment: [setting.variable: raw]).resolve()
            #expect(settings.values[setting.name]?.content == value, "\(setting.variable) is not read")
        }
    }

    @Test func flagsNameTheFlag() {
        #expect(refusal { _ = try resolve(flags: ["pool_size": "0"]) }?.description == "--pool-size: pool_size: must be from 1 to 256")
        #expect(refusal { _ = try resolve(flags: ["socket_mode": "999"]) }?.source == "--socket-mode")
    }

    @Test func layersStackKeyByKey() throws {
        let config = try resolve(flags: ["log_level": "error"], admins: ["carol", "alice"],
                                 environment: ["BBCS_SOCKET": "/env", "BBCS_LOG_LEVEL": "debug"],
                                 file: "database = \"x\"\npool_size = 4\nsocket = \"/file\"\nlog_level = \"info\"\nadmins = [\"alice\"]")
        #expect(config.poolSize == 4 && config.endpoint == .path("/env", mode: 0o660) && config.logLevel == .error)
        // --admin adds to the configured admins rather than replacing them.
        #expect(config.bootstrapAdmins == ["alice", "carol"])
    }

    /// `--dev`'s defaults lie beneath the file, above the table's defaults.
    @Test func developmentDefaultsLieBeneathTheFile() throws {
        let dev = SettingLayer.development(database: "host=/dev/postgres", migrationDatabase: "host=/dev/postgres user=owner",
                                           directory: URL(fileURLWithPath: "/tmp/dev"), plan: URL(fileURLWithPath: "/tmp/plan.json"))
        let plain = try resolve(dev: dev)
        #expect(plain.database == "host=/dev/postgres" && plain.endpoint == .path("/tmp/dev/bbcsd.sock", mode: 0o600))
        #expect(plain.migrationDatabase == "host=/dev/postgres user=owner")
        #expect(plain.initialPlan?.path == "/tmp/plan.json")
        let filed = try resolve(file: "socket = \"/file\"", dev: dev)
        #expect(filed.database == "host=/dev/postgres" && filed.endpoint == .path("/file", mode: 0o600))
    }

    /// A daemon configured by nothing but a database runs with DaemonConfiguration's
    /// defaults, so the table and the type agree.
    @Test func theTableDefaultsAreTheDaemonsDefaults() throws {
        let resolved = try resolve(flags: ["database": "x"])
        let byHand = DaemonConfiguration(database: "x", endpoint: .path("/run/bbcs/bbcsd.sock", mode: 0o660),
                                         schemaDirectory: resolved.schemaDirectory)
        #expect(resolved.endpoint == byHand.endpoint && resolved.poolSize == byHand.poolSize)
        #expect(resolved.maxLineBytes == byHand.maxLineBytes && resolved.logLevel == byHand.logLevel)
        #expect(resolved.reminders == byHand.reminders && resolved.mail == nil && resolved.initialPlan == nil)
        #expect(resolved.schedulerInterval == byHand.schedulerInterval && resolved.shutdownTimeout == byHand.shutdownTimeout)
        #expect(resolved.bootstrapAdmins == [] && resolved.migrationDatabase == nil)
    }

    @Test func noDatabaseIsRefused() {
        let problem = "database: no database: set it in the configuration file, BBCS_DATABASE or --database (or use --dev DIR)"
        #expect(refusal { _ = try resolve(file: "pool_size = 2") }?.description == "t.toml: " + problem)
        #expect(refusal { _ = try resolve() }?.description == "bbcsd: " + problem)
    }

    /// The connection string is a secret: marked so for swift-configuration, redacted from the
    /// settings' description, and never in an error.
    @Test func theDatabaseNeverReachesALogOrAnError() throws {
        let secret = "host=/run/postgresql password=hunter2"
        let resolved = try SettingSources(flags: [:], environment: ["BBCS_DATABASE": secret]).resolve()
        #expect(resolved.values["database"]?.isSecret == true && resolved.values["pool_size"]?.isSecret == false)
        #expect(!resolved.description.contains("hunter2") && resolved.description.contains("database=<redacted>"))
        for text in ["database = \"\(secret)", "database = \(secret)", "database = [\"\(secret)\"]", "database = '\(secret)'\ndatabase = '\(secret)'"] {
            let error = refusal { _ = try ConfigFile.text(text, path: "t").layer() }
            #expect(error?.key == "database" && error.map { !$0.description.contains("hunter2") } == true, "\(String(describing: error))")
        }
    }

    /// Reload tells restart-only keys from those SIGHUP applies at once.
    @Test func reloadNamesTheKeysThatNeedARestart() throws {
        let before = try SettingSources(flags: [:], environment: [:], file: .text("max_line_bytes = 2048\nlog_level = \"info\"", path: "t"))
        let after = try SettingSources(flags: [:], environment: [:], file: .text("max_line_bytes = 4096\nlog_level = \"debug\"", path: "t"))
        #expect(try before.resolve().restartNeeded(for: after.resolve()) == ["max_line_bytes"])
        #expect(try after.resolve().live.contains { $0 == ("log_level", "\"debug\"") })
    }

    /// The example configuration ships with every key and parses as it is.
    @Test func theExampleConfigurationParses() throws {
        let example = packageRoot.appendingPathComponent("Config/bbcsd.toml")
        let config = try resolve(file: String(contentsOf: example, encoding: .utf8))
        #expect(config.bootstrapAdmins == ["root"] && config.reminders.figureGraceDays == 30)
        let text = try String(contentsOf: example, encoding: .utf8)
        for setting in Setting.all { #expect(text.contains("\(setting.name) ="), "\(setting.name) is not documented") }
    }

    /// Every default is a value its own row accepts, written in `--help` as the file would
    /// write it; `--help` lists every key and flag.
    @Test func theTableDrivesHelp() throws {
        for setting in Setting.all {
            guard let value = setting.defaultValue else { continue }
            #expect(try setting.checked(value).content == value)
            let written = try ConfigFile.text("\(setting.name) = \(setting.toml(value))", path: "t").layer()
            #expect(written.values[setting.name]?.content == value, "\(setting.name)'s default is shown wrong")
        }
        let help = try runProgram(binDirectory.appendingPathComponent("bbcsd").path, ["--help"])
        for setting in Setting.all {
            #expect(help.out.contains("  \(setting.name)"), "\(setting.name) is not in --help")
            if let flag = setting.flag { #expect(help.out.contains(flag + " <"), "\(flag) is not a flag") }
        }
    }

    @Test(arguments: [
        ("colour = \"red\"", 1, "colour"),
        ("pool_size = 0", 1, "pool_size"),
        ("pool_size = many", 1, "pool_size"),
        ("database = host=x", 1, "database"),
        ("\n\nlog_level = \"loud\"", 3, "log_level"),
        ("socket = \"/a\"\nsocket = \"/b\"", 2, "socket"),
        ("admins = \"alice\"", 1, "admins"),
        ("admins = [alice]", 1, "admins"),
        ("figure_grace_days = 400", 1, "figure_grace_days"),
        ("# a comment\n[server]\nport = 1", 2, "server"),
    ])
    func refusesNamingFileLineAndKey(_ text: String, _ line: Int, _ key: String) {
        let error = refusal { _ = try ConfigFile.text(text, path: "bad.conf").layer() }
        #expect(error?.source == "bad.conf" && error?.line == line && error?.key == key, "\(String(describing: error))")
        #expect(error?.description.hasPrefix("bad.conf:\(line): \(key):") == true)
    }

    @Test func aLineWithoutEqualsIsRefused() {
        #expect(refusal { _ = try ConfigFile.text("just words", path: "x").layer() }?.line == 1)
    }
}
