@testable import BBCSServer
import Foundation
import Testing

/// The site's folder is swapped whole: a link pointed at each new build, the latest builds
/// kept, and a folder that is not the daemon's never touched.
@Suite("site folder")
struct SiteFolderTests {
    static func scratch() -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("bbcs-site-folder-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func eachBuildIsSwappedInWholeAndTheNewestAreKept() throws {
        let root = Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let site = root.appendingPathComponent("site")
        let folder = SiteFolder(path: site.path)
        var targets: [String] = []
        for build in 1...4 {
            try folder.replace(with: ["index.html": "build \(build)", "data/a/b.csv": "x,y\r\n"])
            targets.append(try FileManager.default.destinationOfSymbolicLink(atPath: site.path))
            #expect(try String(contentsOf: site.appendingPathComponent("index.html"), encoding: .utf8) == "build \(build)")
        }
        #expect(Set(targets).count == 4, "a new folder each time")
        let builds = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".site.builds").path)
        #expect(Set(builds) == Set(targets.suffix(SiteFolder.kept).map { String($0.dropFirst(".site.builds/".count)) }))
        // Readable by a web server's account, whatever the umask.
        let attributes = try FileManager.default.attributesOfItem(atPath: site.appendingPathComponent("data/a/b.csv").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
        let folderMode = try FileManager.default.attributesOfItem(atPath: site.appendingPathComponent("data/a").path)
        #expect((folderMode[.posixPermissions] as? Int) == 0o755)
        // No temporary link is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() == [".site.builds", "site"])
    }

    @Test func anEmptyFolderIsTakenOverAndAnOccupiedOneRefused() throws {
        let root = Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let empty = root.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try SiteFolder(path: empty.path).replace(with: ["index.html": "ok"])
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: empty.path)) != nil)

        let occupied = root.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: occupied, withIntermediateDirectories: true)
        try "mine".write(to: occupied.appendingPathComponent("keep.txt"), atomically: true, encoding: .utf8)
        #expect(throws: SiteFolder.Refused.self) { try SiteFolder(path: occupied.path).replace(with: ["index.html": "x"]) }
        #expect(try String(contentsOf: occupied.appendingPathComponent("keep.txt"), encoding: .utf8) == "mine")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(".occupied.builds").path))
    }
}
