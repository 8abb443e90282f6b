import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// The scheduler over the plan's real dates (BCRPASB_27 and _28 are due 31 March 2026),
/// with the daemon restarted at each day of interest against one database. "daemon",
/// "bin" and "nobody" are Unix accounts every Linux host has.
@Suite("reminders", .serialized)
struct ReminderTests {
    /// Each reminder as "kind subject step" (escalated ones marked "!"), by recipient.
    func reminders(_ database: String, subject: String? = nil) throws -> [String: Set<String>] {
        let db = try PGConnection(conninfo: database)
        let rows = try db.query("SELECT recipient, kind, subject, step, escalated FROM reminders WHERE $1::text IS NULL OR subject = $1",
                                [subject])
        var byRecipient: [String: Set<String>] = [:]
        for r in 0..<rows.count {
            let text = "\(try rows.text(r, 1)) \(try rows.text(r, 2)) \(try rows.text(r, 3))" + (rows.bool(r, 4) ? " !" : "")
            byRecipient[try rows.text(r, 0), default: []].insert(text)
        }
        return byRecipient
    }

    func count(_ database: String) throws -> Int { try count(database, where: "true") }

    func day(_ text: String) -> CalendarDate { CalendarDate(iso: text)! }

    /// Each reminder of `subject` as "recipient kind step due-date" (superseded ones marked "superseded").
    func dated(_ database: String, subject: String) throws -> Set<String> {
        let rows = try PGConnection(conninfo: database).query("""
            SELECT recipient, kind, step, to_char(due_date, 'YYYY-MM-DD'), superseded_at IS NOT NULL FROM reminders WHERE subject = $1
            """, [subject])
        return Set(try (0..<rows.count).map { r in
            "\(try rows.text(r, 0)) \(try rows.text(r, 1)) \(try rows.text(r, 2)) \(try rows.text(r, 3))" + (rows.bool(r, 4) ? " superseded" : "")
        })
    }

    func count(_ database: String, where condition: String) throws -> Int {
        try PGConnection(conninfo: database).query("SELECT count(*) FROM reminders WHERE \(condition)").int(0, 0)
    }

    /// A daemon at `now` on `database`, once its scheduler has made its first run.
    func startDaemon(_ database: String, at now: String, _ extra: [String] = [], environment: [String: String] = [:]) throws -> TestDaemon {
        let daemon = try TestDaemon(database: database, extraArguments: ["--now", now] + extra, environment: environment)
        try waitFor { daemon.process.log.contains("scheduler ran") }
        return daemon
    }

    @Test func tasksAreRemindedOnTheirDaysExactlyOnce() throws {
        let database = try TestPostgres.freshDatabase()
        var daemon: TestDaemon? = try startDaemon(database, at: "2026-03-04")
        let c = try daemon!.client()
        _ = try c.call(UserAddRequest(login: "daemon", email: "daemon@example.org"))
        _ = try c.call(PostGrantRequest(login: "daemon", post: "Communities and Crime Manager", from: day("2026-03-01")))
        let run = try c.call(SchedulerRunRequest())
        #expect(run.day == day("2026-03-04"))
        #expect(run.created > 0)
        let mine = try reminders(database)["daemon"] ?? []
        #expect(mine == ["task_due BCRPASB_27 28d", "task_due BCRPASB_28 28d", "task_due BCRPASB_17 28d"])
        let first = try count(database)
        #expect(try c.call(SchedulerRunRequest()).created == 0)

        // A restart on the same day adds nothing.
        daemon = nil
        daemon = try startDaemon(database, at: "2026-03-04")
        #expect(try count(database) == first)
        daemon = nil

        // Two daemons starting together on 24 March record the 7-day step once between them.
        let pair = (0..<2).map { _ in Background { try startDaemon(database, at: "2026-03-24") } }
        let both = try pair.map { try $0.value() }
        try waitFor { try (self.reminders(database, subject: "BCRPASB_27")["daemon"] ?? []).contains("task_due BCRPASB_27 7d") }
        _ = try both[0].client().call(SchedulerRunRequest())
        _ = try both[1].client().call(SchedulerRunRequest())
        for started in both { #expect(!started.process.log.contains("scheduler run failed"), "\(started.process.log)") }
        let db = try PGConnection(conninfo: database)
        #expect(try db.query("SELECT count(*) FROM reminders WHERE subject = 'BCRPASB_27' AND recipient = 'daemon' AND step = '7d'").int(0, 0) == 1)
        for started in both { #expect(started.process.stop() == 0) }

        // Down over the 1-day and due-day steps: on 2 April the daemon catches up once, with the overdue step only.
        daemon = try startDaemon(database, at: "2026-04-02")
        #expect(try reminders(database, subject: "BCRPASB_27")["daemon"] == [
            "task_due BCRPASB_27 28d", "task_due BCRPASB_27 7d", "task_overdue BCRPASB_27 week-1",
        ])
    }

