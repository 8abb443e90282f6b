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
            """, file: "t.conf")
        #expect(config.database == "host=/run/postgresql dbname=bbcs")
        #expect(config.poolSize == 12)
        #expect(config.socketMode == 0o660)
        #expect(config.maxLineBytes == 2_097_152)
        #expect(config.logLevel == "debug")
    }

    @Test(arguments: [
        ("colour = \"red\"", 1, "colour"),
        ("pool_size = 0", 1, "pool_size"),
        ("pool_size = many", 1, "pool_size"),
        ("database = host=x", 1, "database"),
        ("\n\nlog_level = \"loud\"", 3, "log_level"),
        ("socket = \"/a\"\nsocket = \"/b\"", 2, "socket"),
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
