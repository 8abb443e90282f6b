import BBCSCore

/// Builds the public site now: into the daemon's `site_dir` (swapped in whole), or, with
/// `files`, into the reply, for `bbcsctl site build --out DIR`.
public struct SiteBuildRequest: RequestType {
    public static let method = "site.build"
    public static let summary = "Build the public performance site now: into site_dir, or with files, into the reply."
    public static let parameters = [
        ParameterInfo("files", "boolean", "return every file of the site in the reply instead of writing site_dir"),
    ]
    public static let access = Access.admin

    public var files: Bool?
    public init(files: Bool? = nil) { self.files = files }

    public struct Response: Codable, Sendable, Equatable {
        public var pages: Int
        public var bytes: Int
        /// Where the daemon put the site; nil when it returned the files.
        public var directory: String?
        /// Each file's content by its path under the site's root, with `files`.
        public var files: [String: String]?
        public init(pages: Int, bytes: Int, directory: String?, files: [String: String]?) {
            self.pages = pages; self.bytes = bytes; self.directory = directory; self.files = files
        }
    }
}
