#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// Waits for a child's exit without reaping it (waitid with WNOWAIT): swift-subprocess reaps
/// it afterwards, so its pid cannot be reused while anything here may still signal it.
enum ExitWatch {
    /// The exit status as a shell reports it, and whether `deadline` passed first (the child
    /// is then killed with SIGKILL and its end awaited).
    static func end(of pid: pid_t, deadline: Duration?) async -> (status: Int32, timedOut: Bool) {
        guard let deadline else { return (await status(of: pid), false) }
        return await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await status(of: pid) }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return nil
            }
            if let exited = await group.next() ?? nil {
                group.cancelAll()
                return (exited, false)
            }
            kill(pid, SIGKILL)
            while let next = await group.next() {
                if let killed = next { return (killed, true) }
            }
            return (128 + SIGKILL, true)
        }
    }

    /// Blocks a thread of its own, never one of Swift's pool, until the child exits.
    static func status(of pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: waitWithoutReaping(pid)) }.start()
        }
    }

    private static func waitWithoutReaping(_ pid: pid_t) -> Int32 {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 {
            // ECHILD cannot happen while swift-subprocess waits to reap it; report it as a failure.
            if errno != EINTR { return 127 }
        }
        let status = info._sifields._sigchld.si_status
        return info.si_code == CLD_EXITED ? status : 128 + status
    }
}
