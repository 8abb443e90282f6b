import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// The report's reply is kept while the daemon's memory is unchanged, and built afresh after
/// any change: through the daemon, or by hand in the database with its `changes` row.
@Suite("the kept report")
struct ReportCacheTests {
    private static let q2 = Period("2025/26 Q2")!

    private func line(_ code: String, _ report: PerformanceReport) -> PerformanceReport.IndicatorLine? {
        report.sections.flatMap(\.indicators).first { $0.code == code }
    }

    private func count(_ message: String, in daemon: TestDaemon) -> Int {
        daemon.process.log.components(separatedBy: "\n").filter { $0.contains(message) }.count
    }

    @Test func anUnchangedDatabaseGetsTheKeptReply() throws {
        let daemon = try TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])
        let c = try daemon.client()
        let request = Data(#"{"id":7,"method":"report.build","params":{"period":"2025/26 Q2"}}"#.utf8)
        // The scheduler's first run, at start, writes reminders: until it is done a report may be built again.
        var pairs = 0
        while count("report kept", in: daemon) == 0 && pairs < 100 {
            let first = try c.exchange(rawLine: request), second = try c.exchange(rawLine: request)
            #expect(String(decoding: first.prefix(18), as: UTF8.self) == #"{"id":7,"result":{"#)
            if count("report kept", in: daemon) > 0 { #expect(first == second) } else { usleep(50_000) }
            pairs += 1
        }
        #expect(count("report kept", in: daemon) > 0)
        // Another objective is another report.
        #expect(try c.call(ReportRequest(period: Self.q2, objective: "CS3")).sections.first?.key == "CS3")
        #expect(try c.call(ReportRequest(period: Self.q2)).sections.first?.key == "CS1")
    }

    @Test func aChangeThroughTheDaemonIsInTheNextReport() throws {
        let daemon = try TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])
        let c = try daemon.client()
        #expect(line("ComS_011", try c.call(ReportRequest(period: Self.q2)))?.value == nil)
        _ = try c.call(FigureSubmitRequest(code: "ComS_011", period: Self.q2, value: 600, note: "Summer events"))
        #expect(line("ComS_011", try c.call(ReportRequest(period: Self.q2)))?.value == 600)
        _ = try c.call(FigureCorrectRequest(code: "ComS_011", period: Self.q2, value: 590, reason: "Recount", revision: 1,
                                                note: "Summer events"))
        let corrected = try #require(line("ComS_011", try c.call(ReportRequest(period: Self.q2))))
        #expect(corrected.value == 590 && corrected.revision == 2)
    }

    @Test func aChangeMadeByHandAndRecordedIsInTheNextReports() throws {
        let daemon = try TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])
        let c = try daemon.client()
        #expect(line("ComS_014", try c.call(ReportRequest(period: Self.q2)))?.value == nil)
        let db = try PGConnection(conninfo: daemon.database)
        try db.transaction {
            _ = try db.query("""
                INSERT INTO figures (indicator_id, period, revision, value, submitted_by)
                SELECT id, '2025/26 Q2', 1, 41, 'by hand' FROM indicators WHERE code = 'ComS_014'
                """)
            _ = try db.query("INSERT INTO changes (kind, indicator_id, login) SELECT 'figure_submitted', id, 'dba' FROM indicators WHERE code = 'ComS_014'")
        }
        // The notification reaches the daemon's memory within moments.
        let deadline = Date().addingTimeInterval(10)
        var value = line("ComS_014", try c.call(ReportRequest(period: Self.q2)))?.value
        while value != 41 && Date() < deadline {
            usleep(20_000)
            value = line("ComS_014", try c.call(ReportRequest(period: Self.q2)))?.value
        }
        #expect(value == 41)
    }
}
