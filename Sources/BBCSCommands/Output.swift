import ArgumentParser
import BBCSReport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Prints `line` to standard output with its control characters replaced (`printable`).
///
/// Every command's `print("...")` resolves here rather than to the standard library's (a
/// String argument prefers this overload): names, notes, reasons and titles were typed by
/// other people, and none may reach a reader's terminal with its escape sequences.
func print(_ line: String) {
    writeOutput(printable(line) + "\n")
}

/// Writes `text` to standard output as it is. A reader that has gone (`bbcsctl audit | head
/// -1`) ends the command at once, quietly and successfully, as it would have ended had it read
/// on: SIGPIPE is ignored (`BBCSCtl.main`), so the write fails with EPIPE instead.
func writeOutput(_ text: String) {
    if write(text, to: STDOUT_FILENO) == EPIPE { exit(0) }
}

/// Writes `text` to standard error as it is; a reader that has gone is ignored there.
func writeError(_ text: String) {
    _ = write(text, to: STDERR_FILENO)
}

/// Writes all of `text` (unbuffered: one command's output is a few system calls); returns
/// the errno that stopped it, or 0.
private func write(_ text: String, to descriptor: Int32) -> Int32 {
    var text = text
    return text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return 0
    }
}

/// Why the file `path` could not be read as text, in the system's words ("No such file or
/// directory"): Foundation's error on Linux says neither which nor why.
func readFailure(_ path: String) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return String(cString: strerror(errno)) }
    defer { close(fd) }
    var byte: UInt8 = 0
    return read(fd, &byte, 1) < 0 ? String(cString: strerror(errno)) : "it is not UTF-8 text"
}

/// Why the file `path` could not be written (atomically: through a new file beside it), in
/// the system's words, found by checking what that write needed.
func writeFailure(_ path: String) -> String {
    var status = stat()
    if stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR { return String(cString: strerror(EISDIR)) }
    let slash = path.lastIndex(of: "/")
    let folder = slash.map { path[..<$0].isEmpty ? "/" : String(path[..<$0]) } ?? "."
    if access(folder, W_OK) != 0 { return String(cString: strerror(errno)) }
    if access(path, F_OK) == 0 && access(path, W_OK) != 0 { return String(cString: strerror(errno)) }
    return "the write failed"
}

/// Writes `text` to `output`, or to standard output without one; `what` says on standard
/// error what was written. A file that cannot be written is a usage error.
func writeFile(_ text: String, to output: String?, what: String) throws {
    guard let output else { return writeOutput(text) }
    do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch {
        writeError("bbcsctl: cannot write \(output): \(writeFailure(output))\n")
        throw ExitCode(Exit.usage)
    }
    writeError("wrote \(output) (\(what), \(text.utf8.count) bytes)\n")
}
