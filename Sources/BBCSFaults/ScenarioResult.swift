import Foundation

/// A scenario's figures and what, if anything, makes it fail.
public struct ScenarioResult: Sendable {
    public let scenario: FaultScenario
    public let verdict: Verdict
    /// Every write's reply time, sorted, in seconds.
    let writeTimes: [Double]
    /// Every read's time, and the reads not answered with a result.
    let readMax: Double?
    let readsUnanswered: Int
    /// Seconds from the fault's end to the first acknowledged write sent after it.
    public let recovery: Double?
    public let evidence: String
    /// Why the scenario fails; empty when it passes.
    public let problems: [String]

    public var passed: Bool { problems.isEmpty }

    init(scenario: FaultScenario, settings: FaultSettings, writes: [WriteRecord], reads: [ReadRecord], verdict: Verdict, fault: AppliedFault) {
        self.scenario = scenario
        self.verdict = verdict
        writeTimes = writes.map(\.elapsed).sorted()
        readMax = reads.map(\.elapsed).max()
        readsUnanswered = reads.filter { !$0.answered }.count
        recovery = writes.filter { $0.sentAt >= fault.ended && isOK($0.reply) }.map { $0.sentAt + $0.elapsed - fault.ended }.min()
        evidence = fault.evidence

        var problems: [String] = []
        if verdict.lost > 0 { problems.append("\(verdict.lost) acknowledged writes are not in the database") }
        if verdict.wrongRevision > 0 { problems.append("\(verdict.wrongRevision) acknowledged writes are stored as another revision than the reply named") }
        if verdict.doubled > 0 { problems.append("\(verdict.doubled) writes are stored more than once") }
        if verdict.falselyRefused > 0 { problems.append("\(verdict.falselyRefused) refused writes are in the database") }
        problems += verdict.examples
        if verdict.unnamed > 0 { problems.append("\(verdict.unnamed) acknowledged writes named no revision, so the check of their revision is empty") }
        // A scenario that did not really load the daemon or apply its fault proves nothing.
        if !fault.applied { problems.append("the fault was not applied: \(fault.evidence)") }
        if verdict.ok < settings.writers { problems.append("only \(verdict.ok) writes were acknowledged, fewer than one per writer") }
        if recovery == nil { problems.append("no write sent after the fault ended was acknowledged") }
        if scenario.boundsReplies {
            let slowest = max(writeTimes.last ?? 0, readMax ?? 0)
            if slowest > settings.replyBound {
                problems.append(String(format: "a reply took %.1f s, longer than the %d s request deadline (+3 s)", slowest, settings.requestTimeout))
            }
            if readsUnanswered > 0 { problems.append("\(readsUnanswered) objective.list/system.hello reads were not answered with a result") }
            if readMax == nil { problems.append("no reads were made") }
        }
        self.problems = problems
    }

    /// The reply time at `percentile` (0...100), in seconds.
    func writeTime(_ percentile: Double) -> Double {
        guard !writeTimes.isEmpty else { return 0 }
        let index = min(writeTimes.count - 1, Int((percentile / 100 * Double(writeTimes.count)).rounded(.up)) - 1)
        return writeTimes[max(0, index)]
    }

    /// The table's header, matching `row`.
    public static let header = """
        | scenario | writes | ok | refused | unknown | no reply | either stored | lost | doubled | falsely refused | p50 ms | p99 ms | max s | readers max s | recovered in s | result |
        |---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
        """

    /// One Markdown table row of the figures.
    public var row: String {
        let v = verdict
        let cells = [scenario.rawValue, "\(v.writes)", "\(v.ok)", v.refusedText, "\(v.unknown + v.internalErrors)", "\(v.noReply)",
                     "\(v.eitherStored)", "\(v.lost + v.wrongRevision)", "\(v.doubled)", "\(v.falselyRefused)",
                     String(format: "%.1f", writeTime(50) * 1000), String(format: "%.1f", writeTime(99) * 1000),
                     String(format: "%.2f", writeTimes.last ?? 0), readMax.map { String(format: "%.2f", $0) } ?? "-",
                     recovery.map { String(format: "%.2f", $0) } ?? "never", passed ? "pass" : "**FAIL**"]
        return "| " + cells.joined(separator: " | ") + " |"
    }
}