    @Test func recipientsFollowCoverAndClosedOrUndatedTasksStaySilent() throws {
        let database = try TestPostgres.freshDatabase()
        var daemon: TestDaemon? = try startDaemon(database, at: "2026-03-24")
        let c = try daemon!.client()
        for login in ["daemon", "bin", "nobody"] { _ = try c.call(UserAddRequest(login: login)) }
        _ = try c.call(PostGrantRequest(login: "daemon", post: "Communities and Crime Manager", from: day("2026-01-01")))
        // "ASB Enforcement officers" (BCRPASB_28): bin's cover ended on 20 March, nobody's began then.
        _ = try c.call(PostGrantRequest(login: "bin", post: "ASB Enforcement officers", from: day("2026-03-01"), until: day("2026-03-20")))
        _ = try c.call(PostGrantRequest(login: "nobody", post: "ASB Enforcement officers", from: day("2026-03-21")))
        _ = try c.call(SchedulerRunRequest())
        let r28 = try reminders(database, subject: "BCRPASB_28")
        #expect(r28["nobody"] == ["task_due BCRPASB_28 7d"])
        #expect(r28["daemon"] == ["task_due BCRPASB_28 7d"])
        #expect(r28["bin"] == nil)

        // BCRPASB_27 is completed and BCRPASB_17 deferred before their day: both fall silent.
        _ = try c.call(TaskUpdateRequest(code: "BCRPASB_27", status: .completed, note: "Documents reissued"))
        _ = try c.call(TaskUpdateRequest(code: "BCRPASB_17", status: .deferred, note: "Waiting for partners"))
        daemon = nil
        daemon = try startDaemon(database, at: "2026-03-31")
        #expect(try reminders(database, subject: "BCRPASB_28")["nobody"]?.contains("task_due_today BCRPASB_28 today") == true)
        #expect(try reminders(database, subject: "BCRPASB_27").values.allSatisfy { !$0.contains { $0.contains("today") } })
        #expect(try reminders(database, subject: "BCRPASB_17").values.allSatisfy { !$0.contains { $0.contains("today") } })

        // Undated tasks (their target is a note) never remind.
        let undated = try PGConnection(conninfo: database).query("""
            SELECT count(*) FROM reminders r JOIN tasks t ON t.code = r.subject WHERE t.target_date IS NULL
            """).int(0, 0)
        #expect(undated == 0)

        // Fifteen days overdue: the administrators hear of it too.
        daemon = nil
        daemon = try startDaemon(database, at: "2026-04-15")
        let late = try reminders(database, subject: "BCRPASB_28")
        #expect(late["nobody"]?.contains("task_overdue BCRPASB_28 week-3") == true)
        #expect(late[currentLogin]?.contains("task_overdue BCRPASB_28 week-3 !") == true)
        #expect(late["daemon"]?.contains("task_overdue BCRPASB_28 week-3") == true)
    }

