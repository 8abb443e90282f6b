import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// plan.show against the data file.
@Suite("plan")
struct PlanTests {
    let client: Client

    init() throws { client = try ReadOnlyDaemon.shared.client() }

    @Test func planShowMatchesTheDataFile() throws {
        let plan = try client.call(PlanShowRequest())
        let expected = shippedPlan.plan
        #expect(plan.code == expected.code)
        #expect(plan.title == expected.title)
        #expect(plan.vision == expected.vision)
        #expect(plan.values == expected.values)
        #expect(plan.firstYear == expected.firstYear && plan.lastYear == expected.lastYear)
        #expect(plan.introduction == expected.introduction)
        #expect(plan.notes == shippedPlan.notes)
        #expect(plan.counts.indicators == shippedPlan.indicators.count)
        #expect(plan.counts.tasks == shippedPlan.tasks.count)
        #expect(plan.counts.objectives == shippedPlan.objectives.count)
        #expect(plan.counts.strategies == shippedPlan.strategies.count)
        #expect(plan.budget == shippedPlan.budget)
        #expect(client.error(PlanShowRequest(plan: "NO-SUCH-PLAN"))?.code == .notFound)
    }
}

/// plan.import: one transaction, idempotent, a bad file refused whole with the field named.
@Suite("plan import")
struct PlanImportTests {
    @Test func importingTheSameFileTwiceChangesNothing() throws {
        let daemon = try TestDaemon(plan: nil)
        let client = try daemon.client()
        let content = try String(contentsOf: shippedPlanURL, encoding: .utf8)
        let first = try client.call(PlanImportRequest(content: content))
        #expect(first.changedRows > 0)
        #expect(first.indicators == shippedPlan.indicators.count)
        let second = try client.call(PlanImportRequest(content: content))
        #expect(second.changedRows == 0, "second import changed \(second.changes)")
        #expect(second.rows.isEmpty && second.kept.isEmpty)
        #expect(try client.call(IndicatorListRequest()).indicators.count == shippedPlan.indicators.count)
    }

    @Test func aChangedFileChangesOnlyWhatDiffers() throws {
        let daemon = try TestDaemon()
        let client = try daemon.client()
        var document = shippedPlan
        let index = try #require(document.indicators.firstIndex { $0.code == "ComS_011" })
        document.indicators[index].targets["2025/26"] = 1234
        document.tasks[0].partners.append("New Partner")
        let summary = try client.call(PlanImportRequest(content: try encode(document)))
        #expect(summary.changes == ["indicator_values": 1, "task_partners": 1])
        #expect(try client.call(IndicatorShowRequest(code: "ComS_011")).targets["2025/26"] == 1234)
        #expect(try client.call(TaskShowRequest(code: document.tasks[0].code)).partners.last == "New Partner")
    }

