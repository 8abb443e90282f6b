import Foundation
import Synchronization

/// The folder the site is served from, replaced whole: each build is written to a new folder
/// beside it (`.NAME.builds/STAMP`), then `path`, a symbolic link the daemon keeps, is pointed
/// at it by renaming a new link over the old one. rename(2) is atomic: a reader (nginx) sees
/// the old site or the new, never half of one. The newest builds are kept, so a reader that
/// followed the old link a moment ago still finds its files.
struct SiteFolder {
    let path: String

    /// Builds kept beside the one the link points at.
    static let kept = 2
    private static let counter = Mutex(0)

    /// Why the site cannot go where `site_dir` says.
    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    /// Writes `files` (path under the root to content) as a new build and points the link at it.
    func replace(with files: [String: String]) throws {
        let link = URL(fileURLWithPath: path)
        let parent = link.deletingLastPathComponent(), name = link.lastPathComponent
        try claim(link)
        let builds = parent.appendingPathComponent(".\(name).builds")
        do {
            try FileManager.default.createDirectory(at: builds, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw Refused(description: "cannot make \(builds.path) for the site's builds: \(String(cString: strerror(errno)))")
        }
        let number = Self.counter.withLock { counter -> Int in
            counter += 1
            return counter
        }
        let stamp = String(format: "%.3f", Date().timeIntervalSince1970) + "-\(getpid())-\(number)"
        let folder = builds.appendingPathComponent(stamp)
        do {
            for (relative, content) in files {
                let file = folder.appendingPathComponent(relative)
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o755])
                // Readable by the web server's account, whatever the daemon's umask.
                guard FileManager.default.createFile(atPath: file.path, contents: Data(content.utf8), attributes: [.posixPermissions: 0o644]) else {
                    throw Refused(description: "cannot write \(file.path): \(String(cString: strerror(errno)))")
                }
            }
            // The folder itself too: createDirectory's mode is masked by the umask.
            _ = chmod(builds.path, 0o755)
            try chmodTree(folder)
            let temporary = parent.appendingPathComponent(".\(name).link-\(stamp)")
            guard symlink(".\(name).builds/\(stamp)", temporary.path) == 0 else {
                throw Refused(description: "cannot make the link \(temporary.path): \(String(cString: strerror(errno)))")
            }
            guard rename(temporary.path, link.path) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(temporary.path)
                throw Refused(description: "cannot point \(link.path) at the new site: \(reason)")
            }
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw (error as? Refused) ?? Refused(description: "cannot write the site under \(folder.path): \(error.localizedDescription)")
        }
        prune(builds, keeping: stamp)
    }

    /// `link` must be the daemon's link, or nothing yet (an empty folder made for it is taken
    /// over); anything else is refused rather than replaced.
    private func claim(_ link: URL) throws {
        var info = stat()
        guard lstat(link.path, &info) == 0 else { return }
        switch info.st_mode & S_IFMT {
        case S_IFLNK:
            return
        case S_IFDIR where ((try? FileManager.default.contentsOfDirectory(atPath: link.path)) ?? ["?"]).isEmpty:
            guard rmdir(link.path) == 0 else {
                throw Refused(description: "cannot take over the empty folder \(link.path): \(String(cString: strerror(errno)))")
            }
        default:
            throw Refused(description: "site_dir \(link.path) exists and is not the daemon's link to its site; "
                          + "name a path that does not exist yet (the daemon makes it a link to each build)")
        }
    }

    private func chmodTree(_ folder: URL) throws {
        _ = chmod(folder.path, 0o755)
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isDirectoryKey]) else { return }
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true {
            _ = chmod(url.path, 0o755)
        }
    }

    /// Removes all builds but the newest `kept` and `current`.
    private func prune(_ builds: URL, keeping current: String) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: builds.path)) ?? []).sorted { a, b in
            // Stamps begin with the time: newest last.
            (Double(a.split(separator: "-").first ?? "") ?? 0, a) < (Double(b.split(separator: "-").first ?? "") ?? 0, b)
        }
        for name in names.dropLast(Self.kept) where name != current {
            try? FileManager.default.removeItem(at: builds.appendingPathComponent(name))
        }
    }
}