    @Test func figuresAndStrategiesWithoutAHolderGoToTheAdministrators() throws {
        let database = try TestPostgres.freshDatabase()
        // 2025/26 Q4 ended 31 March; nobody holds "Head of Communities and Community Safety".
        // Figures are tracked from the plan's first year rather than from its load on 2 April.
        let tracked = ["BBCS_FIGURES_TRACKED_FROM": "2025-04-01"]
        var daemon: TestDaemon? = try startDaemon(database, at: "2026-04-02", environment: tracked)
        let admin = try reminders(database, subject: "ComS_011 2025/26 Q4")[currentLogin]
        #expect(admin == ["figure_due ComS_011 2025/26 Q4 due !"])
        #expect(try reminders(database, subject: "ComS_011 2025/26 Q2")[currentLogin] == ["figure_overdue ComS_011 2025/26 Q2 week-22 !"])
        // Once submitted, a figure is not reminded again.
        _ = try daemon!.client().call(FigureSubmitRequest(code: "ComS_011", period: Period("2025/26 Q4")!, value: 400))
        daemon = nil
        daemon = try startDaemon(database, at: "2026-05-15", environment: tracked)
        #expect(try reminders(database, subject: "ComS_011 2025/26 Q4")[currentLogin] == ["figure_due ComS_011 2025/26 Q4 due !"])
        daemon = nil
        // 90 days before the Crime Reduction Plan's renewal on 31 December 2026.
        daemon = try startDaemon(database, at: "2026-10-02", environment: tracked)
        let strategy = try reminders(database).values.flatMap { $0 }.filter { $0.hasPrefix("strategy_renewal Broxtowe Crime Reduction Plan") }
        #expect(strategy.count == 1 && strategy[0].hasSuffix("90d !"), "\(strategy)")
        // The inbox and its acknowledgement.
        let c = try daemon!.client()
        let inbox = try c.call(ReminderListRequest()).reminders
        let crime = try #require(inbox.first { $0.subject.hasPrefix("Broxtowe Crime Reduction Plan") })
        #expect(crime.escalated && crime.body.contains("Nobody holds Head of Communities and Community Safety"))
        #expect(try c.call(ReminderAckRequest(id: crime.id)).ackedAt != nil)
        #expect(try c.call(ReminderListRequest()).reminders.count == inbox.count - 1)
        #expect(try c.call(ReminderListRequest(all: true)).reminders.count == inbox.count)
        #expect(c.error(ReminderAckRequest(id: 999_999))?.code == .notFound)
    }

    @Test func mailIsDeliveredAndFailuresAreRetriedNeverDropped() throws {
        let directory = makeTemporaryDirectory("bbcs-mail")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("bbcsd.toml")
        let mailbox = directory.appendingPathComponent("mailbox").path
        let database = try TestPostgres.freshDatabase()

        // A relay that refuses, and one that hangs.
        try """
            mail_command = "echo 'relay refused' >&2; exit 3"
            mail_timeout = 1
            """.write(to: config, atomically: true, encoding: .utf8)
        var daemon: TestDaemon? = try startDaemon(database, at: "2026-03-04T09:00:00Z", ["--config", config.path])
        let c = try daemon!.client()
        _ = try c.call(UserAddRequest(login: "daemon", email: "daemon@example.org"))
        _ = try c.call(PostGrantRequest(login: "daemon", post: "Communities and Crime Manager", from: day("2026-03-01")))
        let refused = try c.call(SchedulerRunRequest())
        #expect(refused.created == 3 && refused.mailWaiting == 3)
        // The delivery worker sends apart from the run; each mail then waits for its backoff.
        var failing: [Reminder] = []
        try waitFor {
            failing = try c.call(ReminderListRequest(failed: true)).reminders
            return failing.count == 3
        }
        #expect(failing.allSatisfy { $0.mailAttempts == 1 && $0.mailLastError?.contains("exited with status 3: relay refused") == true })
        #expect(daemon!.process.log.contains("mail not delivered; will retry"))
        let counted = try c.call(SchedulerRunRequest())
        #expect(counted.mailed == 0 && counted.mailFailed == 3 && counted.mailWaiting == 3, "\(counted)")

        try """
            mail_command = "sleep 30"
            mail_timeout = 1
            """.write(to: config, atomically: true, encoding: .utf8)
        daemon = nil
        daemon = try startDaemon(database, at: "2026-03-04T09:05:00Z", ["--config", config.path])
        let started = ContinuousClock.now
        let hung = try daemon!.client().call(SchedulerRunRequest())
        print("scheduler.run while the mail command hangs answered after \(ContinuousClock.now - started)")
        #expect(hung.mailed == 0)
        // The run at start may have taken them first; either way each fails on the timeout.
        try waitFor {
            try daemon!.client().call(ReminderListRequest(failed: true)).reminders
                .allSatisfy { $0.mailAttempts == 2 && $0.mailLastError?.contains("did not finish within 1") == true }
        }

        // The relay works again: every mail goes through on its next attempt, once. One
        // command at a time, so that no two interleave their appends to the mailbox.
        try "mail_command = \"cat >> '\(mailbox)'\"\nmail_concurrency = 1\n".write(to: config, atomically: true, encoding: .utf8)
        daemon = nil
        daemon = try startDaemon(database, at: "2026-03-04T10:00:00Z", ["--config", config.path])
        try waitFor { (try? String(contentsOfFile: mailbox, encoding: .utf8))?.components(separatedBy: "To: ").count == 4 }
        let mail = try String(contentsOfFile: mailbox, encoding: .utf8)
        #expect(mail.contains("To: daemon@example.org\nSubject: [bbcs] BCRPASB_27 is due in 27 days (2026-03-31)"))
        #expect(mail.contains("bbcsctl reminders ack"))
        try waitFor { try daemon!.client().call(ReminderListRequest(failed: true)).reminders.isEmpty }
        let after = try daemon!.client().call(SchedulerRunRequest())
        #expect(after.mailed == 3 && after.mailFailed == 0 && after.mailWaiting == 0, "\(after)")
        let states = try PGConnection(conninfo: database).query("""
            SELECT mail_state, mail_attempts FROM reminders WHERE recipient = 'daemon'
            """)
        #expect(try states.map { "\(try states.text($0, 0)) \(try states.int($0, 1))" } == ["sent 3", "sent 3", "sent 3"])
        #expect(daemon!.process.log.contains("mail delivered"))
    }

