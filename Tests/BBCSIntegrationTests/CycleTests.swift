import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// The quarterly cycle end to end over the real socket, as real Unix users: an administrator
/// opens the 2025/26 Q2 round, owners submit (with a forecast, one provisional), the round
/// shows what it still needs, the administrator validates and publishes; a later correction
/// is a restatement in the Q3 report while the published document stays byte for byte.
@Suite("reporting cycle", .serialized, .enabled(if: TestAccounts.available, "needs root to create test accounts and run setpriv"))
struct CycleTests {
    enum Role: String, CaseIterable {
        case admin, asb, licensing, viewer
        var login: String { "bbcs-c-\(rawValue)" }
    }

    static let asbPost = "Head of Communities and Community Safety"   // owns ComS_011 and ComS_001
    static let licensingPost = "Licensing Manager"                   // owns ComS_093a
    static let q2 = "2025/26 Q2"

    let daemon: TestDaemon
    let ctl: String
    let accounts: [Role: (uid: UInt32, gid: UInt32)]

    init() throws {
        var accounts: [Role: (uid: UInt32, gid: UInt32)] = [:]
        for role in Role.allCases { accounts[role] = try TestAccounts.ensure(role.login) }
        self.accounts = accounts
        // 20 October 2025: Q2 has ended, its round's deadline is ahead.
        daemon = try TestDaemon(extraArguments: ["--now", "2025-10-20T09:00:00Z"])
        ctl = daemon.directory.appendingPathComponent("bbcsctl").path
        try PermissionTests.copyExecutable(binDirectory.appendingPathComponent("bbcsctl").path, to: ctl)
        let c = try daemon.client()
        for role in Role.allCases { _ = try c.call(UserAddRequest(login: role.login, email: "\(role.login)@example.org")) }
        _ = try c.call(PostGrantRequest(login: Role.admin.login, post: Policy.adminPost))
        _ = try c.call(PostGrantRequest(login: Role.asb.login, post: Self.asbPost))
        _ = try c.call(PostGrantRequest(login: Role.licensing.login, post: Self.licensingPost))
    }

    /// bbcsctl as `role`'s uid and gid, with no supplementary groups.
    func run(_ role: Role, _ arguments: [String], json: Bool = false) throws -> (status: Int32, out: String, err: String) {
        try TestAccounts.run(accounts[role]!, ctl, socket: daemon.socketPath, (json ? ["--json"] : []) + arguments)
    }

    /// `arguments` as `role` must succeed; its standard output.
    @discardableResult
    func ok(_ role: Role, _ arguments: [String], json: Bool = false) throws -> String {
        let result = try run(role, arguments, json: json)
        #expect(result.status == 0, "\(role) \(arguments.joined(separator: " ")): \(result.err)")
        return result.out
    }

    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T { try WireCoding.decoder().decode(T.self, from: Data(text.utf8)) }

    func sha256(_ path: String) throws -> String {
        String(try runProgram("/usr/bin/sha256sum", [path]).out.prefix(64))
    }

