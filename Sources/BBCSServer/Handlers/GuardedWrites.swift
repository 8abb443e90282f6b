import BBCSCore
import BBCSPostgres
import Logging

extension Stores {
    /// Decides a change with `decide` (a use case) from `state` and the caller, writes it with
    /// `write` (one guarded statement), and waits until this daemon's reads see it. When the
    /// database no longer holds what the decision saw (the caller lost the post, another writer
    /// got there first), or the state at hand refused with a conflict (it may trail another
    /// daemon), decides again from the database's state and standing, so the answer names what
    /// is there now. Returns what was written (nil when the use case found nothing to write)
    /// and the state it was decided from.
    func decideAndWrite<State: Sendable, Decision: Sendable>(
        _ context: CallContext, state initial: State,
        reload: @Sendable (State) async throws -> State,
        decide: (State, Principal) throws -> Decision?,
        write: @Sendable (Decision) async throws -> GuardedWrite
    ) async throws -> (written: Decision?, state: State) {
        var state = initial, principal = context.principal, fresh = false
        for _ in 0..<3 {
            let decision: Decision?
            do {
                decision = try decide(state, principal)
            } catch let refusal where !fresh && (refusal is Denial || refusal.isConflict) {
                // Memory may trail the database (a grant, or another daemon's write, not seen yet).
                state = try await reload(state)
                let identity = context.identity
                principal = try await directory.principal(login: identity.user, uid: identity.uid, pid: identity.pid, today: context.today)
                fresh = true
                continue
            }
            guard let decision else { return (nil, state) }
            switch try await write(decision) {
            case .written(let seq):
                // The change is stored: its answer stands even if this daemon's memory cannot catch
                // up now (the stream retries; the next read may trail it until then).
                do { try await caughtUp(through: seq) } catch {
                    Logger(label: "bbcsd").warning("a change was stored but memory did not catch up",
                                                   metadata: ["seq": "\(seq)", "error": "\(error)"])
                }
                return (decision, state)
            case .callerRefused, .stale:
                state = try await reload(state)
                let identity = context.identity
                principal = try await directory.principal(login: identity.user, uid: identity.uid, pid: identity.pid, today: context.today)
                fresh = true
            }
        }
        throw StoreError.conflict("the change met others made at the same moment; read it again and retry", hint: nil)
    }
}

private extension Error {
    var isConflict: Bool { if case .conflict? = self as? StoreError { true } else { false } }
}
