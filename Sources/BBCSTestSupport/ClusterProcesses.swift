// The processes of a running private cluster, for the benchmark (CPU use) and the fault
// suite (signals): found from postmaster.pid and /proc, not by name.
import BBCSDevCluster
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A process's parent and the CPU time it has used (user + system), from /proc/PID/stat.
public struct ProcessStat: Sendable {
    public let parent: pid_t
    public let cpuMicroseconds: Int

    public init?(pid: pid_t) {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After the command name come the state (field 3), the parent (4), ... utime (14), stime (15).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let parent = pid_t(fields[1]), let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        self.parent = parent
        cpuMicroseconds = (user + system) * 1_000_000 / sysconf(Int32(_SC_CLK_TCK))
    }
}


/// Why a cluster's processes could not be found.
public struct ClusterProcessError: Error, CustomStringConvertible {
    public let description: String
}

extension PostgresCluster {
    /// The postmaster's pid, the first line of its data folder's postmaster.pid.
    public func postmasterPID() throws -> pid_t {
        let file = dataDirectory.appendingPathComponent("postmaster.pid")
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw ClusterProcessError(description: "cannot read \(file.path): \(error)")
        }
        guard let pid = text.split(separator: "\n").first.flatMap({ pid_t($0) }) else {
            throw ClusterProcessError(description: "\(file.path) does not start with a process id")
        }
        return pid
    }

    /// The postmaster's children now (backends, WAL writer, checkpointer...).
    public func serverChildren(of postmaster: pid_t) -> [pid_t] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { pid_t($0) }.filter { ProcessStat(pid: $0)?.parent == postmaster }
    }
}
