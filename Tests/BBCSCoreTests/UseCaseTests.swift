import BBCSCore
import Foundation
import Testing

/// The use cases decide every change from the caller, the state and the request: each rule
/// and each refusal, without a database.
@Suite("use cases: figures, targets, tasks, grants")
struct UseCaseTests {
    static let owner = "Licensing Manager"
    static let q1 = Period(startYear: 2025, quarter: 1)
    /// 10 July 2026, as in the integration tests: every 2025/26 quarter has ended, Q1 2026/27 too.
    static let time = ChangeTime(today: CalendarDate(year: 2026, month: 7, day: 10), recordedAt: Date(timeIntervalSince1970: 1_783_674_000))

    static func principal(_ login: String = "alice", posts: [String] = [owner], standing: Principal.Standing = .active) -> Principal {
        Principal(login: login, uid: 1000, pid: 42, standing: standing, posts: posts)
    }
    static let admin = principal("root", posts: [Policy.adminPost])
    static let stranger = principal("bob", posts: ["Head of Housing"])

    /// A quarterly count, higher is better, 100 a year (25 a quarter), owned by the Licensing Manager.
    static func indicator(figures: [Period: FigureRevision] = [:], frequency: Frequency = .quarterly) -> IndicatorState {
        IndicatorState(id: 11, planID: 1, position: 3, code: "ComS_011", title: "Licences", category: .kpi, objective: "CS1",
                       serviceArea: "Licensing", unit: .count, polarity: .higherIsBetter, frequency: frequency, ownerPostID: 7,
                       ownerPost: owner, parent: nil, isNew: false, tolerance: nil, comments: "", ownerFromDocument: true,
                       aliases: [], children: [], firstYear: Period(startYear: 2025), lastYear: Period(startYear: 2027),
                       targets: [Period(startYear: 2025): 100], actuals: [:], figures: figures)
    }

    static func revision(_ n: Int, value: Double = 30, note: String? = nil, late: Bool = false, validatedBy: String? = nil) -> FigureRevision {
        FigureRevision(period: q1, revision: n, value: value, note: note, reason: n == 1 ? nil : "recount", submittedBy: "alice",
                       submittedAt: "2026-07-01T10:00:00", late: late, validatedBy: validatedBy, validatedAt: validatedBy.map { _ in "2026-07-02T10:00:00" })
    }

    func refusal(_ body: () throws -> Any?) -> Error? {
        do { _ = try body(); return nil } catch { return error }
    }

    func param(_ body: () throws -> Any?) -> String? { (refusal(body) as? FigureRuleViolation)?.param }

    // MARK: submit

    @Test func anOwnerSubmitsTheFirstRevision() throws {
        let d = try FigureUseCases.submit(Self.principal(), Self.indicator(), period: Self.q1, value: 26, note: nil, graceDays: 20, at: Self.time)
        #expect(d.kind == .figureSubmitted && d.expectedRevision == 0 && d.ownerPostIDs == [7] && d.frequency == .quarterly)
        #expect(d.revision.revision == 1 && d.revision.value == 26 && d.revision.submittedBy == "alice" && d.revision.reason == nil)
        #expect(d.revision.submittedAt == Self.time.recordedText)
        #expect(d.status?.rag == .green && d.status?.figure == d.revision && d.status?.target == 25)
        #expect(d.audit.object == "ComS_011" && d.audit.before == nil && d.audit.message == "2025/26 Q1: 26 (late)")
        guard case .object(let detail) = d.detail else { Issue.record("detail is an object"); return }
        #expect(detail["indicator"] == .string("ComS_011") && detail["objective"] == .string("CS1") && detail["ownerPost"] == .string(Self.owner))
        #expect(detail["period"] == .string("2025/26 Q1") && detail["revision"] == .number(1) && detail["value"] == .number(26))
        #expect(detail["late"] == .bool(true) && detail["reason"] == nil)
    }

