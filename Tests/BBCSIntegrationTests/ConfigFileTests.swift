import BBCSServer
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
