import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// Key task progress over the real socket, with the daemon's clock at 10 April 2026
/// (BCRPASB_27, _28 and _17 were due 31 March).
@Suite("key tasks")
struct TaskTests {
    static let daemon = try! TestDaemon(extraArguments: ["--now", "2026-04-10"])

    func client() throws -> Client { try Self.daemon.client() }
    func day(_ text: String) -> CalendarDate { CalendarDate(iso: text)! }

    @Test func updatesKeepHistoryAndCompletionRecordsTheDay() throws {
        let c = try client()
        let started = try c.call(TaskUpdateRequest(code: "BCRP", status: .onTrack, progress: 40, note: "Plan drafted"))
        #expect(started.status == .onTrack && started.progress == 40 && started.completedOn == nil)
        let done = try c.call(TaskUpdateRequest(code: "bcrp", status: .completed, note: "Adopted by Cabinet"))
        #expect(done.status == .completed && done.progress == 100 && done.completedOn == day("2026-04-10"))
        #expect(!done.overdue)
        let history = try c.call(TaskHistoryRequest(code: "BCRP"))
        #expect(history.changes.map(\.newStatus) == [.onTrack, .completed])
        #expect(history.changes.map(\.note) == ["Plan drafted", "Adopted by Cabinet"])
        #expect(history.changes[1].oldProgress == 40 && history.changes[1].newProgress == 100)
        #expect(history.changes.allSatisfy { $0.changedBy == currentLogin })
        // The plan's first import audited the task's rows too, before these.
        let audit = try c.call(AuditListRequest(object: "BCRP")).entries.filter { $0.method != "plan.import" }
        #expect(audit.map(\.method) == ["task.update", "task.update"])
    }

    @Test func reschedulingKeepsEveryDateAndCountsSlippage() throws {
        let c = try client()
        #expect(try c.call(TaskShowRequest(code: "BCRPASB_28")).task.overdue)
        let moved = try c.call(TaskRescheduleRequest(code: "BCRPASB_28", date: day("2026-06-30"), reason: "Legal review"))
        #expect(moved.targetDate == day("2026-06-30") && !moved.overdue)
        _ = try c.call(TaskRescheduleRequest(code: "BCRPASB_28", date: day("2026-09-30"), reason: "Partner changes"))
        let history = try c.call(TaskHistoryRequest(code: "BCRPASB_28"))
        #expect(history.changes.map(\.oldDate) == [day("2026-03-31"), day("2026-06-30")])
        #expect(history.changes.map(\.newDate) == [day("2026-06-30"), day("2026-09-30")])
        #expect(history.slippage == Slippage(times: 2, days: 91 + 92))
        #expect(try c.call(TaskShowRequest(code: "BCRPASB_28")).slippage.times == 2)
        #expect(c.error(TaskRescheduleRequest(code: "BCRPASB_28", date: day("2026-09-30"), reason: "same"))?.code == .conflict)
        // An undated task can be given a date.
        let dated = try c.call(TaskRescheduleRequest(code: "COMS2528_02", date: day("2027-03-31"), reason: "Date agreed"))
        #expect(dated.targetDate == day("2027-03-31"))
    }