    @Test(arguments: [
        ("unknown key", #"{"colour": "red", "# + String(shippedPlanText.dropFirst()), "colour"),
        ("not JSON", "{ nope", ""),
    ])
    func aBrokenFileIsRefused(_ name: String, _ content: String, _ path: String) throws {
        let daemon = try TestDaemon(plan: nil)
        let error = try #require(try daemon.client().error(PlanImportRequest(content: content)))
        #expect(error.code == .invalidParams, "\(name)")
        if !path.isEmpty { #expect(error.data?["path"] == path) }
    }

    @Test func aBadFileIsRefusedWholeNamingTheField() throws {
        let daemon = try TestDaemon()
        let client = try daemon.client()
        let before = try client.call(IndicatorShowRequest(code: "ComS_011"))

        // Valid JSON with one good change and one bad reference: nothing may change.
        var document = shippedPlan
        let good = try #require(document.indicators.firstIndex { $0.code == "ComS_011" })
        document.indicators[good].targets["2025/26"] = 999
        let bad = document.indicators.count - 1
        document.indicators[bad].ownerPost = "Head of Nothing"
        var error = try #require(client.error(PlanImportRequest(content: try encode(document))))
        #expect(error.code == .invalidParams)
        #expect(error.data?["path"] == "indicators[\(bad)] (\(document.indicators[bad].code)).ownerPost")
        #expect(error.message.contains("Head of Nothing"))
        #expect(try client.call(IndicatorShowRequest(code: "ComS_011")) == before)

        // A wrong type, found by the decoder, is named too.
        var json = try JSONSerialization.jsonObject(with: Data(try encode(shippedPlan).utf8)) as! [String: Any]
        var indicators = json["indicators"] as! [[String: Any]]
        indicators[3]["unit"] = 7
        json["indicators"] = indicators
        let text = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        error = try #require(client.error(PlanImportRequest(content: text)))
        #expect(error.code == .invalidParams)
        #expect(error.data?["path"] == "indicators[3].unit")

        // A blank required text late in the file: refused, and the earlier change with it.
        document = shippedPlan
        document.indicators[good].targets["2025/26"] = 999
        document.indicators[bad].title = String(repeating: " ", count: 3)
        error = try #require(client.error(PlanImportRequest(content: try encode(document))))
        #expect(error.code == .invalidParams)
        #expect(try client.call(IndicatorShowRequest(code: "ComS_011")) == before)
    }

    @Test func reimportKeepsWhatPeopleChangedAndReportsIt() throws {
        let daemon = try TestDaemon()
        let client = try daemon.client()
        let moved = try client.call(TaskRescheduleRequest(code: "BCRPASB_28", date: day("2026-06-30"), reason: "Legal review"))
        let updated = try client.call(TaskUpdateRequest(code: "BCRPASB_28", status: .atRisk, progress: 40, note: "Waiting on legal"))
        _ = try client.call(TargetSetRequest(code: "ComS_011", period: Period("2025/26")!, value: 1500, reason: "Review"))

        // The shipped file again: its dates and targets would undo those changes.
        let again = try client.call(PlanImportRequest(content: shippedPlanText))
        #expect(again.changedRows == 0, "\(again.rows)")
        #expect(again.kept == [
            ImportKept(object: "ComS_011", field: "target", period: Period("2025/26"), file: .number(1850), kept: .number(1500),
                       why: .setByAdmin, by: currentLogin, at: again.kept.first?.at),
            ImportKept(object: "BCRPASB_28", field: "target_date", file: .string("2026-03-31"), kept: .string("2026-06-30"),
                       why: .rescheduled, by: currentLogin, at: again.kept.last?.at),
        ])
        #expect(again.kept.allSatisfy { $0.at != nil })
        var task = try client.call(TaskShowRequest(code: "BCRPASB_28")).task
        #expect(task.targetDate == moved.targetDate && task.status == updated.status && task.progress == 40)
        #expect(try client.call(IndicatorShowRequest(code: "ComS_011")).targets["2025/26"] == 1500)

        // A file that moves that date and another task's, and rewords the moved task: what
        // nobody changed through bbcs applies; the moved date stays.
        var document = shippedPlan
        let index28 = try #require(document.tasks.firstIndex { $0.code == "BCRPASB_28" })
        let index27 = try #require(document.tasks.firstIndex { $0.code == "BCRPASB_27" })
        document.tasks[index28].targetDate = day("2026-12-31")
        document.tasks[index28].action += " (revised)"
        document.tasks[index27].targetDate = day("2026-09-30")
        let revised = try client.call(PlanImportRequest(content: try encode(document)))
        #expect(revised.changes == ["tasks": 2])
        #expect(Set(revised.rows.map { "\($0.object) \($0.field ?? "")" }) == ["BCRPASB_28 action", "BCRPASB_27 target_date"])
        #expect(revised.rows.contains(ImportChange(kind: .changed, table: "tasks", object: "BCRPASB_27", field: "target_date",
                                                   before: .string("2026-03-31"), after: .string("2026-09-30"))))
        #expect(revised.kept.map(\.object) == ["ComS_011", "BCRPASB_28"])
        #expect(revised.kept.map(\.file) == [.number(1850), .string("2026-12-31")])
        task = try client.call(TaskShowRequest(code: "BCRPASB_28")).task
        #expect(task.targetDate == day("2026-06-30") && task.status == .atRisk && task.progress == 40)
        #expect(task.action == document.tasks[index28].action)
        #expect(try client.call(TaskShowRequest(code: "BCRPASB_27")).task.targetDate == day("2026-09-30"))
        let history = try client.call(TaskHistoryRequest(code: "BCRPASB_28")).changes
        #expect(history.count == 2)   // the import adds none

        // The client says what stayed and why.
        let cli = try daemon.ctl(["plan", "import", shippedPlanURL.path])
        #expect(cli.status == 0, "\(cli.err)")
        #expect(cli.out.contains("BCRPASB_28 target date 2026-06-30 (the file says 2026-03-31): moved with task reschedule by \(currentLogin)"),
                "\(cli.out)")
        #expect(cli.out.contains("ComS_011 target 2025/26 1500 (the file says 1850): set with target set"), "\(cli.out)")
    }

    @Test func everyChangedRowIsAuditedWithBeforeAndAfter() throws {
        let daemon = try TestDaemon()
        let client = try daemon.client()
        let db = try PGConnection(conninfo: daemon.database)
        let lastBefore = try db.one(Int.self, "SELECT max(id) FROM audit")

        var document = shippedPlan
        let index = try #require(document.indicators.firstIndex { $0.code == "ComS_011" })
        document.indicators[index].targets["2025/26"] = 1234
        document.indicators[index].ownerPost = "Licensing Manager"
        document.tasks[0].partners.append("New Partner")
        let removed = document.strategies.removeLast()
        let summary = try client.call(PlanImportRequest(content: try encode(document)))
        #expect(summary.changes == ["indicator_values": 1, "indicators": 1, "task_partners": 1, "strategies": 1,
                                    "strategy_responsible": removed.responsible.count])
        #expect(summary.rows.contains(ImportChange(kind: .changed, table: "indicators", object: "ComS_011", field: "owner_post_id",
                                                   before: .string("Head of Communities and Community Safety"),
                                                   after: .string("Licensing Manager"))))
        #expect(summary.rows.contains { $0.kind == .removed && $0.table == "strategies" && $0.object == removed.name })
        #expect(summary.rows.contains { $0.kind == .added && $0.object == document.tasks[0].code
                                        && $0.after == .object(["partner": .string("New Partner"), "position": .number(Double(document.tasks[0].partners.count - 1))]) })

        struct Row: Decodable {
            let object: String
            let message: String
            let before: JSONValue?
            let after: JSONValue?
        }
        let audited = try db.rows(Row.self, """
            SELECT object, message, before, after FROM audit WHERE id > \(lastBefore) AND method = 'plan.import' AND outcome = 'ok' ORDER BY id
            """)
        // One row per changed row, then the summary.
        #expect(audited.count == summary.changedRows + 1)
        #expect(audited.last?.message == "plan imported" && audited.last?.object == shippedPlan.plan.code)
        let rows = audited.dropLast()
        #expect(rows.allSatisfy { $0.message.hasSuffix(" added") ? $0.before == nil && $0.after != nil
                                  : $0.message.hasSuffix(" removed") ? $0.before != nil && $0.after == nil
                                  : $0.before != nil && $0.after != nil })
        func column(_ row: JSONValue?, _ name: String) -> JSONValue? {
            if case .object(let columns)? = row { return columns[name] }
            return nil
        }
        let target = try #require(rows.first { $0.object == "ComS_011" && $0.message == "indicator_values changed" })
        #expect(column(target.before, "value") == .number(1850) && column(target.after, "value") == .number(1234))
        let owner = try #require(rows.first { $0.object == "ComS_011" && $0.message == "indicators changed" })
        #expect(column(owner.before, "owner_post_id") != column(owner.after, "owner_post_id"))
        #expect(column(owner.before, "title") == .string(document.indicators[index].title))
        let strategy = try #require(rows.first { $0.object == removed.name && $0.message == "strategies removed" })
        #expect(column(strategy.before, "purpose") == .string(removed.purpose))
        #expect(rows.filter { $0.object == removed.name && $0.message == "strategy_responsible removed" }.count == removed.responsible.count)
        // Through the socket too, by object.
        #expect(try client.call(AuditListRequest(object: "ComS_011")).entries.filter { $0.method == "plan.import" }.count >= 2)
    }

    @Test func aDryRunListsTheChangesAndWritesNothing() throws {
        let daemon = try TestDaemon()
        let client = try daemon.client()
        let db = try PGConnection(conninfo: daemon.database)
        _ = try client.call(TaskRescheduleRequest(code: "BCRPASB_28", date: day("2026-06-30"), reason: "Legal review"))

        var document = shippedPlan
        let index = try #require(document.indicators.firstIndex { $0.code == "ComS_011" })
        document.indicators[index].ownerPost = "Licensing Manager"
        document.indicators[index].targets["2025/26"] = 1234
        let index27 = try #require(document.tasks.firstIndex { $0.code == "BCRPASB_27" })
        document.tasks[index27].targetDate = day("2026-09-30")
        let removed = document.strategies.removeLast()
        let file = daemon.directory.appendingPathComponent("revised-plan.json")
        try encode(document).write(to: file, atomically: true, encoding: .utf8)

        // The scheduler's first run is over once a run of ours returns; later runs add nothing.
        _ = try client.call(SchedulerRunRequest())
        let before = try digest(db)
        let dry = try client.call(PlanImportRequest(content: try encode(document), dryRun: true))
        #expect(try digest(db) == before)
        #expect(dry.dryRun)
        #expect(dry.changes["indicators"] == 1 && dry.changes["indicator_values"] == 1 && dry.changes["tasks"] == 1
                && dry.changes["strategies"] == 1)
        #expect(dry.rows.contains(ImportChange(kind: .changed, table: "tasks", object: "BCRPASB_27", field: "target_date",
                                               before: .string("2026-03-31"), after: .string("2026-09-30"))))
        #expect(dry.kept.map(\.object) == ["BCRPASB_28"])

        let cli = try daemon.ctl(["plan", "import", file.path, "--dry-run"])
        #expect(try digest(db) == before)
        #expect(cli.status == 0, "\(cli.err)")
        for line in [
            "rows would change; dry run, nothing written",
            "changed task BCRPASB_27 target date: 2026-03-31 → 2026-09-30",
            "changed indicator ComS_011 owner post: Head of Communities and Community Safety → Licensing Manager",
            "changed indicator value ComS_011 (kind target, period 2025/26) value: 1850 → 1234",
            "removed strategy \(removed.name): ",
            "BCRPASB_28 target date 2026-06-30 (the file says 2026-03-31): moved with task reschedule",
        ] {
            #expect(cli.out.contains(line), "\(line) in \(cli.out)")
        }

        // The import itself makes exactly the changes the dry run listed.
        var real = try client.call(PlanImportRequest(content: try encode(document)))
        #expect(try digest(db) != before)
        #expect(!real.dryRun)
        real.dryRun = true
        #expect(real == dry)
    }

    /// A digest of every table's rows, the audit trail included.
    private func digest(_ db: PGConnection) throws -> String {
        let tables = try db.rows(String.self, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        return try tables.map { table in
            try db.one(String.self, "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \(identifier: table) t")
        }.joined(separator: ",")
    }

    private func day(_ text: String) -> CalendarDate { CalendarDate(iso: text)! }

    private func encode(_ document: PlanDocument) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}
