import BBCSServer
import BBCSTestSupport
import Testing

@Suite("configuration file")
struct ConfigFileTests {
    @Test func readsEveryKey() throws {
        let config = try ConfigFile.parse("""
            # comment
            database = "host=/run/postgresql dbname=bbcs"   # trailing comment
            pool_size = 12
            socket = "/run/bbcs/bbcsd.sock"
            socket_mode = 0o660
            max_line_bytes = 2097152
            schema_dir = "/usr/share/bbcs/Schema"
            plan = "/usr/share/bbcs/plan.json"
            log_level = "debug"
            admins = ["alice", "bob"]
            figure_grace_days = 45
            """, file: "t.conf")
        #expect(config.database == "host=/run/postgresql dbname=bbcs")
        #expect(config.poolSize == 12)
        #expect(config.socketMode == 0o660)
        #expect(config.maxLineBytes == 2_097_152)
        #expect(config.logLevel == "debug")
        #expect(config.admins == ["alice", "bob"])
        #expect(config.figureGraceDays == 45)
        #expect(try ConfigFile.parse("admins = []", file: "t").admins == [])
    }

    @Test func remindersAndMailKeys() throws {
        let config = try ConfigFile.parse("""
            task_reminder_days = [14, 3]
            strategy_reminder_days = []
            overdue_escalation_days = 21
            mail_command = "/usr/sbin/sendmail -t"
            mail_timeout = 15
            scheduler_interval = 60
            shutdown_timeout = 20
            """, file: "t")
        #expect(config.taskReminderDays == [14, 3] && config.strategyReminderDays == [])
        #expect(config.overdueEscalationDays == 21 && config.mailCommand == "/usr/sbin/sendmail -t")
        #expect(config.mailTimeout == 15 && config.schedulerInterval == 60 && config.shutdownTimeout == 20)
        #expect(try ConfigFile.parse("mail_command = \"\"", file: "t").mailCommand == nil)
        #expect(throws: ConfigFile.Invalid.self) { try ConfigFile.parse("task_reminder_days = [7, soon]", file: "t") }
        #expect(throws: ConfigFile.Invalid.self) { try ConfigFile.parse("scheduler_interval = 1", file: "t") }
    }

    /// The environment layer: strings bare, lists comma-separated, modes in octal; a bad value names its variable.
    @Test func theEnvironmentLayer() throws {
        let layer = try ConfigFile.environment([
            "BBCS_DATABASE": "host=/run/postgresql dbname=bbcs", "BBCS_ADMINS": "alice, bob", "BBCS_SOCKET_MODE": "640",
            "BBCS_TASK_REMINDER_DAYS": "28,7", "BBCS_POOL_SIZE": "3", "UNRELATED": "x",
        ])
        #expect(layer.database == "host=/run/postgresql dbname=bbcs" && layer.admins == ["alice", "bob"])
        #expect(layer.socketMode == 0o640 && layer.taskReminderDays == [28, 7] && layer.poolSize == 3)
        do {
            _ = try ConfigFile.environment(["BBCS_MAIL_TIMEOUT": "forever"])
            Issue.record("a bad value was accepted")
        } catch let error as ConfigFile.Invalid {
            #expect(error.description == "environment variable BBCS_MAIL_TIMEOUT: mail_timeout: expected a whole number")
        }
    }

    @Test func layersStackKeyByKey() {
        var file = ConfigFile(), environment = ConfigFile(), flags = ConfigFile()
        file.poolSize = 4; file.socket = "/file"; file.logLevel = "info"
        environment.socket = "/env"; environment.logLevel = "debug"
        flags.logLevel = "error"
        let merged = flags.merged(over: environment.merged(over: file))
        #expect(merged.poolSize == 4 && merged.socket == "/env" && merged.logLevel == "error")
    }

    /// The example configuration ships with every key and parses as it is.
    @Test func theExampleConfigurationParses() throws {
        let example = packageRoot.appendingPathComponent("Config/bbcsd.toml")
        let config = try ConfigFile.load(path: example.path)
        #expect(config.database != nil && config.admins == ["root"] && config.figureGraceDays == 30)
        let text = try String(contentsOf: example, encoding: .utf8)
        for key in ConfigFile.keys { #expect(text.contains("\(key) ="), "\(key) is not documented") }
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
    ])
    func refusesNamingFileLineAndKey(_ text: String, _ line: Int, _ key: String) {
        #expect(throws: ConfigFile.Invalid.self) { try ConfigFile.parse(text, file: "bad.conf") }
        do { _ = try ConfigFile.parse(text, file: "bad.conf") } catch let error as ConfigFile.Invalid {
            #expect(error.file == "bad.conf" && error.line == line && error.key == key)
            #expect(error.description.hasPrefix("bad.conf:\(line): \(key):"))
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func aLineWithoutEqualsIsRefused() {
        #expect(throws: ConfigFile.Invalid.self) { try ConfigFile.parse("just words", file: "x") }
    }
}