    /// Issue 12, item 1: BCRPASB_27 (due 31 March) is reminded 28 days ahead, then moved to
    /// 20 March: the 28-day step is reminded again for the new date, and the old date's
    /// reminder is superseded: out of the inbox, never mailed, kept and shown with --all.
    @Test func aRescheduledTaskIsRemindedOfItsNewDate() throws {
        let directory = makeTemporaryDirectory("bbcs-moved")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("bbcsd.toml")
        let mailbox = directory.appendingPathComponent("mailbox").path
        try "mail_command = \"exit 3\"\nmail_timeout = 1\n".write(to: config, atomically: true, encoding: .utf8)
        let database = try TestPostgres.freshDatabase()
        var daemon: TestDaemon? = try startDaemon(database, at: "2026-03-04T09:00:00Z", ["--config", config.path])
        let c = try daemon!.client()
        _ = try c.call(UserAddRequest(login: "daemon", email: "daemon@example.org"))
        for login in ["daemon", currentLogin] {
            _ = try c.call(PostGrantRequest(login: login, post: "Communities and Crime Manager", from: day("2026-03-01")))
        }
        _ = try c.call(SchedulerRunRequest())
        try waitFor { try c.call(ReminderListRequest(failed: true)).reminders.count == 3 }
        #expect(try dated(database, subject: "BCRPASB_27") == ["\(currentLogin) task_due 28d 2026-03-31", "daemon task_due 28d 2026-03-31"])

        _ = try c.call(TaskRescheduleRequest(code: "BCRPASB_27", date: day("2026-03-20"), reason: "Brought forward for Cabinet"))
        #expect(try c.call(SchedulerRunRequest()).created == 2)
        #expect(try dated(database, subject: "BCRPASB_27") == [
            "\(currentLogin) task_due 28d 2026-03-31 superseded", "daemon task_due 28d 2026-03-31 superseded",
            "\(currentLogin) task_due 28d 2026-03-20", "daemon task_due 28d 2026-03-20",
        ])
        let inbox = try c.call(ReminderListRequest()).reminders.filter { $0.subject == "BCRPASB_27" }
        #expect(inbox.map(\.dueDate) == [day("2026-03-20")] && inbox[0].title == "BCRPASB_27 is due in 16 days (2026-03-20)")
        let all = try c.call(ReminderListRequest(all: true)).reminders.filter { $0.subject == "BCRPASB_27" }
        #expect(all.count == 2 && all.first { $0.dueDate == day("2026-03-31") }?.supersededAt != nil)
        let listed = try daemon!.ctl(["reminders", "--all"])
        #expect(listed.out.contains("superseded") && listed.out.contains("BCRPASB_27 is due in 27 days (2026-03-31)"), "\(listed.out)")
        // The old date's failing mail is no longer retried, nor listed as failing; the new date's is.
        var failing: [Reminder] = []
        try waitFor {
            failing = try c.call(ReminderListRequest(failed: true)).reminders
            return failing.contains { $0.subject == "BCRPASB_27" }
        }
        #expect(failing.count == 3 && failing.filter { $0.subject == "BCRPASB_27" }.map(\.dueDate) == [day("2026-03-20")])
        #expect(try c.call(SchedulerRunRequest()).created == 0)

        // The relay works again: the new date is mailed, the old one never (one command at a
        // time, so that no two interleave their appends to the mailbox).
        try "mail_command = \"cat >> '\(mailbox)'\"\nmail_concurrency = 1\n".write(to: config, atomically: true, encoding: .utf8)
        daemon = nil
        daemon = try startDaemon(database, at: "2026-03-04T10:00:00Z", ["--config", config.path])
        try waitFor { (try? String(contentsOfFile: mailbox, encoding: .utf8))?.components(separatedBy: "To: ").count == 4 }
        let mail = try String(contentsOfFile: mailbox, encoding: .utf8)
        #expect(mail.contains("Subject: [bbcs] BCRPASB_27 is due in 16 days (2026-03-20)") && !mail.contains("BCRPASB_27 is due in 27 days"))
        #expect(try count(database, where: "subject = 'BCRPASB_27'") == 4)

        // Moved back, the first date's reminders hold again and the second's are superseded.
        _ = try daemon!.client().call(TaskRescheduleRequest(code: "BCRPASB_27", date: day("2026-03-31"), reason: "Cabinet moved"))
        #expect(try daemon!.client().call(SchedulerRunRequest()).created == 0)
        #expect(try dated(database, subject: "BCRPASB_27") == [
            "\(currentLogin) task_due 28d 2026-03-31", "daemon task_due 28d 2026-03-31",
            "\(currentLogin) task_due 28d 2026-03-20 superseded", "daemon task_due 28d 2026-03-20 superseded",
        ])
    }

    /// Issue 12, item 1: a re-import that moves the Crime Reduction Plan's renewal from 31 to
    /// 15 December reminds the 90-day step again for the new date and supersedes the old one.
    @Test func aRenewalDateChangedByReimportIsRemindedAfresh() throws {
        let database = try TestPostgres.freshDatabase()
        let daemon = try startDaemon(database, at: "2026-10-02")
        let c = try daemon.client()
        let name = "Broxtowe Crime Reduction Plan 2023 – 2026"
        // Nobody holds its post, so the administrators are reminded.
        #expect(try dated(database, subject: name) == ["\(currentLogin) strategy_renewal 90d 2026-12-31"])

        var document = shippedPlan
        let index = try #require(document.strategies.firstIndex { $0.name == name })
        document.strategies[index].renewalDate = day("2026-12-15")
        let file = makeTemporaryDirectory("bbcs-plan").appendingPathComponent("plan.json")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        try JSONEncoder().encode(document).write(to: file)
        let imported = try daemon.ctl(["plan", "import", file.path])
        #expect(imported.status == 0, "\(imported.err)")

        #expect(try c.call(SchedulerRunRequest()).created == 1)
        #expect(try dated(database, subject: name) == [
            "\(currentLogin) strategy_renewal 90d 2026-12-31 superseded", "\(currentLogin) strategy_renewal 90d 2026-12-15",
        ])
        let inbox = try c.call(ReminderListRequest()).reminders.filter { $0.subject == name }
        #expect(inbox.count == 1 && inbox[0].title == "[escalated] \(name) is due for renewal in 74 days (2026-12-15)")
        #expect(try c.call(ReminderListRequest(all: true)).reminders.filter { $0.subject == name && $0.supersededAt != nil }.count == 1)
    }

    /// Issue 12, item 9: on the real dates a first start used to record about 200 escalated
    /// reminders, one per past quarter of every indicator. Figures are now chased from the
    /// day the plan was first loaded: none at go-live, the periods ending after it later;
    /// the past ones are still listed as due and can still be submitted.
    @Test func goLiveChasesNoFigureOfAPeriodBeforeThePlanWasLoaded() throws {
        let database = try TestPostgres.freshDatabase()
        var daemon: TestDaemon? = try startDaemon(database, at: "2026-04-02")
        #expect(try count(database, where: "kind LIKE 'figure%'") == 0)
        let loaded = try PGConnection(conninfo: database).query("SELECT to_char(loaded_on, 'YYYY-MM-DD') FROM plans")
        #expect(try loaded.text(0, 0) == "2026-04-02")
        let c = try daemon!.client()
        let due = try c.call(FigureDueRequest(all: true)).figures
        #expect(due.contains { $0.indicator == "ComS_011" && $0.period == Period("2025/26 Q2")! && $0.overdue })
        _ = try c.call(FigureSubmitRequest(code: "ComS_011", period: Period("2025/26 Q2")!, value: 440, note: "Entered at go-live"))

        // 2026/27 Q1 ends on 30 June, after the plan was loaded: it is chased.
        daemon = nil
        daemon = try startDaemon(database, at: "2026-07-02")
        #expect(try reminders(database, subject: "ComS_011 2026/27 Q1")[currentLogin] == ["figure_due ComS_011 2026/27 Q1 due !"])
        #expect(try count(database, where: "kind LIKE 'figure%' AND subject LIKE '% 2025/26%'") == 0)
        // A re-import does not move the day the plan was first loaded.
        _ = try daemon!.client().call(PlanImportRequest(content: String(contentsOf: shippedPlanURL, encoding: .utf8)))
        #expect(try PGConnection(conninfo: database).query("SELECT to_char(loaded_on, 'YYYY-MM-DD') FROM plans").text(0, 0) == "2026-04-02")
    }

    /// Issue 12, item 9: `figures_tracked_from` set in the past chases periods that ended
    /// from that day on, and none before it.
    @Test func figuresAreChasedFromTheConfiguredDay() throws {
        let database = try TestPostgres.freshDatabase()
        _ = try startDaemon(database, at: "2026-04-02", environment: ["BBCS_FIGURES_TRACKED_FROM": "2026-01-01"])
        #expect(try reminders(database, subject: "ComS_011 2025/26 Q4")[currentLogin] == ["figure_due ComS_011 2025/26 Q4 due !"])
        // 2025/26 Q3 ended on 31 December, the day before.
        #expect(try count(database, where: "subject = 'ComS_011 2025/26 Q3'") == 0)
        #expect(try count(database, where: "kind LIKE 'figure%' AND subject NOT LIKE '% 2025/26 Q4' AND subject NOT LIKE '% 2025/26'") == 0)
        #expect(try count(database, where: "kind LIKE 'figure%'") > 0)
    }

    /// The issue's "done when": with the daemon at 4 March 2026, the holder of "Communities
    /// and Crime Manager" sees BCRPASB_27 and BCRPASB_28 due within 28 days in `bbcsctl
    /// reminders`, and a restart adds no duplicates.
    @Test(.enabled(if: TestAccounts.available, "needs root to run the client as another account"))
    func theHolderSeesTheirRemindersWithTheClient() throws {
        let account = try TestAccounts.ensure("bbcs-t-ccm")
        let database = try TestPostgres.freshDatabase()
        var daemon: TestDaemon? = try startDaemon(database, at: "2026-03-04")
        // The account must reach the client whatever the checkout's permissions.
        let bin = makeTemporaryDirectory("bbcs-client")
        defer { try? FileManager.default.removeItem(at: bin) }
        let ctl = bin.appendingPathComponent("bbcsctl").path
        try FileManager.default.copyItem(atPath: binDirectory.appendingPathComponent("bbcsctl").path, toPath: ctl)
        _ = try daemon!.client().call(UserAddRequest(login: "bbcs-t-ccm"))
        _ = try daemon!.client().call(PostGrantRequest(login: "bbcs-t-ccm", post: "Communities and Crime Manager", from: day("2026-03-01")))
        _ = try daemon!.client().call(SchedulerRunRequest())
        func asHolder(_ arguments: [String], socket: String) throws -> (status: Int32, out: String, err: String) {
            try runProgram("/usr/bin/setpriv", ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--",
                                                ctl, "--socket", socket] + arguments)
        }
        let seen = try asHolder(["reminders"], socket: daemon!.socketPath)
        #expect(seen.status == 0, "\(seen.err)")
        #expect(seen.out.contains("BCRPASB_27 is due in 27 days (2026-03-31)"))
        #expect(seen.out.contains("BCRPASB_28 is due in 27 days (2026-03-31)"))
        let before = try count(database)
        daemon = nil
        let restarted = try startDaemon(database, at: "2026-03-04")
        #expect(try count(database) == before)
        let again = try asHolder(["reminders"], socket: restarted.socketPath)
        #expect(again.out.components(separatedBy: "BCRPASB_27").count == 2)
    }
}