    @Test(arguments: [
        (TaskUpdateRequest(code: "BCRPASB_29", progress: 101, note: "x"), "progress"),
        (TaskUpdateRequest(code: "BCRPASB_29", progress: -1, note: "x"), "progress"),
        (TaskUpdateRequest(code: "BCRPASB_29", status: .atRisk, note: "  "), "note"),
    ])
    func badUpdatesAreRefused(_ request: TaskUpdateRequest, _ param: String) throws {
        let c = try client()
        let error = try #require(c.error(request))
        #expect(error.code == .invalidParams && error.data?["param"] == param)
        #expect(try c.call(TaskHistoryRequest(code: "BCRPASB_29")).changes.isEmpty)
        #expect(c.error(TaskRescheduleRequest(code: "BCRPASB_29", date: day("2029-01-01"), reason: ""))?.data?["param"] == "reason")
        #expect(c.error(TaskUpdateRequest(code: "NOPE_1", note: "x"))?.code == .notFound)
        let unknownStatus = try c.raw(#"{"id":1,"method":"task.update","params":{"code":"BCRPASB_29","status":"sleeping","note":"x"}}"#)
        #expect(errorCode(unknownStatus) == "invalid_params")
    }

    @Test func listsShowOverdueDueSoonAndMine() throws {
        let c = try client()
        let overdue = try c.call(TaskListRequest(overdue: true)).tasks
        #expect(overdue.contains { $0.code == "BCRPASB_27" })
        #expect(overdue.allSatisfy { $0.overdue && $0.targetDate! < day("2026-04-10") && !$0.status.isClosed })
        #expect(!overdue.contains { $0.targetDate == nil })   // undated tasks are never overdue
        let soon = try c.call(TaskListRequest(dueWithin: 30)).tasks
        #expect(soon.map(\.code).contains("COMS2526_01"))       // due 30 April
        #expect(soon.allSatisfy { $0.targetDate! >= day("2026-04-10") && $0.targetDate! <= day("2026-05-10") })
        // The administrator holds no responsible post.
        #expect(try c.call(TaskListRequest(mine: true)).tasks.isEmpty)
        #expect(c.error(TaskListRequest(dueWithin: -1))?.code == .invalidParams)
        let cli = try Self.daemon.ctl(["tasks", "--overdue"])
        #expect(cli.status == 0 && cli.out.contains("OVERDUE"))
    }

    @Test func clientCommands() throws {
        let update = try Self.daemon.ctl(["task", "update", "BCRPASB_30", "--status", "at_risk", "--progress", "10", "--note", "No officer"])
        #expect(update.status == 0, "\(update.err)")
        #expect(update.out.contains("BCRPASB_30: at_risk, 10% done"))
        let move = try Self.daemon.ctl(["task", "reschedule", "BCRPASB_30", "2028-06-30", "--reason", "Recruitment"])
        #expect(move.status == 0, "\(move.err)")
        let history = try Self.daemon.ctl(["task", "history", "BCRPASB_30"])
        #expect(history.out.contains("target 2028-03-31 → 2028-06-30") && history.out.contains("slipped 1 time(s), 91 days"))
        let show = try Self.daemon.ctl(["task", "show", "BCRPASB_30"])
        #expect(show.out.contains("slipped 1 time(s)"))
        let noNote = try Self.daemon.ctl(["task", "update", "BCRPASB_30", "--status", "on_track"])
        #expect(noNote.status == 64)
        let reminders = try Self.daemon.ctl(["reminders"])
        #expect(reminders.status == 0 && reminders.out.contains("BCRPASB"))
        let run = try Self.daemon.ctl(["scheduler", "run"])
        #expect(run.status == 0 && run.out.contains("2026-04-10:"))
    }
}

/// Task updates tried by real Unix identities: holders of a responsible post and
/// administrators may; others are refused, changing nothing, audited.
@Suite("task permissions", .serialized, .enabled(if: TestAccounts.available, "needs root to create test accounts and run setpriv"))
struct TaskPermissionTests {
    @Test func onlyResponsibleHoldersAndAdministratorsUpdateTasks() throws {
        let accounts = try ["bbcs-t-ccm", "bbcs-t-owner2", "bbcs-t-viewer", "bbcs-t-stranger", "bbcs-t-expired"]
            .reduce(into: [String: (uid: UInt32, gid: UInt32)]()) { $0[$1] = try TestAccounts.ensure($1) }
        let daemon = try TestDaemon(extraArguments: ["--now", "2026-04-10"])
        let bin = makeTemporaryDirectory("bbcs-client")
        defer { try? FileManager.default.removeItem(at: bin) }
        let ctl = bin.appendingPathComponent("bbcsctl").path
        try FileManager.default.copyItem(atPath: binDirectory.appendingPathComponent("bbcsctl").path, toPath: ctl)
        let c = try daemon.client()
        for login in ["bbcs-t-ccm", "bbcs-t-owner2", "bbcs-t-viewer", "bbcs-t-expired"] { _ = try c.call(UserAddRequest(login: login)) }
        _ = try c.call(PostGrantRequest(login: "bbcs-t-ccm", post: "Communities and Crime Manager"))
        _ = try c.call(PostGrantRequest(login: "bbcs-t-owner2", post: "Licensing Manager"))
        _ = try c.call(PostGrantRequest(login: "bbcs-t-expired", post: "Communities and Crime Manager",
                                        from: CalendarDate(iso: "2026-01-01"), until: CalendarDate(iso: "2026-03-31")))
        let db = try PGConnection(conninfo: daemon.database)
        func state() throws -> String {
            try db.query("SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM (SELECT * FROM tasks) t").text(0, 0)
                + (try db.query("SELECT count(*) FROM task_changes").text(0, 0))
        }
        func run(_ login: String?, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
            guard let login else { return try runProgram(ctl, ["--socket", daemon.socketPath, "--json"] + arguments) }
            let a = accounts[login]!
            return try runProgram("/usr/bin/setpriv", ["--reuid=\(a.uid)", "--regid=\(a.gid)", "--clear-groups", "--",
                                                       ctl, "--socket", daemon.socketPath, "--json"] + arguments)
        }
        // `tasks --mine` lists exactly the tasks a post the caller holds is responsible for.
        let mine = try run("bbcs-t-ccm", ["tasks", "--mine"])
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(mine.out.utf8)) as? [String: [[String: Any]]])["tasks"]
        let codes = Set(try #require(listed).compactMap { $0["code"] as? String })
        let wanted = Set(shippedPlan.tasks.filter { $0.responsiblePosts.contains("Communities and Crime Manager") }.map(\.code))
        #expect(!wanted.isEmpty && codes == wanted, "\(mine.err)")
        let none = try run("bbcs-t-viewer", ["tasks", "--mine"])
        let nothing = try JSONSerialization.jsonObject(with: Data(none.out.utf8)) as? [String: [Any]]
        #expect(none.status == 0 && nothing?["tasks"]?.isEmpty == true, "\(none.out)")

        // (who, task, allowed); nil is the administrator running the tests.
        let cells: [(String?, String, Bool)] = [
            (nil, "BCRPASB_27", true), ("bbcs-t-ccm", "BCRPASB_27", true), ("bbcs-t-owner2", "BCRPASB_27", false),
            ("bbcs-t-owner2", "ComS_2528_03", true), ("bbcs-t-ccm", "ComS_2528_03", false),
            ("bbcs-t-viewer", "BCRPASB_27", false), ("bbcs-t-expired", "BCRPASB_27", false), ("bbcs-t-stranger", "BCRPASB_27", false),
        ]
        for (n, (login, task, allowed)) in cells.enumerated() {
            // A new date for every cell, so an allowed move always changes something.
            for arguments in [["task", "update", task, "--progress", "\(40 + n)", "--note", "cell \(n)"],
                              ["task", "reschedule", task, "2029-01-\(10 + n)", "--reason", "cell \(n)"]] {
                let before = try state()
                let result = try run(login, arguments)
                let audit = try db.query("SELECT login, outcome FROM audit ORDER BY id DESC LIMIT 1")
                let who = login ?? currentLogin
                if allowed {
                    #expect(result.status == 0, "\(who) \(arguments): \(result.err)")
                    #expect(try state() != before)
                    #expect(try audit.text(0, 0) == who && audit.text(0, 1) == "ok")
                } else {
                    let expected = login == "bbcs-t-stranger" ? "unauthenticated" : "permission_denied"
                    #expect(result.status == 77 && result.err.contains(expected), "\(who) \(arguments): \(result.err)")
                    #expect(try state() == before, "\(who) \(arguments) changed something")
                    #expect(try audit.text(0, 0) == who && audit.text(0, 1) != "ok")
                }
            }
        }
    }
}

