#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Waits for a child's exit without reaping it (waitid with WNOWAIT): swift-subprocess reaps
/// it afterwards, so its pid cannot be reused while anything here may still signal it.
enum ExitWatch {
    /// The exit status as a shell reports it, and whether `deadline` passed first (the child
    /// is then killed with SIGKILL, with `group` every process of the group it leads). The
    /// wait blocks a thread of its own and needs no task or timer of Swift's pool, which
    /// blocked synchronous tests may all be holding.
    static func end(of pid: pid_t, deadline: Duration? = nil, group: Bool = false) async -> (status: Int32, timedOut: Bool) {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: wait(for: pid, deadline: deadline, group: group)) }.start()
        }
    }

    private static func wait(for pid: pid_t, deadline: Duration?, group: Bool) -> (status: Int32, timedOut: Bool) {
        if let deadline {
            let end = ContinuousClock.now + deadline
            while ContinuousClock.now < end {
                if let status = status(of: pid, flags: WNOHANG) { return (status, false) }
                usleep(10_000)
            }
            // The leader is not reaped yet, so its pid (and the group's number) is not reused.
            // Should the group not have been made, the child alone is killed, not waited for forever.
            if !group || kill(-pid, SIGKILL) != 0 { kill(pid, SIGKILL) }
        }
        return (status(of: pid, flags: 0) ?? 128 + SIGKILL, deadline != nil)
    }

    /// nil while the child runs (with WNOHANG).
    private static func status(of pid: pid_t, flags: Int32) -> Int32? {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT | flags) != 0 {
            // ECHILD would mean someone else reaped it: nothing left to wait for.
            if errno != EINTR { return 127 }
        }
        let child = info._sifields._sigchld
        if child.si_pid == 0 { return nil }
        return info.si_code == CLD_EXITED ? child.si_status : 128 + child.si_status
    }
}
