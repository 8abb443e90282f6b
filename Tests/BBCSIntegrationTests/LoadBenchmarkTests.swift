import BBCSProcess
import BBCSTestSupport
import Foundation
import Testing

/// `bbcs-bench load` run for real, briefly: its own cluster and bbcsd, every work at two
/// client counts, pgbench on the same cluster. Nothing here is timed; the figures only have
/// to be there and the daemon must have answered every request without an error.
@Suite("load benchmark")
struct LoadBenchmarkTests {
    static let program = binDirectory.appendingPathComponent("bbcs-bench").path

    /// One table row's cells, for rows whose first cell is `label`.
    static func rows(_ output: String, _ label: String) -> [[String]] {
        output.split(separator: "\n").map { line in
            line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }.filter { $0.first == label }
    }

    static func number(_ text: String) -> Double? { Double(text.replacingOccurrences(of: ",", with: "")) }

    /// `bbcs-bench import`, small: every line imported in each run (the second corrects the first's figures).
    @Test func theImportBenchmarkImportsEveryLine() async throws {
        let outcome = try await Program(Self.program, ["import", "--rows", "300", "--runs", "2"]).run(separateErrors: true, deadline: .seconds(600))
        print(outcome.output)
        #expect(outcome.status == 0, "\(outcome.errors)")
        #expect(Self.rows(outcome.output, "1").first?[1] == "300" && Self.rows(outcome.output, "2").first?[1] == "300", "\(outcome.output)")
        #expect(outcome.output.contains("Goal: 10,000 lines in under 5 s:"))
    }

    @Test func aShortRunMeasuresEveryWorkWithoutErrorsBesidePgbench() async throws {
        let outcome = try await Program(Self.program, ["load", "--clients", "1,3", "--seconds", "1"])
            .run(separateErrors: true, deadline: .seconds(900))
        print(outcome.output)
        #expect(outcome.status == 0, "\(outcome.errors)")
        for work in ["indicator.show", "figure.correct", "task.list", "report.build", "mixed"] {
            let rows = Self.rows(outcome.output, work)
            // The cell table's row for each client count (and, for the two with pgbench, the ratio table's).
            let cells = rows.filter { $0.count == 12 }
            #expect(cells.map { $0[1] } == ["1", "3"], "\(work): \(rows)")
            for cell in cells {
                #expect((Self.number(cell[2]) ?? 0) > 0, "\(work) x \(cell[1]) answered nothing")
                // figure.correct carries each reply's revision to the next request, across cells:
                // a stale one would be a conflict here.
                #expect(cell[6] == "0", "\(work) x \(cell[1]) had errors:\n\(outcome.errors)")
                #expect(cell[7].hasSuffix(" MB") && cell[8].hasSuffix(" MB"), "\(work): the daemon's memory is missing")
            }
        }
        for method in ["indicator.show", "task.list", "figure.correct", "report.build"] {
            #expect(Self.rows(outcome.output, "&nbsp;&nbsp;mixed: \(method)").count == 2, "the mixed cells lack \(method)")
        }
        for work in ["indicator.show", "figure.correct"] {
            let ratios = Self.rows(outcome.output, work).filter { $0.count == 5 }
            #expect(ratios.map { $0[1] } == ["1", "3"], "\(work) has no pgbench ratio:\n\(outcome.output)")
            for ratio in ratios { #expect(ratio[4].hasSuffix("x") && (Self.number(String(ratio[4].dropLast())) ?? 0) > 0, "\(ratio)") }
        }
        #expect(outcome.output.contains("| indicator.show p99 < 5 ms at 8 clients | not measured | - |"))
        // The daemon's own count moved with the load, over the socket and in the textfile.
        let metrics = try #require(outcome.output.split(separator: "\n").first { $0.hasPrefix("Metrics: ") }, "\(outcome.output)")
        let numbers = metrics.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(numbers.count >= 4, "\(metrics)")
        if numbers.count >= 4 {
            let (rose, replies, file) = (numbers[0], numbers[1], numbers[numbers.count - 1])
            #expect(rose >= replies && replies > 0, "\(metrics)")
            #expect(file >= rose, "\(metrics)")
        }
    }

    @Test func wrongOptionsAreRefusedBeforeAnythingStarts() async throws {
        let outcome = try await Program(Self.program, ["load", "--clients", "0"]).run(separateErrors: true, deadline: .seconds(60))
        #expect(outcome.status == 2)
        #expect(outcome.errors.contains("--clients takes a whole number from 1 to 512, not 0"))
        let unknown = try await Program(Self.program, ["load", "--work", "shwo"]).run(separateErrors: true, deadline: .seconds(60))
        #expect(unknown.status == 2)
        #expect(unknown.errors.contains("--work takes show, correct, tasks, report, mixed, not shwo"))
    }
}
