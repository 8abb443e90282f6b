import BBCSTestSupport

/// One daemon for every read-only suite (system, plan, objective, indicator, task reads,
/// strategy, risk, post reads), against the plan as the data file has it; they change nothing.
enum ReadOnlyDaemon {
    static let shared = try! TestDaemon()
}