    @Test func lateIsJudgedOnTheDueDate() throws {
        let q1 = Period(startYear: 2026, quarter: 1)   // ends 30 June 2026; due 20 July with 20 days' grace
        let onTime = try FigureUseCases.submit(Self.principal(), Self.indicator(), period: q1, value: 26, note: nil, graceDays: 20, at: Self.time)
        #expect(onTime.revision.late == false && onTime.audit.message == "2026/27 Q1: 26")
        let late = try FigureUseCases.submit(Self.principal(), Self.indicator(), period: q1, value: 26, note: nil, graceDays: 5, at: Self.time)
        #expect(late.revision.late == true)
    }

    @Test func whoMaySubmit() throws {
        let i = Self.indicator()
        func submit(_ p: Principal) throws -> FigureDecision {
            try FigureUseCases.submit(p, i, period: Self.q1, value: 26, note: nil, graceDays: 20, at: Self.time)
        }
        #expect(try submit(Self.admin).revision.submittedBy == "root")
        let denied = try #require(refusal { try submit(Self.stranger) } as? Denial)
        #expect(denied.missing == "post:\(Self.owner)" && !denied.unauthenticated && denied.message.contains("\"Head of Housing\""))
        #expect((refusal { try submit(Self.principal(standing: .disabled)) } as? Denial)?.missing == "active account")
        #expect((refusal { try submit(Self.principal(standing: .unregistered)) } as? Denial)?.unauthenticated == true)
        // Permission first: a stranger's bad value is refused as a stranger, revealing nothing.
        #expect(refusal { try FigureUseCases.submit(Self.stranger, i, period: Self.q1, value: -1, note: nil, graceDays: 20, at: Self.time) } is Denial)
    }

    @Test func periodAndValueRules() {
        let i = Self.indicator(), p = Self.principal()
        func submit(_ period: Period, _ value: Double, _ note: String? = nil) -> String? {
            param { try FigureUseCases.submit(p, i, period: period, value: value, note: note, graceDays: 20, at: Self.time) }
        }
        #expect(submit(Period(startYear: 2025), 1) == "period")                 // a year for a quarterly indicator
        #expect(submit(Period(startYear: 2024, quarter: 4), 1) == "period")     // before the plan
        #expect(submit(Period(startYear: 2026, quarter: 2), 1) == "period")     // not ended on 10 July 2026
        #expect(submit(Self.q1, -1) == "value" && submit(Self.q1, 2.5) == "value" && submit(Self.q1, .infinity) == "value")
        #expect(submit(Self.q1, 10) == "note" && submit(Self.q1, 10, "  ") == "note")   // red against 25
        #expect(submit(Self.q1, 10, "Staff away") == nil)
        let annual = Self.indicator(frequency: .annual)
        #expect(param { try FigureUseCases.submit(p, annual, period: Self.q1, value: 1, note: nil, graceDays: 20, at: Self.time) } == "period")
    }

    @Test func aSecondSubmissionPointsToCorrect() throws {
        let i = Self.indicator(figures: [Self.q1: Self.revision(2, value: 30)])
        let error = refusal { try FigureUseCases.submit(Self.principal(), i, period: Self.q1, value: 26, note: nil, graceDays: 20, at: Self.time) }
        guard case .conflict(let message, let hint)? = error as? StoreError else { Issue.record("a conflict: \(String(describing: error))"); return }
        #expect(message.contains("revision 2: 30 from alice"))
        #expect(hint == Hint("figure.correct", ["code": "ComS_011", "period": "2025/26 Q1", "revision": "2"]))
    }

    // MARK: correct

    @Test func aCorrectionIsTheNextRevisionKeepingNoteAndLateness() throws {
        let i = Self.indicator(figures: [Self.q1: Self.revision(1, value: 30, note: "Quiet", late: true, validatedBy: "root")])
        let d = try FigureUseCases.correct(Self.principal(), i, period: Self.q1, value: 31, reason: "Two returns", revision: 1, note: nil, at: Self.time)
        #expect(d.kind == .figureCorrected && d.expectedRevision == 1 && d.revision.revision == 2)
        #expect(d.revision.note == "Quiet" && d.revision.late && d.revision.reason == "Two returns" && d.revision.validatedBy == nil)
        #expect(d.audit.message == "2025/26 Q1: 30 → 31" && d.audit.before == JSONValue(encoding: Self.revision(1, value: 30, note: "Quiet", late: true, validatedBy: "root")))
        guard case .object(let detail) = d.detail else { Issue.record("detail is an object"); return }
        #expect(detail["reason"] == .string("Two returns") && detail["revision"] == .number(2))
        #expect(d.after.figures[Self.q1] == d.revision)
    }

