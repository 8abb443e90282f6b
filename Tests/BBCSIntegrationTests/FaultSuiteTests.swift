import BBCSFaults
import BBCSTestSupport
import Foundation
import Testing

/// The fault suite: its checker's rules on made-up replies, then every scenario at CI length
/// through the built `bbcs-faults` (its own cluster and daemons), which prints its figures.
@Suite("fault suite", .serialized)
struct FaultSuiteTests {
    private func record(_ note: String, _ reply: Reply) -> WriteRecord { WriteRecord(note: note, sentAt: 0, elapsed: 0.01, reply: reply) }

    @Test func repliesAreReadByTheSuiteRules() {
        #expect(Reply(line: Array(#"{"id":1,"result":{"status":{"figure":{"revision":4}}}}"#.utf8)) == .ok(revision: 4))
        #expect(Reply(line: Array(#"{"id":1,"error":{"code":"unavailable","message":"m","data":{"outcome":"unknown"}}}"#.utf8)) == .unknown)
        #expect(Reply(line: Array(#"{"id":1,"error":{"code":"unavailable","message":"m"}}"#.utf8)) == .refused(code: "unavailable"))
        #expect(Reply(line: Array(#"{"id":1,"error":{"code":"timeout","message":"m"}}"#.utf8)) == .refused(code: "timeout"))
        #expect(Reply(line: Array(#"{"id":1,"error":{"code":"internal","message":"m"}}"#.utf8)) == .internalError)
        #expect(Reply(line: Array("not json".utf8)) == .noReply("a reply that is not a JSON object"))
    }

    @Test func theCheckerFindsEveryContradictionAndCountsTheRest() {
        let records = [
            record("a", .ok(revision: 2)), record("b", .ok(revision: 3)), record("c", .ok(revision: 4)),
            record("d", .ok(revision: 5)), record("e", .refused(code: "conflict")), record("f", .refused(code: "unavailable")),
            record("g", .unknown), record("h", .noReply("closed")), record("i", .internalError),
        ]
        let stored = [StoredRevision(note: "a", revision: 2), StoredRevision(note: "c", revision: 4), StoredRevision(note: "c", revision: 5),
                      StoredRevision(note: "d", revision: 6), StoredRevision(note: "e", revision: 7), StoredRevision(note: "g", revision: 8)]
        let verdict = Verdict(records: records, stored: stored)
        #expect(!verdict.isSound)
        #expect(verdict.writes == 9 && verdict.ok == 4)
        #expect(verdict.lost == 1)             // b
        #expect(verdict.doubled == 1)          // c
        #expect(verdict.wrongRevision == 1)    // d
        #expect(verdict.falselyRefused == 1)   // e
        #expect(verdict.refused == ["conflict": 1, "unavailable": 1])
        #expect(verdict.unknown == 1 && verdict.noReply == 1 && verdict.internalErrors == 1 && verdict.eitherStored == 1)
        #expect(verdict.examples.count == 4)
        #expect(verdict.unnamed == 0)
        #expect(Verdict(records: [record("a", .ok(revision: nil))], stored: [StoredRevision(note: "a", revision: 2)]).unnamed == 1)

        let sound = Verdict(records: [record("a", .ok(revision: 2)), record("f", .refused(code: "timeout")), record("g", .unknown)],
                            stored: [StoredRevision(note: "a", revision: 2)])
        #expect(sound.isSound)
    }

    @Test(arguments: FaultScenario.allCases)
    func theScenarioPassesAtCILength(_ scenario: FaultScenario) throws {
        let run = try runProgram(binDirectory.appendingPathComponent("bbcs-faults").path, ["--scenario", scenario.rawValue, "--short"])
        print(run.out)
        print(run.err)
        #expect(run.out.contains("| \(scenario.rawValue) |"), "no figures for \(scenario.rawValue)")
        #expect(run.status == 0, "\(scenario.rawValue) failed:\n\(run.out)\n\(run.err)")
    }
}
