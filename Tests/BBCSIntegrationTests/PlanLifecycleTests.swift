import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// The plan over its life, over the real socket: the shipped plan with a year of figures from
/// CSV, its annual revision (diffed first, then imported: history kept, retired indicators
/// and tasks out of current lists, targets saying where they came from), a second plan beside
/// it with a code of its own and one shared, the council-wide corporate report, and the
/// open-data files.
@Suite("plan revisions, several plans and the corporate report", .serialized)
struct PlanLifecycleTests {
    let daemon: TestDaemon
    let db: PGConnection
    let retiredIndicator = "ComS_093a", addedIndicator = "ComS_200", addedTask = "NEWTASK_1"
    var retiredTask: String { shippedPlan.tasks.last!.code }

    init() throws {
        daemon = try TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])
        db = try PGConnection(conninfo: daemon.database)
    }

    func write(_ text: String, _ name: String) throws -> String {
        let path = daemon.directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        return path
    }

    /// The shipped plan's second revision: a year more (2028/29), one indicator and one task
    /// retired, one of each added, a target for the new year.
    func revisedPlan() throws -> String {
        var plan = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: shippedPlanURL)) as? [String: Any])
        var head = try #require(plan["plan"] as? [String: Any])
        head["revision"] = 2
        head["lastYear"] = "2028/29"
        plan["plan"] = head
        var indicators = try #require(plan["indicators"] as? [[String: Any]])
        let template = try #require(indicators.first { $0["code"] as? String == "ComS_011" })
        indicators.removeAll { $0["code"] as? String == retiredIndicator }
        for i in indicators.indices where indicators[i]["code"] as? String == "ComS_011" {
            var targets = try #require(indicators[i]["targets"] as? [String: Any])
            targets["2028/29"] = 1700
            indicators[i]["targets"] = targets
        }
        var added = template
        added["code"] = addedIndicator
        added["title"] = "An indicator the second revision adds"
        added["aliases"] = [String]()
        added["isNew"] = true
        added["actuals"] = [String: Any]()
        added["targets"] = ["2028/29": 10]
        indicators.append(added)
        plan["indicators"] = indicators
        var tasks = try #require(plan["tasks"] as? [[String: Any]])
        var task = tasks[0]
        tasks.removeAll { $0["code"] as? String == retiredTask }
        task["code"] = addedTask
        task["aliases"] = [String]()
        task["action"] = "A task the second revision adds"
        tasks.append(task)
        plan["tasks"] = tasks
        let data = try JSONSerialization.data(withJSONObject: plan, options: [.prettyPrinted, .sortedKeys])
        return try write(String(decoding: data, as: UTF8.self), "revision-2.json")
    }

    @Test func aPlanIsRevisedWithItsHistoryKeptThenJoinedByASecondPlan() throws {
        // A year of figures from the council's spreadsheet.
        let year = try write("""
            code,period,value
            ComS_011,2025/26 Q1,430
            ComS_011,2025/26 Q2,470
            ComS_011,2025/26 Q3,455
            ComS_011,2025/26 Q4,440
            ComS_093a,2025/26 Q1,12
            ComS_093a,2025/26 Q2,10
            ComS_093a,2025/26 Q3,11
            ComS_093a,2025/26 Q4,13
            """, "year.csv")
        let imported = try daemon.ctl(["figure", "import", year])
        #expect(imported.status == 0 && imported.out.contains("submitted 8"), "\(imported.out)\(imported.err)")

        // The diff says exactly what the revision would do, and writes nothing.
        let revised = try revisedPlan()
        let diff = try daemon.ctl(["plan", "diff", revised])
        #expect(diff.status == 0, "\(diff.err)")
        for line in ["plan CS-2025-2028: revision 1 → revision 2", "- indicator \(retiredIndicator) retired", "+ indicator \(addedIndicator) added",
                     "- task \(retiredTask) retired", "+ task \(addedTask) added", "~ changed plan CS-2025-2028 last year: 2027/28 → 2028/29",
                     "+ added indicator value ComS_011: kind target, period 2028/29, set by admin no, set in revision 2, value 1700", "nothing was written"] {
            #expect(diff.out.contains(line), "\(line)\n\(diff.out)")
        }
        #expect(try db.query("SELECT count(*) FROM plan_revisions").int(0, 0) == 1)
        #expect(try db.query("SELECT max(revision) FROM plans").int(0, 0) == 1)

        let applied = try daemon.ctl(["plan", "import", revised])
        #expect(applied.status == 0 && applied.out.contains("revision 2"), "\(applied.out)\(applied.err)")

        // Retired: out of current lists and reports, still readable, its figures kept, owed none.
        let current = try daemon.ctl(["indicators"])
        #expect(current.status == 0 && !current.out.contains(retiredIndicator) && current.out.contains(addedIndicator))
        let everything = try daemon.ctl(["indicators", "--all"])
        #expect(everything.out.contains("\(retiredIndicator) (retired in revision 2)"), "\(everything.out)")
        #expect(!(try daemon.ctl(["tasks"])).out.contains(retiredTask))
        #expect((try daemon.ctl(["tasks", "--all"])).out.contains("\(retiredTask) (retired in revision 2)"))
        let c = try daemon.client()
        #expect(try c.call(FigureHistoryRequest(code: retiredIndicator)).revisions.count == 4)
        let refused = c.error(FigureSubmitRequest(code: retiredIndicator, period: Period("2026/27 Q1")!, value: 9))
        #expect(refused?.code == .conflict && refused?.message.contains("retired by revision 2") == true, "\(String(describing: refused))")
        let report = try daemon.ctl(["report", "--period", "2025/26", "--format", "csv"])
        #expect(report.status == 0 && !report.out.contains(",\(retiredIndicator),") && report.out.contains(",ComS_011,"))
        #expect(!(try c.call(FigureDueRequest(all: true))).figures.contains { $0.indicator == retiredIndicator })

        // Each target says where it came from.
        _ = try c.call(TargetSetRequest(code: "ComS_011", period: Period("2027/28")!, value: 1750, reason: "Cabinet raised the bar"))
        let shown = try daemon.ctl(["indicator", "show", "ComS_011"])
        for part in ["2025/26 1850 (plan revision 1)", "2028/29 1700 (plan revision 2)", "2027/28 1750 (set by \(currentLogin) on ", ": Cabinet raised the bar)"] {
            #expect(shown.out.contains(part), "\(part)\n\(shown.out)")
        }

        // The revisions loaded, oldest first; an older revision is refused whole.
        let history = try c.call(PlanHistoryRequest())
        #expect(history.revisions.map(\.revision) == [1, 2])
        #expect(history.revisions[1].source?.hasSuffix("revision-2.json") == true && history.revisions[1].sha256?.count == 64)
        #expect(history.revisions[1].added == ["indicator \(addedIndicator)", "task \(addedTask)"])
        #expect(history.revisions[1].retired == ["indicator \(retiredIndicator)", "task \(retiredTask)"])
        #expect((try daemon.ctl(["plan", "history"])).out.contains("revision-2.json"))
        let older = try daemon.ctl(["plan", "import", shippedPlanURL.path])
        #expect(older.status != 0 && older.err.contains("a plan is revised forward only"), "\(older.err)")
        #expect(try db.query("SELECT count(*) FROM indicators WHERE retired_in IS NOT NULL").int(0, 0) == 1)

        // A second plan: shared posts, its own codes, one code both plans use.
        let housing = packageRoot.appendingPathComponent("Tests/Fixtures/test-housing-plan.json").path
        let second = try daemon.ctl(["plan", "import", housing])
        #expect(second.status == 0, "\(second.err)")
        let unnamed = try daemon.ctl(["indicators"])
        #expect(unnamed.status != 0 && unnamed.err.contains("2 plans (CS-2025-2028, HOU-TEST): name one with --plan"), "\(unnamed.err)")
        let listed = try daemon.ctl(["indicators", "--plan", "HOU-TEST"])
        #expect(listed.status == 0 && listed.out.contains("HOU_001") && !listed.out.contains("ComS_012") && listed.out.contains("3 indicators"))
        #expect((try daemon.ctl(["objectives", "--plan", "hou-test"])).out.contains("H1"))
        let shared = c.error(IndicatorShowRequest(code: "ComS_011"))
        #expect(shared?.message == "indicator ComS_011 is in 2 plans: name it as CS-2025-2028:ComS_011 or HOU-TEST:ComS_011", "\(String(describing: shared))")
        #expect(try c.call(IndicatorShowRequest(code: "HOU-TEST:ComS_011")).indicator.title.contains("estates"))
        #expect(try c.call(IndicatorShowRequest(code: "HOU_001")).indicator.code == "HOU_001")
        let housingFigures = try write("""
            plan,code,period,value,note
            HOU-TEST,HOU_001,2025/26 Q1,410,Two estates emptied for repairs
            HOU-TEST,ComS_011,2025/26,60,Disorder on one estate
            HOU-TEST,HOU_002,2025/26,93,
            """, "housing.csv")
        let housingImport = try daemon.ctl(["figure", "import", housingFigures])
        #expect(housingImport.status == 0 && housingImport.out.contains("submitted 3"), "\(housingImport.out)\(housingImport.err)")
        let bare = try write("code,period,value\nComS_011,2025/26,61\n", "bare.csv")
        let ambiguous = try daemon.ctl(["figure", "import", bare])
        #expect(ambiguous.status != 0 && ambiguous.err.contains("line 2, column code: indicator ComS_011 is in 2 plans"), "\(ambiguous.err)")

        // The council-wide summary: every plan by its priority, exceptions first.
        let corporate = try daemon.ctl(["report", "--corporate", "--period", "2025/26"])
        #expect(corporate.status == 0, "\(corporate.err)")
        let text = corporate.out
        #expect(text.contains("[Housing / HOU-TEST] red: ComS_011"), "\(text)")
        let exceptionsAt = try #require(text.range(of: "Exceptions")).lowerBound, tableAt = try #require(text.range(of: "Priority / plan")).lowerBound
        #expect(exceptionsAt < tableAt)
        let json = try daemon.ctl(["--json", "report", "--corporate", "--period", "2025/26"])
        let summary = try WireCoding.decoder().decode(CorporateReport.self, from: Data(json.out.utf8))
        #expect(summary.priorities.map(\.name) == ["Community Safety", "Housing"])
        #expect(summary.priorities[1].plans.map(\.plan) == ["HOU-TEST"] && summary.priorities[1].tally.indicators == 3)
        #expect(summary.priorities[1].tally.rag.values.reduce(0, +) == 3 && (summary.priorities[1].tally.rag["red"] ?? 0) >= 1, "\(summary.priorities[1])")
        #expect(summary.totals.indicators == summary.priorities.map(\.tally.indicators).reduce(0, +))
        #expect(summary.priorities[0].tally.indicators == shippedPlan.indicators.count)

        // Open data: stable columns, ISO dates, a CSVW description beside the file.
        let csv = daemon.directory.appendingPathComponent("housing-figures.csv").path, meta = csv + "-metadata.json"
        let export = try daemon.ctl(["figure", "export", "--plan", "HOU-TEST", "-o", csv, "--metadata", meta])
        #expect(export.status == 0, "\(export.err)")
        let exported = try String(contentsOfFile: csv, encoding: .utf8)
        #expect(exported.hasPrefix("plan,code,period,period_start,period_end,value,note,forecast,provisional,reason\r\n"))
        #expect(exported.contains("HOU-TEST,HOU_001,2025/26 Q1,2025-04-01,2025-06-30,410,Two estates emptied for repairs,,no,\r\n"), "\(exported)")
        let described = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: meta))) as? [String: Any])
        #expect(described["@context"] as? String == "http://www.w3.org/ns/csvw" && described["url"] as? String == "housing-figures.csv")
        let columns = try #require((described["tableSchema"] as? [String: Any])?["columns"] as? [[String: Any]])
        #expect(columns.compactMap { $0["name"] as? String } == FigureCSV.columns)
        #expect((described["dc:license"] as? [String: Any])?["@id"] as? String == OpenData.licence)
        let back = try daemon.ctl(["figure", "import", csv])
        #expect(back.status == 0 && back.out.contains("unchanged 3 of 3 lines"), "\(back.out)\(back.err)")
        let wrongDay = try write("plan,code,period,period_start,value\nHOU-TEST,HOU_001,2025/26 Q2,2025-04-01,90\n", "wrong-day.csv")
        let refusedDay = try daemon.ctl(["figure", "import", wrongDay])
        #expect(refusedDay.status != 0 && refusedDay.err.contains("column period_start: \"2025-04-01\" is not the first day of 2025/26 Q2, 2025-07-01"),
                "\(refusedDay.err)")
        let reportCSV = try daemon.ctl(["report", "--plan", "HOU-TEST", "--period", "2025/26 Q1", "--format", "csv"])
        #expect(reportCSV.out.hasPrefix(OpenData.report.names.joined(separator: ",") + "\r\n"))
        #expect(reportCSV.out.contains("HOU-TEST,indicator,kpi,HOU_001,Homes empty for over six months,2025/26 Q1,2025-04-01,2025-06-30,410,"), "\(reportCSV.out)")
    }
}
