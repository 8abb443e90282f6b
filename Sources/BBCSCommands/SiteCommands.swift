import ArgumentParser
import BBCSProtocol
import Foundation

struct SiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site", abstract: "The public performance site (administrators).", subcommands: [Build.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the public site now: into the daemon's site_dir, or into a folder of your own.",
            discussion: """
                Without --out, the daemon builds the site into its site_dir and swaps it in whole (it does so
                by itself a few seconds after every change). With --out DIR, the daemon sends the files and
                bbcsctl writes them under DIR (made if missing; files already there are replaced).
                """)
        @OptionGroup var connection: Connection
        @Option(help: ArgumentHelp("Write the site under this folder instead.", valueName: "dir")) var out: String?

        func run() throws {
            guard let out else {
                return try connection.run(SiteBuildRequest()) { r in
                    print("built \(r.pages) pages (\(r.bytes) bytes) into \(r.directory ?? "site_dir")")
                }
            }
            let reply = try connection.session { try $0.call(SiteBuildRequest(files: true)) }
            let root = URL(fileURLWithPath: out)
            for (path, content) in (reply.files ?? [:]).sorted(by: { $0.key < $1.key }) {
                // The daemon's paths stay under the root: no "..", no absolute paths.
                guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                    writeError("bbcsctl: the daemon sent a file outside the site (\(path)); nothing more written\n")
                    throw ExitCode(Exit.protocolError)
                }
                let file = root.appendingPathComponent(path)
                do {
                    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try content.write(to: file, atomically: true, encoding: .utf8)
                } catch {
                    writeError("bbcsctl: cannot write \(file.path): \(writeFailure(file.path))\n")
                    throw ExitCode(Exit.usage)
                }
            }
            if connection.json {
                printJSON(["pages": reply.pages, "bytes": reply.bytes, "files": reply.files?.count ?? 0, "directory": out])
            } else {
                print("wrote \(reply.files?.count ?? 0) files, \(reply.pages) pages (\(reply.bytes) bytes), under \(out)")
            }
        }
    }
}