    @Test func correctionRefusals() {
        let p = Self.principal(), one = Self.indicator(figures: [Self.q1: Self.revision(2, value: 30)])
        func correct(_ i: IndicatorState, revision: Int = 2, value: Double = 31, reason: String = "recount", note: String? = nil) -> Error? {
            refusal { try FigureUseCases.correct(p, i, period: Self.q1, value: value, reason: reason, revision: revision, note: note, at: Self.time) }
        }
        #expect(correct(one, reason: " \n") as? StoreError == .invalid(param: "reason", "a correction needs a reason"))
        guard case .conflict(_, let hint)? = correct(Self.indicator()) as? StoreError else { Issue.record("no figure is a conflict"); return }
        #expect(hint?.method == "figure.submit")
        guard case .conflict(let message, let staleHint)? = correct(one, revision: 1) as? StoreError else { Issue.record("stale"); return }
        #expect(message == "revision 1 of ComS_011 2025/26 Q1 is no longer current: revision 2 (30 from alice) is")
        #expect(staleHint?.method == "figure.history")
        #expect((correct(one, value: 10) as? FigureRuleViolation)?.param == "note")       // red needs a note
        #expect(correct(one, value: 10, note: "Staff away") == nil)
        #expect(correct(one, value: 2.5) is FigureRuleViolation)
        #expect(refusal { try FigureUseCases.correct(Self.stranger, one, period: Self.q1, value: 31, reason: "r", revision: 2, note: nil, at: Self.time) } is Denial)
    }

    // MARK: validate

