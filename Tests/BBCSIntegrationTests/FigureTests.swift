import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// Figures, targets and the audit trail over the real socket, as an administrator, with the
/// daemon's clock at 10 July 2026: 2026/27 Q1 has ended and is not yet due (30 July).
@Suite("figures, targets and audit")
struct FigureTests {
    static let daemon = try! TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])

    func client() throws -> Client { try Self.daemon.client() }

    @Test func submitThenCorrectKeepsEveryRevision() throws {
        let c = try client()
        let submitted = try c.call(FigureSubmitRequest(code: "ComS_011", period: Period("2026/27 Q1")!, value: 440, note: "Quiet spring"))
        #expect(submitted.indicator == "ComS_011")
        #expect(submitted.status.target == 450)               // a quarter of 2026/27's 1800
        #expect(submitted.status.targetSource == .yearShare)
        #expect(submitted.status.rag == .green)
        #expect(submitted.status.figure?.revision == 1)
        #expect(submitted.status.figure?.late == false)
        #expect(submitted.status.figure?.submittedBy == currentLogin)

        let corrected = try c.call(FigureCorrectRequest(code: "coms_011", period: Period("2026/27 Q1")!, value: 455,
                                                        reason: "Two late police returns", revision: 1))
        #expect(corrected.status.figure?.revision == 2)
        #expect(corrected.status.figure?.value == 455)
        #expect(corrected.status.rag == .amber)               // 5 over 450, within 5%
        #expect(corrected.status.figure?.note == "Quiet spring")  // commentary kept
        #expect(corrected.status.figure?.reason == "Two late police returns")

        let history = try c.call(FigureHistoryRequest(code: "ComS_011", period: Period("2026/27 Q1")!))
        #expect(history.revisions.map(\.revision) == [1, 2])
        #expect(history.revisions.map(\.value) == [440, 455])
        #expect(history.revisions[0].reason == nil)

        let shown = try c.call(IndicatorShowRequest(code: "ComS_011")).indicator.periods.first { $0.period == Period("2026/27 Q1")! }
        #expect(shown?.figure?.revision == 2)
    }

    /// indicator.list carries, per period, the figure, RAG and direction of travel against the
    /// previous period and the same period a year earlier.
    @Test func theListCarriesStatusAndTravelPerPeriod() throws {
        let c = try client()
        // ComS_093d: quarterly count, higher is better, 5 a year: 1.25 a quarter.
        _ = try c.call(FigureSubmitRequest(code: "ComS_093d", period: Period("2025/26 Q1")!, value: 2))
        _ = try c.call(FigureSubmitRequest(code: "ComS_093d", period: Period("2025/26 Q2")!, value: 1, note: "One inspector off"))
        _ = try c.call(FigureSubmitRequest(code: "ComS_093d", period: Period("2026/27 Q1")!, value: 3))
        let listed = try #require(try c.call(IndicatorListRequest()).indicators.first { $0.code == "ComS_093d" })
        let byPeriod = Dictionary(uniqueKeysWithValues: listed.periods.map { ($0.period.description, $0) })
        #expect(byPeriod["2025/26 Q1"]?.rag == .green && byPeriod["2025/26 Q1"]?.target == 1.25)
        #expect(byPeriod["2025/26 Q2"]?.rag == .red && byPeriod["2025/26 Q2"]?.sincePrevious == .worsening)
        #expect(byPeriod["2026/27 Q1"]?.sinceYearEarlier == .improving && byPeriod["2026/27 Q1"]?.sincePrevious == nil)
        #expect(byPeriod["2025/26 Q3"]?.rag == .grey && byPeriod["2025/26 Q3"]?.figure == nil)
        #expect(listed.periods.count == 12)
    }

    @Test func aSecondSubmissionIsAConflictPointingToCorrect() throws {
        let c = try client()
        _ = try c.call(FigureSubmitRequest(code: "ComS_012", period: Period("2025/26 Q1")!, value: 100))
        let error = try #require(c.error(FigureSubmitRequest(code: "ComS_012", period: Period("2025/26 Q1")!, value: 101)))
        #expect(error.code == .conflict)
        #expect(error.data?["hint"] == "figure.correct")
        #expect(error.data?["code"] == "ComS_012" && error.data?["period"] == "2025/26 Q1")
        #expect(try c.call(FigureHistoryRequest(code: "ComS_012")).revisions.map(\.value) == [100])
    }

    @Test func aStaleRevisionIsAConflict() throws {
        let c = try client()
        let period = Period("2025/26 Q2")!
        _ = try c.call(FigureSubmitRequest(code: "ComS_013", period: period, value: 20))
        _ = try c.call(FigureCorrectRequest(code: "ComS_013", period: period, value: 21, reason: "recount", revision: 1))
        let stale = try #require(c.error(FigureCorrectRequest(code: "ComS_013", period: period, value: 22, reason: "again", revision: 1)))
        #expect(stale.code == .conflict)
        #expect(stale.message.contains("revision 2"))
        let nothing = try #require(c.error(FigureCorrectRequest(code: "ComS_013", period: Period("2025/26 Q3")!, value: 1,
                                                                reason: "x", revision: 1)))
        #expect(nothing.code == .conflict && nothing.data?["hint"] == "figure.submit")
        #expect(try c.call(FigureHistoryRequest(code: "ComS_013")).revisions.map(\.value) == [20, 21])
    }

    /// Each bad figure is refused naming the parameter, and nothing is stored.
    @Test(arguments: [
        ("ComS_011", "2025/26", 1.0, nil, "period"),          // a year for a quarterly indicator
        ("ComS_007", "2025/26 Q1", 1.0, nil, "period"),       // a quarter for an annual one
        ("ComS_011", "2024/25 Q4", 1.0, nil, "period"),       // before the plan
        ("ComS_011", "2028/29 Q1", 1.0, nil, "period"),       // after it
        ("ComS_011", "2026/27 Q2", 1.0, nil, "period"),       // not ended on 10 July 2026
        ("ComS_014", "2025/26 Q1", -1.0, nil, "value"),       // negative count
        ("ComS_014", "2025/26 Q1", 2.5, nil, "value"),        // fractional count
        ("ComS_101", "2025/26", -0.5, nil, "value"),          // negative percentage
        ("ComS_100", "2025/26 Q1", 10.0, nil, "note"),        // red (target 107.5) without a note
        ("ComS_100", "2025/26 Q1", 10.0, " ", "note"),        // a blank note is no note
    ] as [(String, String, Double, String?, String)])
    func badFiguresAreRefused(_ code: String, _ period: String, _ value: Double, _ note: String?, _ param: String) throws {
        let c = try client()
        let error = try #require(c.error(FigureSubmitRequest(code: code, period: Period(period)!, value: value, note: note)))
        #expect(error.code == .invalidParams, "\(error)")
        #expect(error.data?["param"] == param, "\(error)")
        #expect(try c.call(FigureHistoryRequest(code: code)).revisions.allSatisfy { $0.period != Period(period)! })
    }

    @Test func malformedRequestsAreRefused() throws {
        let c = try client()
        #expect(c.error(FigureSubmitRequest(code: "ComS_999", period: Period("2025/26")!, value: 1))?.code == .notFound)
        let reply = try c.raw(#"{"id":1,"method":"figure.submit","params":{"code":"ComS_011","period":"2025/27","value":1}}"#)
        #expect(errorCode(reply) == "invalid_params")
        let text = try c.raw(#"{"id":2,"method":"figure.submit","params":{"code":"ComS_011","period":"2025/26 Q1","value":"lots"}}"#)
        #expect(errorCode(text) == "invalid_params")
        _ = try c.call(FigureSubmitRequest(code: "ComS_014", period: Period("2025/26 Q2")!, value: 15))
        let noReason = try #require(c.error(FigureCorrectRequest(code: "ComS_014", period: Period("2025/26 Q2")!, value: 14,
                                                                 reason: "  ", revision: 1)))
        #expect(noReason.code == .invalidParams && noReason.data?["param"] == "reason")
    }

    @Test func percentagesMayExceedAHundredAndRedFiguresTakeANote() throws {
        let c = try client()
        let high = try c.call(FigureSubmitRequest(code: "ComS_033", period: Period("2025/26")!, value: 103))
        #expect(high.status.rag == .green)
        let red = try c.call(FigureSubmitRequest(code: "ComS_100", period: Period("2025/26 Q2")!, value: 10,
                                                 note: "Staff vacancies until September"))
        #expect(red.status.rag == .red)
    }

    @Test func figuresAfterTheDueDateAreMarkedLate() throws {
        let c = try client()
        // 2025/26 Q4 ended 31 March 2026 and was due 30 April: late on 10 July.
        let late = try c.call(FigureSubmitRequest(code: "ComS_014", period: Period("2025/26 Q4")!, value: 10))
        #expect(late.status.figure?.late == true)
        let onTime = try c.call(FigureSubmitRequest(code: "ComS_014", period: Period("2026/27 Q1")!, value: 10))
        #expect(onTime.status.figure?.late == false)
    }

    @Test func validationMarksTheCurrentRevisionAndACorrectionClearsIt() throws {
        let c = try client()
        let period = Period("2025/26 Q3")!
        _ = try c.call(FigureSubmitRequest(code: "ComS_024", period: period, value: 19.5))
        let checked = try c.call(FigureValidateRequest(code: "ComS_024", period: period, revision: 1))
        #expect(checked.status.figure?.validatedBy == currentLogin)
        #expect(checked.status.figure?.validatedAt != nil)
        let again = try c.call(FigureValidateRequest(code: "ComS_024", period: period))
        #expect(again.status.figure?.validatedBy == currentLogin)
        let corrected = try c.call(FigureCorrectRequest(code: "ComS_024", period: period, value: 20.5, reason: "late survey", revision: 1))
        #expect(corrected.status.figure?.validatedBy == nil)
        #expect(c.error(FigureValidateRequest(code: "ComS_024", period: period, revision: 1))?.code == .conflict)
        let history = try c.call(FigureHistoryRequest(code: "ComS_024", period: period)).revisions
        #expect(history.map { $0.validatedBy != nil } == [true, false])
        #expect(c.error(FigureValidateRequest(code: "ComS_024", period: Period("2025/26 Q4")!))?.code == .notFound)
    }

    @Test func targetsChangeWithHistoryAndSurviveReimport() throws {
        let c = try client()
        let year = Period("2025/26")!
        let set = try c.call(TargetSetRequest(code: "ComS_097", period: year, value: 40, tolerance: 10, reason: "Funding for four more"))
        #expect(set.change.oldValue == 10 && set.change.newValue == 40)
        #expect(set.change.oldTolerance == nil && set.change.newTolerance == 10)
        #expect(set.change.changedBy == currentLogin)
        // 9 against a quarter's 10, 10% tolerance: exactly on the amber boundary.
        let figure = try c.call(FigureSubmitRequest(code: "ComS_097", period: Period("2025/26 Q1")!, value: 9))
        #expect(figure.status.target == 10 && figure.status.rag == .amber)

        _ = try c.call(PlanImportRequest(content: String(contentsOf: shippedPlanURL, encoding: .utf8)))
        let shown = try c.call(IndicatorShowRequest(code: "ComS_097"))
        #expect(shown.targets["2025/26"] == 40)
        #expect(shown.indicator.tolerance == 10)
        #expect(shown.targets["2026/27"] == 10)

        let history = try c.call(TargetHistoryRequest(code: "ComS_097"))
        #expect(history.changes.count == 1 && history.changes[0].reason == "Funding for four more")

        #expect(c.error(TargetSetRequest(code: "ComS_097", period: year, value: 1, tolerance: 101, reason: "x"))?.data?["param"] == "tolerance")
        #expect(c.error(TargetSetRequest(code: "ComS_097", period: year, value: 1, reason: ""))?.data?["param"] == "reason")
        #expect(c.error(TargetSetRequest(code: "ComS_033", period: Period("2025/26 Q1")!, value: 1, reason: "x"))?.data?["param"] == "period")
        #expect(c.error(TargetSetRequest(code: "ComS_097", period: year, value: 2.5, reason: "x"))?.data?["param"] == "value")
        #expect(try c.call(TargetHistoryRequest(code: "ComS_097")).changes.count == 1)
    }

    @Test func dueListsWhatAPostOwes() throws {
        let c = try client()
        let owner = try #require(shippedPlan.indicators.first { $0.code == "ComS_054" }?.ownerPost)
        let before = try c.call(FigureDueRequest(post: owner)).figures.filter { $0.indicator == "ComS_054" }
        #expect(before.map(\.period.description) == ["2025/26", "2026/27"])
        #expect(before[0].dueDate == CalendarDate(year: 2026, month: 4, day: 30) && before[0].overdue && !before[0].open)
        #expect(!before[1].overdue && before[1].open)
        _ = try c.call(FigureSubmitRequest(code: "ComS_054", period: Period("2025/26")!, value: 100))
        let after = try c.call(FigureDueRequest(post: owner)).figures.filter { $0.indicator == "ComS_054" }
        #expect(after.map(\.period.description) == ["2026/27"])
        #expect(try c.call(FigureDueRequest()).figures.isEmpty)   // the administrator holds no owning post
        #expect(c.error(FigureDueRequest(post: "No Such Post"))?.code == .notFound)
    }

    @Test func everyChangeIsAuditedWithBeforeAndAfter() throws {
        let c = try client()
        let period = Period("2025/26 Q1")!
        _ = try c.call(FigureSubmitRequest(code: "ComS_044", period: period, value: 12))
        _ = try c.call(FigureCorrectRequest(code: "ComS_044", period: period, value: 13, reason: "duplicate removed", revision: 1))
        // The plan's first import audited the indicator's rows too, before these.
        let entries = try c.call(AuditListRequest(object: "coms_044")).entries.filter { $0.method != "plan.import" }
        #expect(entries.map(\.method) == ["figure.correct", "figure.submit"])
        let correction = entries[0]
        #expect(correction.login == currentLogin && correction.uid == getuid() && correction.outcome == .ok)
        #expect(correction.pid > 0)
        guard case .object(let before)? = correction.before, case .object(let after)? = correction.after else {
            Issue.record("before and after are objects: \(correction)")
            return
        }
        #expect(before["value"] == .number(12) && after["value"] == .number(13))
        #expect(after["reason"] == .string("duplicate removed"))
        #expect(try c.call(AuditListRequest(user: currentLogin, limit: 1)).entries.count == 1)
        // The trail carries real times (not the rehearsal's): nothing is recorded from tomorrow on.
        #expect(try c.call(AuditListRequest(object: "ComS_044", since: CalendarDate(Date()).adding(days: 1))).entries.isEmpty)
        #expect(c.error(AuditListRequest(limit: 0))?.code == .invalidParams)
    }

    @Test func theAuditTrailAndFiguresAreAppendOnlyInTheDatabase() throws {
        let c = try client()
        _ = try c.call(FigureSubmitRequest(code: "ComS_093a", period: Period("2025/26 Q1")!, value: 10))
        let db = try PGConnection(conninfo: Self.daemon.database)
        for statement in ["UPDATE audit SET login = 'mallory'", "DELETE FROM audit", "TRUNCATE audit",
                          "UPDATE figures SET value = 0", "DELETE FROM figures", "TRUNCATE figures CASCADE"] {
            #expect(throws: PGError.self, "\(statement)") { try db.query(statement) }
        }
        #expect(try db.query("SELECT count(*) FROM audit WHERE login = 'mallory'").int(0, 0) == 0)
        #expect(try db.query("SELECT count(*) FROM figures").int(0, 0) > 0)
    }

    /// Eight clients submit the same figure at once, then eight correct it at once: exactly
    /// one of each wins, the others get `conflict`, and no revision is lost or doubled.
    @Test func concurrentChangesHaveExactlyOneWinner() throws {
        let period = Period("2025/26 Q1")!
        let socket = Self.daemon.socketPath
        func race(_ request: @escaping @Sendable (Int) -> any Sendable) throws -> [ErrorCode?] {
            let start = DispatchSemaphore(value: 0)
            let workers = (0..<8).map { n in
                Background { () -> ErrorCode? in
                    let c = try Client(socketPath: socket)
                    _ = try c.call(HelloRequest())
                    start.wait()
                    switch request(n) {
                    case let r as FigureSubmitRequest: return c.error(r)?.code
                    case let r as FigureCorrectRequest: return c.error(r)?.code
                    default: return .internal
                    }
                }
            }
            usleep(200_000)
            for _ in workers { start.signal() }
            return try workers.map { try $0.value() }
        }
        let submits = try race { n in FigureSubmitRequest(code: "ComS_048", period: period, value: Double(90 + n), note: "n\(n)") }
        #expect(submits.filter { $0 == nil }.count == 1, "\(submits)")
        #expect(submits.filter { $0 == .conflict }.count == 7, "\(submits)")
        let corrections = try race { n in
            FigureCorrectRequest(code: "ComS_048", period: period, value: Double(95 + n), reason: "r\(n)", revision: 1)
        }
        #expect(corrections.filter { $0 == nil }.count == 1, "\(corrections)")
        #expect(corrections.filter { $0 == .conflict }.count == 7, "\(corrections)")
        let history = try client().call(FigureHistoryRequest(code: "ComS_048", period: period)).revisions
        #expect(history.map(\.revision) == [1, 2])
    }

    /// A correction is held to the rules of a submission: a red figure needs a note, its own
    /// or the one of the revision it corrects.
    @Test func aRedCorrectionNeedsANote() throws {
        let c = try client()
        let period = try #require(Period("2026/27 Q1"))
        _ = try c.call(FigureSubmitRequest(code: "ComS_001", period: period, value: 1500))   // green against 1750
        let refused = try #require(c.error(FigureCorrectRequest(code: "ComS_001", period: period, value: 2400,
                                                               reason: "Recount", revision: 1)))
        #expect(refused.code == .invalidParams && refused.data?["param"] == "note", "\(refused)")
        #expect(try c.call(FigureHistoryRequest(code: "ComS_001", period: period)).revisions.count == 1)
        let explained = try c.call(FigureCorrectRequest(code: "ComS_001", period: period, value: 2400, reason: "Recount",
                                                        revision: 1, note: "Two estates added"))
        #expect(explained.status.rag == .red && explained.status.figure?.revision == 2)
        // The note of the corrected revision carries over and satisfies the rule.
        let again = try c.call(FigureCorrectRequest(code: "ComS_001", period: period, value: 2410, reason: "Recount again", revision: 2))
        #expect(again.status.figure?.note == "Two estates added")
    }

    /// With `--now`, the rules judge by the daemon's clock, but the audit trail and the figure
    /// carry the real time of the change.
    @Test func rehearsalsRecordRealTimes() throws {
        let c = try client()
        let before = Date()
        let stored = try c.call(FigureSubmitRequest(code: "ComS_012d", period: Period("2026/27 Q1")!, value: 90, note: "Rehearsal"))
        let london = DateFormatter()
        london.locale = Locale(identifier: "en_GB_POSIX")
        london.timeZone = TimeZone(identifier: "Europe/London")
        london.dateFormat = "yyyy-MM-dd"
        let realDay = london.string(from: before)
        #expect(stored.status.figure?.submittedAt.hasPrefix(realDay) == true, "\(stored.status.figure?.submittedAt ?? "-")")
        let audit = try #require(c.call(AuditListRequest(object: "ComS_012d", limit: 1)).entries.first)
        #expect(audit.method == "figure.submit" && audit.at.hasPrefix(realDay), "\(audit.at)")
        #expect(stored.status.figure?.late == false)   // judged on 10 July 2026, the rehearsal's day
    }

    /// A period has ended once its last day is over: not on that day.
    @Test func aFigureWaitsForTheDayAfterItsPeriod() throws {
        let lastDay = try TestDaemon(extraArguments: ["--now", "2026-06-30T18:00:00Z"])
        let refused = try #require(lastDay.client().error(FigureSubmitRequest(code: "ComS_013", period: Period("2026/27 Q1")!, value: 20)))
        #expect(refused.code == .invalidParams && refused.data?["param"] == "period", "\(refused)")
        let nextDay = try TestDaemon(extraArguments: ["--now", "2026-07-01"])
        #expect(try nextDay.client().call(FigureSubmitRequest(code: "ComS_013", period: Period("2026/27 Q1")!, value: 20)).status.figure?.revision == 1)
    }

    @Test func clientCommandsSubmitCorrectAndShow() throws {
        let submit = try Self.daemon.ctl(["figure", "submit", "ComS_093b", "2025/26-Q2", "24", "--note", "On plan"])
        #expect(submit.status == 0, "\(submit.err)")
        #expect(submit.out.contains("ComS_093b 2025/26 Q2: 24 (revision 1)"))
        let again = try Self.daemon.ctl(["figure", "submit", "ComS_093b", "2025/26 Q2", "25"])
        #expect(again.status == 4)
        #expect(again.err.contains("already has a figure") && again.err.contains("run: bbcsctl figure correct ComS_093b"))
        let correct = try Self.daemon.ctl(["figure", "correct", "ComS_093b", "2025/26 Q2", "25", "--reason", "one more referral"])
        #expect(correct.status == 0, "\(correct.err)")
        #expect(correct.out.contains("(revision 2)"))
        let history = try Self.daemon.ctl(["figure", "history", "ComS_093b"])
        #expect(history.out.contains("one more referral"))
        let show = try Self.daemon.ctl(["indicator", "show", "ComS_093b"])
        #expect(show.out.contains("2025/26 Q2") && show.out.contains("On plan"))
        let bad = try Self.daemon.ctl(["figure", "submit", "ComS_093b", "2025/26 Q3", "-3"])
        #expect(bad.status == 64)
        let json = try Self.daemon.ctl(["--json", "figure", "submit", "ComS_093b", "2025/26 Q2", "1"])
        #expect(json.status == 4)
        let error = try JSONSerialization.jsonObject(with: Data(json.err.utf8)) as? [String: [String: Any]]
        #expect(error?["error"]?["code"] as? String == "conflict")
        let audit = try Self.daemon.ctl(["audit", "--object", "ComS_093b"])
        #expect(audit.status == 0 && audit.out.contains("figure.correct"))
    }
}