    @Test func aRoundRunsToAFrozenReportAndACorrectionIsRestatedNextQuarter() throws {
        // Open: only an administrator may, and the deadline must follow the period.
        #expect(try run(.asb, ["round", "open", Self.q2, "--deadline", "2025-11-14", "--meeting", "Cabinet 2025-12-02"]).status == 77)
        let early = try run(.admin, ["round", "open", Self.q2, "--deadline", "2025-09-01", "--meeting", "Cabinet 2025-12-02"])
        #expect(early.status == 64 && early.err.contains("is not after 2025/26 Q2 ends"), "\(early.err)")
        let opened = try ok(.admin, ["round", "open", Self.q2, "--deadline", "2025-11-14", "--meeting", "Cabinet 2025-12-02"])
        #expect(opened.contains("round 2025/26 Q2 for Cabinet 2025-12-02: deadline 2025-11-14"))
        #expect(try run(.admin, ["round", "open", Self.q2, "--deadline", "2025-11-20", "--meeting", "Cabinet"]).status == 4)

        // Owners see the round's deadline beside each figure's own due date.
        let due = try decode(FigureDueRequest.Response.self, try ok(.asb, ["due"], json: true))
        let asbQ2 = try #require(due.figures.first { $0.indicator == "ComS_011" && $0.period.description == Self.q2 })
        #expect(asbQ2.roundDeadline?.description == "2025-11-14" && asbQ2.meeting == "Cabinet 2025-12-02")
        #expect(due.figures.filter { $0.period.description == "2025/26 Q1" }.allSatisfy { $0.roundDeadline == nil })
        #expect(try ok(.asb, ["due"]).contains("2025-11-14 (Cabinet 2025-12-02)"))

        // Amber now (480 against a quarter of 1850), green for the year (forecast 1800 against 1850).
        let submitted = try decode(FigureResult.self, try ok(.asb, ["figure", "submit", "ComS_011", Self.q2, "480", "--forecast", "1800",
                                                                   "--note", "Summer events"], json: true))
        #expect(submitted.status.rag == .amber && submitted.status.forecastRAG == .green && submitted.status.annualTarget == 1850)
        #expect(submitted.status.figure?.forecast == 1800 && submitted.status.figure?.provisional == false)
        let provisional = try ok(.licensing, ["figure", "submit", "ComS_093a", Self.q2, "10", "--provisional"])
        #expect(provisional.contains("provisional"), "\(provisional)")
        #expect(try run(.licensing, ["figure", "submit", "ComS_011", "2025/26 Q1", "400"]).status == 77)
        let shown = try decode(IndicatorShowRequest.Response.self, try ok(.viewer, ["indicator", "show", "ComS_011"], json: true))
        let q2Status = try #require(shown.indicator.periods.first { $0.period.description == Self.q2 })
        #expect(q2Status.rag == .amber && q2Status.forecastRAG == .green)
        #expect(try ok(.viewer, ["indicator", "show", "ComS_011"]).contains("1800 (green)"))

        // The round's completeness.
        let progress = try decode(RoundProgress.self, try ok(.viewer, ["round", "show"], json: true))
        #expect(progress.round.period.description == Self.q2 && progress.total.submitted == 2 && progress.total.provisional == 1)
        #expect(progress.total.wanted == progress.total.submitted + progress.total.missing && progress.total.missing > 0)
        let licensing = try #require(progress.byOwner.first { $0.name == Self.licensingPost })
        #expect(licensing.submitted == 1 && licensing.provisional == 1)
        #expect(progress.missing.contains { $0.indicator == "ComS_001" } && !progress.missing.contains { $0.indicator == "ComS_011" })
        #expect(try ok(.viewer, ["round", "show", Self.q2]).contains("2 submitted (0 validated, 1 provisional)"))

        // Closing is refused with figures missing, for anyone but an administrator, and without a reason when forced.
        #expect(try run(.asb, ["round", "close", Self.q2, "--force", "--reason", "x"]).status == 77)
        let refused = try run(.admin, ["round", "close", Self.q2])
        #expect(refused.status == 4 && refused.err.contains("still missing from the round for 2025/26 Q2"), "\(refused.err)")
        #expect(try run(.admin, ["round", "close", Self.q2, "--force"]).status == 64)

        // Risks are scored by the holders of a linked task's posts and administrators, on the 4x4 matrix.
        let risk = "BCRPMS_01/R1"   // its task (Head of Communities, due 2025-09-30) is overdue
        let scored = try decode(RiskReview.self, try ok(.asb, ["risk", "review", risk, "--likelihood", "2", "--impact", "3",
                                                              "--note", "Mitigated by the new rota"], json: true))
        #expect(scored.score == 6 && scored.band == "medium" && scored.by == Role.asb.login)
        #expect(try run(.licensing, ["risk", "review", risk, "--likelihood", "1", "--impact", "1", "--note", "x"]).status == 77)
        #expect(try run(.asb, ["risk", "review", "KSR1", "--likelihood", "1", "--impact", "1", "--note", "x"]).status == 77)
        #expect(try run(.asb, ["risk", "review", risk, "--likelihood", "5", "--impact", "1", "--note", "x"]).status == 64)
        #expect(try run(.asb, ["risk", "review", "SR99", "--likelihood", "1", "--impact", "1", "--note", "x"]).status == 3)
        try ok(.admin, ["risk", "review", "KSR1", "--likelihood", "3", "--impact", "3", "--note", "Budget pressures"])
        let register = try decode(RiskRegisterRequest.Response.self, try ok(.viewer, ["risk", "register"], json: true))
        #expect(register.matrix == .standard && register.risks.first { $0.id == "KSR1" }?.review?.band == "high")
        #expect(register.risks.contains { $0.id == "SR2" && $0.kind == .strategic && $0.tasks.contains("BCRP_2") })

        // Validate, then publish: a numbered, frozen document.
        try ok(.admin, ["figure", "validate", "ComS_011", Self.q2])
        #expect(try run(.asb, ["report", "publish", "--round", Self.q2]).status == 77)
        let publication = try decode(Publication.self, try ok(.admin, ["report", "publish", "--round", Self.q2], json: true))
        #expect(publication.number == "CS-2025/26-Q2-1" && publication.meeting == "Cabinet 2025-12-02" && publication.publishedBy == Role.admin.login)
        #expect(publication.figures.contains(ReportedFigure(indicator: "ComS_011", period: Period(Self.q2)!, revision: 1, value: 480, provisional: false)))
        #expect(publication.figures.contains(ReportedFigure(indicator: "ComS_093a", period: Period(Self.q2)!, revision: 1, value: 10, provisional: true)))
        // Written by the viewer's own uid, into a folder it may write.
        let out = daemon.directory.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        chmod(out.path, 0o777)
        let html1 = out.appendingPathComponent("q2-1.html").path, json1 = out.appendingPathComponent("q2-1.json").path
        try ok(.viewer, ["report", "show", publication.number, "-o", html1])
        try ok(.viewer, ["report", "show", publication.number, "--format", "json", "-o", json1])
        let (htmlDigest, jsonDigest) = (try sha256(html1), try sha256(json1))
        #expect(htmlDigest == publication.htmlSHA256 && jsonDigest == publication.jsonSHA256)
        let frozen = try decode(PerformanceReport.self, try String(contentsOfFile: json1, encoding: .utf8))
        #expect(frozen.publication?.number == publication.number && frozen.round?.meeting == "Cabinet 2025-12-02")
        let frozenLines = Dictionary(uniqueKeysWithValues: frozen.sections.flatMap(\.indicators).map { ($0.code, $0) })
        #expect(frozenLines["ComS_011"]?.forecastRAG == .green && frozenLines["ComS_011"]?.rag == .amber && frozenLines["ComS_011"]?.validated == true)
        #expect(frozenLines["ComS_093a"]?.provisional == true && frozen.summary.provisional == 1 && frozen.summary.forecastRAG["green"] == 1)
        let html = try String(contentsOfFile: html1, encoding: .utf8)
        #expect(html.contains("Published as CS-2025/26-Q2-1") && html.contains("10 (provisional)") && html.contains("Year-end forecast"))
        let second = try decode(Publication.self, try ok(.admin, ["report", "publish", "--round", Self.q2], json: true))
        #expect(second.number == "CS-2025/26-Q2-2")
        let listed = try decode(ReportListRequest.Response.self, try ok(.viewer, ["report", "list"], json: true))
        #expect(listed.reports.map(\.number) == ["CS-2025/26-Q2-1", "CS-2025/26-Q2-2"])

        let frozenRisk = try #require(frozen.risks.first { $0.id == risk })
        #expect(frozenRisk.linkedToOverdueTask && frozenRisk.movement == .new && frozenRisk.score == 6 && frozenRisk.band == "medium")
        #expect(frozen.risks.drop { $0.linkedToOverdueTask }.allSatisfy { !$0.linkedToOverdueTask }, "risks of overdue tasks come first")
        #expect(publication.riskScores == [risk: 6, "KSR1": 9])

        // After the meeting the risk rises, another is scored for the first time.
        try ok(.asb, ["risk", "review", risk, "--likelihood", "3", "--impact", "4", "--note", "Rota cut back"])
        try ok(.asb, ["risk", "review", "SR2", "--likelihood", "2", "--impact", "2", "--note", "Resources agreed"])
        let history = try decode(RiskHistoryRequest.Response.self, try ok(.viewer, ["risk", "history", risk], json: true))
        #expect(history.reviews.map(\.score) == [6, 12] && history.reviews.last?.band == "very high")

        // The owner corrects the published figure and finalises the provisional one (same value: no restatement).
        try ok(.asb, ["figure", "correct", "ComS_011", Self.q2, "495", "--reason", "Late police returns"])
        try ok(.licensing, ["figure", "finalise", "ComS_093a", Self.q2])
        let again = try run(.licensing, ["figure", "finalise", "ComS_093a", Self.q2])
        #expect(again.status == 64 && again.err.contains("already 10, final"), "\(again.err)")

        // The published documents have not moved a byte.
        let html2 = out.appendingPathComponent("q2-1-again.html").path
        try ok(.viewer, ["report", "show", publication.number, "-o", html2])
        #expect(try Data(contentsOf: URL(fileURLWithPath: html2)) == Data(contentsOf: URL(fileURLWithPath: html1)))
        #expect(try ok(.viewer, ["report", "show", publication.number, "--format", "json"]) == String(contentsOfFile: json1, encoding: .utf8))
        let restatements = try ok(.viewer, ["report", "show", publication.number, "--restatements"])
        #expect(restatements.contains("ComS_011") && restatements.contains("480") && restatements.contains("495")
                && restatements.contains("Late police returns") && !restatements.contains("ComS_093a"), "\(restatements)")