    @Test func validation() throws {
        let i = Self.indicator(figures: [Self.q1: Self.revision(2)])
        let d = try #require(try FigureUseCases.validate(Self.admin, i, period: Self.q1, revision: nil, at: Self.time))
        #expect(d.kind == .figureValidated && d.ownerPostIDs.isEmpty && d.expectedRevision == 2 && d.revision.revision == 2)
        #expect(d.revision.validatedBy == "root" && d.revision.validatedAt == Self.time.recordedText)
        #expect(d.audit.message == "2025/26 Q1: revision 2 validated")
        let done = Self.indicator(figures: [Self.q1: Self.revision(2, validatedBy: "root")])
        #expect(try FigureUseCases.validate(Self.admin, done, period: Self.q1, revision: 2, at: Self.time) == nil)
        #expect(refusal { try FigureUseCases.validate(Self.principal(), i, period: Self.q1, revision: nil, at: Self.time) } is Denial)
        #expect(refusal { try FigureUseCases.validate(Self.admin, Self.indicator(), period: Self.q1, revision: nil, at: Self.time) } as? StoreError
                == .notFound(kind: "figure of ComS_011 for", key: "2025/26 Q1"))
        guard case .conflict? = refusal({ try FigureUseCases.validate(Self.admin, i, period: Self.q1, revision: 1, at: Self.time) }) as? StoreError else {
            Issue.record("a stale revision is a conflict"); return
        }
        #expect(param { try FigureUseCases.validate(Self.admin, i, period: Period(startYear: 2025), revision: nil, at: Self.time) } == "period")
    }

    // MARK: targets

    @Test func targets() throws {
        let i = Self.indicator()
        let d = try TargetUseCases.set(Self.admin, i, period: Period(startYear: 2025), value: 120, tolerance: 10, reason: "Council decision", at: Self.time)
        #expect(d.expectedValue == 100 && d.tolerance == 10 && d.after.targets[Period(startYear: 2025)] == 120 && d.after.tolerance == 10)
        #expect(d.change.oldValue == 100 && d.change.newValue == 120 && d.change.oldTolerance == nil && d.change.newTolerance == 10)
        #expect(d.change.changedBy == "root" && d.audit.message == "target 2025/26: Council decision")
        #expect(d.audit.before == .object(["value": .number(100), "tolerance": .null]))
        let fresh = try TargetUseCases.set(Self.admin, i, period: Period(startYear: 2026), value: 90, tolerance: nil, reason: "new", at: Self.time)
        #expect(fresh.expectedValue == nil && fresh.tolerance == nil && fresh.change.newTolerance == nil)
        func set(_ p: Principal = Self.admin, _ period: Period = Period(startYear: 2025), _ value: Double = 1, _ tolerance: Double? = nil,
                 _ reason: String = "r") -> Error? {
            refusal { try TargetUseCases.set(p, i, period: period, value: value, tolerance: tolerance, reason: reason, at: Self.time) }
        }
        #expect(set(Self.principal()) is Denial)
        #expect((set(Self.admin, Period(startYear: 2030)) as? FigureRuleViolation)?.param == "period")
        #expect((set(Self.admin, Period(startYear: 2025), -1) as? FigureRuleViolation)?.param == "value")
        #expect((set(Self.admin, Period(startYear: 2025), 1, 101) as? FigureRuleViolation)?.param == "tolerance")
        #expect(set(Self.admin, Period(startYear: 2025), 1, nil, " ") as? StoreError == .invalid(param: "reason", "a target change needs a reason"))
    }

    // MARK: tasks

    static func task(status: TaskStatus = .onTrack, progress: Int = 40, completedOn: CalendarDate? = nil) -> TaskState {
        TaskState(id: 5, planID: 1, position: 2, code: "BCRPASB_27", objective: "CS2", action: "Patrol", responsiblePostIDs: [7, 9],
                  responsiblePosts: [owner, "Community Safety Manager"], targetDate: CalendarDate(year: 2026, month: 3, day: 31),
                  targetText: "March 2026", status: status, progress: progress, isNew: false, outcome: "", budgetComment: "",
                  completedOn: completedOn, aliases: [], partners: [], risks: [], slippage: Slippage(times: 0, days: 0))
    }

    @Test func taskUpdates() throws {
        let t = Self.task()
        let d = try TaskUseCases.update(Self.principal(), t, status: .atRisk, progress: nil, note: "Staff away", at: Self.time)
        #expect(d.kind == .taskUpdated && d.expected == t && d.after.status == .atRisk && d.after.progress == 40 && d.responsiblePostIDs == [7, 9])
        #expect(d.change.oldStatus == .onTrack && d.change.newStatus == .atRisk && d.change.note == "Staff away")
        #expect(d.audit.message == "at_risk, 40%" && d.audit.after == JSONValue(encoding: d.after.summary(today: Self.time.today)))
        guard case .object(let detail) = d.detail else { Issue.record("detail is an object"); return }
        #expect(detail["posts"] == .array([.string(Self.owner), .string("Community Safety Manager")]) && detail["oldDate"] == nil)
        #expect(detail["status"] == .string("at_risk") && detail["targetDate"] == .string("2026-03-31"))
        // Completing completes the work and keeps the day it first completed; reopening clears it.
        let done = try TaskUseCases.update(Self.principal(), t, status: .completed, progress: nil, note: "Done", at: Self.time)
        #expect(done.after.progress == 100 && done.after.completedOn == Self.time.today)
        let again = try TaskUseCases.update(Self.admin, Self.task(status: .completed, progress: 100, completedOn: CalendarDate(year: 2026, month: 1, day: 2)),
                                            status: nil, progress: 90, note: "Recount", at: Self.time)
        #expect(again.after.completedOn == CalendarDate(year: 2026, month: 1, day: 2) && again.after.progress == 90)
        let reopened = try TaskUseCases.update(Self.admin, done.after, status: .onTrack, progress: nil, note: "Reopened", at: Self.time)
        #expect(reopened.after.completedOn == nil)
    }

    @Test func taskUpdateRefusals() {
        let t = Self.task()
        func update(_ p: Principal = Self.principal(), progress: Int? = nil, note: String = "n") -> Error? {
            refusal { try TaskUseCases.update(p, t, status: nil, progress: progress, note: note, at: Self.time) }
        }
        #expect(update(progress: 101) as? StoreError == .invalid(param: "progress", "progress is a percentage from 0 to 100"))
        #expect(update(progress: -1) is StoreError)
        #expect(update(note: "\t") as? StoreError == .invalid(param: "note", "a task update needs a note"))
        let denied = update(Self.stranger) as? Denial
        #expect(denied?.missing == "post:\(Self.owner)|post:Community Safety Manager")
        #expect(update(Self.principal("carol", posts: ["Community Safety Manager"])) == nil)
    }

    @Test func reschedules() throws {
        let t = Self.task(), later = CalendarDate(year: 2026, month: 6, day: 30)
        let d = try TaskUseCases.reschedule(Self.principal(), t, to: later, reason: "Contractor late", at: Self.time)
        #expect(d.kind == .taskRescheduled && d.after.targetDate == later && d.after.slippage == Slippage(times: 1, days: 91))
        #expect(d.change.oldDate == t.targetDate && d.change.newDate == later && d.change.note == "Contractor late")
        #expect(d.audit.message == "target date 2026-03-31 → 2026-06-30: Contractor late")
        guard case .object(let detail) = d.detail else { Issue.record("detail is an object"); return }
        #expect(detail["oldDate"] == .string("2026-03-31") && detail["targetDate"] == .string("2026-06-30"))
        let earlier = try TaskUseCases.reschedule(Self.principal(), t, to: CalendarDate(year: 2026, month: 1, day: 31), reason: "Early", at: Self.time)
        #expect(earlier.after.slippage == Slippage(times: 0, days: 0))
        guard case .conflict(let message, _)? = refusal({ try TaskUseCases.reschedule(Self.principal(), t, to: t.targetDate!, reason: "x", at: Self.time) }) as? StoreError else {
            Issue.record("the same date is a conflict"); return
        }
        #expect(message == "BCRPASB_27 is already due on 2026-03-31")
        #expect(refusal { try TaskUseCases.reschedule(Self.principal(), t, to: later, reason: "", at: Self.time) } as? StoreError
                == .invalid(param: "reason", "a new target date needs a reason"))
        #expect(refusal { try TaskUseCases.reschedule(Self.stranger, t, to: later, reason: "r", at: Self.time) } is Denial)
    }

    // MARK: grant and revoke

    static let today = CalendarDate(year: 2026, month: 7, day: 10)

    static func directory(rootUntil: CalendarDate? = nil, secondAdmin: Bool = false) -> DirectoryState {
        typealias H = DirectoryState.Holding
        var users: [String: DirectoryState.User] = [
            "root": .init(id: 1, login: "root", disabled: false, holdings: [H(id: 1, postID: 1, post: "admin", from: CalendarDate(year: 2025, month: 1, day: 1), until: rootUntil, revoked: false)]),
            "alice": .init(id: 2, login: "alice", disabled: false, holdings: [
                H(id: 2, postID: 7, post: owner, from: CalendarDate(year: 2025, month: 1, day: 1), until: CalendarDate(year: 2025, month: 12, day: 31), revoked: false),
                H(id: 3, postID: 7, post: owner, from: CalendarDate(year: 2026, month: 8, day: 1), until: nil, revoked: false),
                H(id: 4, postID: 9, post: "Community Safety Manager", from: CalendarDate(year: 2025, month: 1, day: 1), until: nil, revoked: true),
            ]),
        ]
        if secondAdmin {
            users["eve"] = .init(id: 3, login: "eve", disabled: false, holdings: [H(id: 5, postID: 1, post: "admin", from: CalendarDate(year: 2025, month: 1, day: 1), until: nil, revoked: false)])
        }
        return DirectoryState(users: users, posts: [1: "admin", 7: owner, 9: "Community Safety Manager"],
                              postKeys: ["admin": 1, owner.lowercased(): 7, "licensing mgr": 7, "community safety manager": 9])
    }

    @Test func grants() throws {
        let dir = Self.directory()
        let d = try HoldingUseCases.grant(Self.admin, dir, login: "alice", post: "Community Safety Manager", from: nil, until: nil, today: Self.today)
        #expect(d.userID == 2 && d.postID == 9 && d.from == Self.today && d.until == nil && d.message == "granted Community Safety Manager")
        #expect(d.detail == .object(["object": .string("alice"), "message": .string("granted Community Safety Manager")]))
        // Between two holdings of the same post, by an alias: no overlap.
        let gap = try HoldingUseCases.grant(Self.admin, dir, login: "alice", post: "LICENSING MGR", from: CalendarDate(year: 2026, month: 1, day: 1),
                                            until: CalendarDate(year: 2026, month: 7, day: 31), today: Self.today)
        #expect(gap.post == Self.owner)
        func grant(_ p: Principal = Self.admin, login: String = "alice", post: String = Self.owner, from: CalendarDate? = nil,
                   until: CalendarDate? = nil) -> Error? {
            refusal { try HoldingUseCases.grant(p, dir, login: login, post: post, from: from, until: until, today: Self.today) }
        }
        #expect(grant(Self.principal()) is Denial)
        #expect(grant(until: CalendarDate(year: 2026, month: 7, day: 9)) as? StoreError
                == .invalid(param: "until", "the holding would end (2026-07-09) before it begins (2026-07-10)"))
        #expect(grant(login: "mallory") as? StoreError == .notFound(kind: "user", key: "mallory"))
        #expect(grant(post: "Mayor") as? StoreError == .notFound(kind: "post", key: "Mayor"))
        guard case .conflict(let message, let hint)? = grant(from: CalendarDate(year: 2027, month: 1, day: 1)) as? StoreError else {
            Issue.record("an overlap is a conflict"); return
        }
        #expect(message == "alice already holds \"\(Self.owner)\" for some of those days" && hint?.method == "post.holders")
    }

    @Test func revokes() throws {
        let d = try HoldingUseCases.revoke(Self.admin, Self.directory(), login: "alice", post: Self.owner, today: Self.today)
        #expect(d.holdingIDs == [3] && d.message == "revoked \(Self.owner)")   // the ended cover stays as it was
        #expect(refusal { try HoldingUseCases.revoke(Self.admin, Self.directory(), login: "alice", post: "Community Safety Manager", today: Self.today) }
                as? StoreError == .notFound(kind: "holding of \"Community Safety Manager\" by", key: "alice"))
        guard case .conflict(let message, let hint)? = refusal({
            try HoldingUseCases.revoke(Self.admin, Self.directory(), login: "root", post: "admin", today: Self.today)
        }) as? StoreError else { Issue.record("the last administrator stays"); return }
        #expect(message == "revoking admin from root would leave no administrator without an end date" && hint?.method == "post.grant")
        #expect(try HoldingUseCases.revoke(Self.admin, Self.directory(secondAdmin: true), login: "root", post: "admin", today: Self.today).holdingIDs == [1])
        #expect(refusal { try HoldingUseCases.revoke(Self.principal(), Self.directory(), login: "alice", post: Self.owner, today: Self.today) } is Denial)
        // Cover that ends does not count as someone to administer.
        #expect(Self.directory(rootUntil: CalendarDate(year: 2026, month: 12, day: 31)).permanentAdministrators(today: Self.today) == 0)
    }

    @Test func disablingUsers() throws {
        let d = try #require(try HoldingUseCases.setDisabled(Self.admin, Self.directory(), login: "alice", disabled: true, today: Self.today))
        #expect(d.login == "alice" && d.disabled && d.detail == .object(["object": .string("alice"), "message": .string("disabled")]))
        #expect(try HoldingUseCases.setDisabled(Self.admin, Self.directory(), login: "alice", disabled: false, today: Self.today) == nil)
        #expect(refusal { try HoldingUseCases.setDisabled(Self.admin, Self.directory(), login: "mallory", disabled: true, today: Self.today) }
                as? StoreError == .notFound(kind: "user", key: "mallory"))
        guard case .conflict(let message, _)? = refusal({
            try HoldingUseCases.setDisabled(Self.admin, Self.directory(), login: "root", disabled: true, today: Self.today)
        }) as? StoreError else { Issue.record("the last administrator stays enabled"); return }
        #expect(message == "disabling root would leave no administrator without an end date")
        #expect(try HoldingUseCases.setDisabled(Self.admin, Self.directory(secondAdmin: true), login: "root", disabled: true, today: Self.today) != nil)
        #expect(refusal { try HoldingUseCases.setDisabled(Self.principal(), Self.directory(), login: "alice", disabled: true, today: Self.today) } is Denial)
    }
}
