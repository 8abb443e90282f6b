import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a folder is not used: one sentence naming it.
public struct FolderRefusal: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "refusing the folder \(path): \(reason)" }
}

/// A folder opened without following a symbolic link, its owner and mode checked on the
/// descriptor, so that what root creates in it or hands to another account is what was
/// checked, whatever is renamed or planted meanwhile.
final class OwnedFolder {
    let path: String
    let descriptor: Int32

    /// Opens the folder `path`, creating it with `mode` first if it does not exist.
    /// - Parameter owners: the uids that may own it; anyone else's folder is refused, as is
    ///   a symbolic link and a folder its group or other users can write to.
    convenience init(_ path: String, creatingWith mode: mode_t, owners: Set<uid_t>) throws(FolderRefusal) {
        try self.init(path, in: AT_FDCWD, name: path, creatingWith: mode, owners: owners)
    }

    /// The folder `name` inside this one, created with `mode` if need be, checked the same way.
    func child(_ name: String, creatingWith mode: mode_t, owners: Set<uid_t>) throws(FolderRefusal) -> OwnedFolder {
        try OwnedFolder(path + "/" + name, in: descriptor, name: name, creatingWith: mode, owners: owners)
    }

    private init(_ path: String, in parent: Int32, name: String, creatingWith mode: mode_t, owners: Set<uid_t>) throws(FolderRefusal) {
        self.path = path
        // An existing entry, folder or not, is opened and judged below; mkdirat never follows a link.
        if mkdirat(parent, name, mode) != 0 && errno != EEXIST {
            throw FolderRefusal(path: path, reason: "it cannot be created (\(String(cString: strerror(errno))))")
        }
        let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            var entry = stat()
            let isLink = fstatat(parent, name, &entry, AT_SYMLINK_NOFOLLOW) == 0 && entry.st_mode & S_IFMT == S_IFLNK
            throw FolderRefusal(path: path, reason: isLink ? "it is a symbolic link, which bbcsd does not follow"
                                : code == ENOTDIR ? "it is not a folder" : "it cannot be opened (\(String(cString: strerror(code))))")
        }
        descriptor = fd
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw FolderRefusal(path: path, reason: "it cannot be examined (\(String(cString: strerror(errno))))")
        }
        guard owners.contains(status.st_uid) else {
            let allowed = owners.sorted().map(Self.login).joined(separator: " or ")
            throw FolderRefusal(path: path, reason: "it belongs to \(Self.login(status.st_uid)), not to \(allowed)")
        }
        guard status.st_mode & 0o022 == 0 else {
            let mode = String(status.st_mode & 0o7777, radix: 8)
            throw FolderRefusal(path: path, reason: "its group or other users may write to it (mode \(mode); chmod go-w \(path))")
        }
    }

    deinit { close(descriptor) }

    /// Gives the folder itself (not what a path names by then) to `uid` and `gid`.
    func handOver(to uid: uid_t, _ gid: gid_t) throws(FolderRefusal) {
        guard fchown(descriptor, uid, gid) == 0 else {
            throw FolderRefusal(path: path, reason: "it cannot be handed to uid \(uid) (\(String(cString: strerror(errno))))")
        }
    }

    static func login(_ uid: uid_t) -> String {
        getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(uid)"
    }
}