/// task.list and task.show against the data file.
@Suite("key task reads")
struct TaskReadTests {
    let client: Client

    init() throws { client = try ReadOnlyDaemon.shared.client() }

    @Test func taskListHasEveryTask() throws {
        let tasks = try client.call(TaskListRequest()).tasks
        #expect(tasks.map(\.code) == shippedPlan.tasks.map(\.code))
        for (got, want) in zip(tasks, shippedPlan.tasks) {
            #expect(got.targetDate == want.targetDate && got.targetText == want.targetText)
            #expect(got.responsiblePosts == want.responsiblePosts)
            #expect(got.status == .notStarted && got.progress == 0)
        }
    }

    @Test func taskListFilters() throws {
        let before = CalendarDate(year: 2026, month: 3, day: 31), after = CalendarDate(year: 2026, month: 4, day: 1)
        #expect(try client.call(TaskListRequest(dueBefore: before)).tasks.map(\.code)
                == shippedPlan.tasks.filter { $0.targetDate.map { $0 <= before } ?? false }.map(\.code))
        #expect(try client.call(TaskListRequest(dueAfter: after)).tasks.map(\.code)
                == shippedPlan.tasks.filter { $0.targetDate.map { $0 >= after } ?? false }.map(\.code))
        #expect(try client.call(TaskListRequest(post: "Communities and Crime Manager")).tasks.map(\.code)
                == shippedPlan.tasks.filter { $0.responsiblePosts.contains("Communities and Crime Manager") }.map(\.code))
        #expect(try client.call(TaskListRequest(status: .completed)).tasks.isEmpty)
        #expect(client.error(TaskListRequest(post: "Head of Nothing"))?.code == .notFound)
    }

    @Test func everyTaskShowsTheDocumentsDetail() throws {
        for want in shippedPlan.tasks {
            let got = try client.call(TaskShowRequest(code: want.code))
            #expect(got.task.code == want.code)
            #expect(got.task.action == want.action)
            #expect(got.task.objective == want.objective)
            #expect(got.outcome == want.outcome)
            #expect(got.partners == want.partners)
            #expect(got.task.responsiblePosts == want.responsiblePosts)
            #expect(got.task.targetDate == want.targetDate)
            #expect(got.budgetComment == want.budgetComment)
            #expect(got.task.isNew == want.isNew)
            #expect(got.risks == want.risks)
            #expect(Set(got.aliases) == Set(want.aliases))
        }
        #expect(try client.call(TaskShowRequest(code: "bcrpasb_27")).task.code == "BCRPASB_27")
        #expect(client.error(TaskShowRequest(code: "NOPE_1"))?.code == .notFound)
    }
}
