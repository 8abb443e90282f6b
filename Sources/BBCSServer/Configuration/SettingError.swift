/// Why bbcsd's configuration was refused, naming where the value came from (a file and line,
/// an environment variable, a flag) and the key. Never carries the value itself, so a
/// connection string cannot reach a log through it.
public struct SettingError: Error, CustomStringConvertible, Equatable {
    /// The file, `environment variable BBCS_POOL_SIZE`, or `--pool-size`.
    public var source: String
    /// The file's line, where known.
    public var line: Int?
    public var key: String?
    public var problem: String

    public init(source: String, line: Int? = nil, key: String?, problem: String) {
        self.source = source; self.line = line; self.key = key; self.problem = problem
    }

    /// `bbcsd.toml:2: pool_size: must be from 1 to 256`.
    public var description: String {
        source + (line.map { ":\($0):" } ?? ":") + (key.map { " \($0):" } ?? "") + " " + problem
    }
}
