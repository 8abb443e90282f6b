// The load benchmark's command line.
import Foundation

/// One kind of work a cell runs: a single method, or the mix of all four.
enum Work: String, CaseIterable, Sendable {
    case show, correct, tasks, report, mixed

    /// The name printed in the tables.
    var label: String {
        switch self {
        case .show: return "indicator.show"
        case .correct: return "figure.correct"
        case .tasks: return "task.list"
        case .report: return "report.build"
        case .mixed: return "mixed"
        }
    }
}

struct LoadOptions {
    var clients = [1, 8, 32, 128]
    var seconds = 10
    var works = Work.allCases
    var pgbench = true
    /// Passed to bbcsd as --pool-size when set.
    var poolSize: Int?

    static let usage = """
        usage: bbcs-bench load [--clients 1,8,32,128] [--seconds 10] [--work show,correct,tasks,report,mixed]
                               [--pool-size N] [--no-pgbench]
          --clients    connection counts, one cell each (1 to 512)
          --seconds    how long each cell (and each pgbench run) lasts (1 to 600)
          --work       which work: show (indicator.show), correct (figure.correct), tasks (task.list),
                       report (report.build), mixed (80% show, 10% task.list, 5% correct, 5% report)
          --pool-size  bbcsd's database pool size (its default otherwise)
          --no-pgbench skip the pgbench runs and the ratios
        """

    /// Reads the arguments after `load`; nil (after printing why) when they are wrong.
    init?(_ arguments: [String]) {
        var rest = arguments[...]
        func value(_ flag: String) -> String? {
            guard let v = rest.popFirst() else { say("\(flag) needs a value"); return nil }
            return v
        }
        func number(_ text: String, _ flag: String, _ range: ClosedRange<Int>) -> Int? {
            guard let n = Int(text), range.contains(n) else { say("\(flag) takes a whole number from \(range.lowerBound) to \(range.upperBound), not \(text)"); return nil }
            return n
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--clients":
                guard let list = value(flag) else { return nil }
                var counts: [Int] = []
                for part in list.split(separator: ",") {
                    guard let n = number(String(part), flag, 1...512) else { return nil }
                    counts.append(n)
                }
                guard !counts.isEmpty else { say("--clients needs at least one count"); return nil }
                clients = counts
            case "--seconds":
                guard let text = value(flag), let n = number(text, flag, 1...600) else { return nil }
                seconds = n
            case "--work":
                guard let list = value(flag) else { return nil }
                var chosen: [Work] = []
                for part in list.split(separator: ",") {
                    guard let work = Work(rawValue: String(part)) else {
                        say("--work takes \(Work.allCases.map(\.rawValue).joined(separator: ", ")), not \(part)")
                        return nil
                    }
                    chosen.append(work)
                }
                guard !chosen.isEmpty else { say("--work needs at least one kind"); return nil }
                works = chosen
            case "--pool-size":
                guard let text = value(flag), let n = number(text, flag, 1...256) else { return nil }
                poolSize = n
            case "--no-pgbench":
                pgbench = false
            case "--help", "-h":
                print(Self.usage)
                exit(0)
            default:
                say("unknown option \(flag)\n\(Self.usage)")
                return nil
            }
        }
    }
}
