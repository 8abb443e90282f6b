#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a program did not run, besides swift-subprocess's own errors (e.g. no such program).
public enum ProgramError: Error, CustomStringConvertible {
    /// The log file of a program to launch could not be opened.
    case cannotOpenLog(path: String, errno: Int32)
    /// swift-subprocess ended the run without calling its body.
    case noOutcome

    public var description: String {
        switch self {
        case .cannotOpenLog(let path, let errno): return "cannot open \(path): \(String(cString: strerror(errno)))"
        case .noOutcome: return "the program's run ended without an outcome"
        }
    }
}