        // The Q3 report lists the restatement since the last publication: value reported, value now, why, who.
        let q3 = try decode(PerformanceReport.self, try ok(.viewer, ["report", "--period", "2025/26 Q3", "--format", "json"]))
        #expect(q3.restatements == [Restatement(indicator: "ComS_011", period: Period(Self.q2)!, report: "CS-2025/26-Q2-2",
                                                meeting: "Cabinet 2025-12-02", reportedValue: 480, reportedRevision: 1, restatedValue: 495,
                                                revision: 2, reason: "Late police returns", by: Role.asb.login,
                                                at: q3.restatements.first?.at ?? "")])
        #expect(try ok(.viewer, ["report", "--period", "2025/26 Q3"]).contains("RESTATEMENTS"))
        // Risk movement since the previous published report, and the rise among the exceptions.
        let q3Risks = Dictionary(uniqueKeysWithValues: q3.risks.map { ($0.id, $0) })
        #expect(q3Risks[risk]?.movement == .up && q3Risks[risk]?.previousScore == 6 && q3Risks[risk]?.score == 12)
        #expect(q3Risks["KSR1"]?.movement == .unchanged && q3Risks["SR2"]?.movement == .new && q3Risks["SR7"]?.movement == nil)
        #expect(q3.exceptions.risksUp == [risk] && q3.risks.first?.linkedToOverdueTask == true)
        let q3HTML = try ok(.viewer, ["report", "--period", "2025/26 Q3", "--format", "html"])
        for text in ["Risk up", "↑ up from 6", "Key to the symbols", "<details><summary>Data of the chart of ComS_011</summary>"] {
            #expect(q3HTML.contains(text), "the Q3 report's HTML has no \(text)")
        }
        // Once a published report has listed the restatement, the next does not list it again.
        try ok(.admin, ["round", "open", "2025/26 Q3", "--deadline", "2026-02-14", "--meeting", "Cabinet 2026-03-03"])
        let q3Publication = try decode(Publication.self, try ok(.admin, ["report", "publish", "--round", "2025/26 Q3"], json: true))
        #expect(q3Publication.number == "CS-2025/26-Q3-1" && q3Publication.restatements.count == 1)
        let q4 = try decode(PerformanceReport.self, try ok(.viewer, ["report", "--period", "2025/26 Q4", "--format", "json"]))
        #expect(q4.restatements.isEmpty)
        #expect(try ok(.viewer, ["report", "show", publication.number, "--restatements"]).contains("Late police returns"))

        // Frozen in the database too: the runtime role cannot rewrite a published report.
        let db = try PGConnection(conninfo: TestPostgres.runtime(daemon.database))
        #expect(throws: (any Error).self) { try db.execute("UPDATE published_reports SET report_html = 'rewritten'") }
        #expect(throws: (any Error).self) { try db.execute("DELETE FROM published_figures") }
        #expect(throws: (any Error).self) { try db.execute("UPDATE rounds SET meeting = 'Scrutiny'") }

        // Forced close with a reason.
        let closed = try ok(.admin, ["round", "close", Self.q2, "--force", "--reason", "Police data follows in Q3"])
        #expect(closed.contains("closed by \(Role.admin.login)") && closed.contains("Police data follows in Q3"))
        #expect(try run(.admin, ["round", "close", Self.q2, "--force", "--reason", "again"]).status == 4)
        let rounds = try decode(RoundListRequest.Response.self, try ok(.viewer, ["round", "list"], json: true))
        #expect(rounds.rounds.map(\.period.description) == ["2025/26 Q3", Self.q2] && rounds.rounds[1].forced && !rounds.rounds[1].isOpen)
    }

    /// Reminders chase an open round's deadline: a daemon on the same database a week before it
    /// records a round reminder for every figure still missing (to the administrators where the
    /// owner post has no holder).
    @Test func remindersChaseTheRoundsDeadline() throws {
        try ok(.admin, ["round", "open", Self.q2, "--deadline", "2025-11-14", "--meeting", "Cabinet 2025-12-02"])
        try ok(.asb, ["figure", "submit", "ComS_011", Self.q2, "450"])
        let later = try TestDaemon(database: daemon.database, extraArguments: ["--now", "2025-11-08T09:00:00Z"])
        let c = try later.client()
        _ = try c.call(SchedulerRunRequest())
        let mine = try later.ctl(["--json", "reminders", "--all"])
        let admin = try WireCoding.decoder().decode(ReminderListRequest.Response.self, from: Data(mine.out.utf8))
        let round = admin.reminders.filter { $0.kind == .roundDue }
        #expect(!round.isEmpty && round.allSatisfy { $0.step == "7d" && $0.dueDate.description == "2025-11-14" })
        #expect(round.contains { $0.subject == "ComS_093a 2025/26 Q2" } == false, "the Licensing Manager has a holder: not the administrators'")
        #expect(!round.contains { $0.subject.hasPrefix("ComS_011 ") }, "a submitted figure is not chased")
        #expect(round.first?.title.contains("wanted by 2025-11-14 for Cabinet 2025-12-02") == true)
        let licensing = try run(.licensing, ["reminders", "--all"], json: true)
        let theirs = try WireCoding.decoder().decode(ReminderListRequest.Response.self, from: Data(licensing.out.utf8))
        #expect(theirs.reminders.contains { $0.kind == .roundDue && $0.subject == "ComS_093a 2025/26 Q2" })
    }
}
