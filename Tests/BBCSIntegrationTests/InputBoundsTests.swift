import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// Periods, dates, numbers and text beyond what the daemon can hold are refused as
/// `invalid_params` naming the parameter, over the real socket, before anything reaches SQL;
/// nothing is stored, and the daemon keeps serving. Its clock is at 10 July 2026.
@Suite("input bounds, over the socket")
struct InputBoundsTests {
    static let daemon = try! TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])

    func client() throws -> Client { try Self.daemon.client() }

    /// The error of a request sent raw: its code, message and the parameter its data names.
    func error(_ method: String, _ params: [String: Any]) throws -> (code: String?, message: String, param: String?) {
        let line = try JSONSerialization.data(withJSONObject: ["id": 1, "method": method, "params": params])
        let reply = try JSONSerialization.jsonObject(with: try client().exchange(rawLine: line)) as? [String: Any] ?? [:]
        let error = reply["error"] as? [String: Any]
        return (error?["code"] as? String, error?["message"] as? String ?? "", (error?["data"] as? [String: Any])?["param"] as? String)
    }

    func error(_ method: String, json params: String) throws -> (code: String?, message: String, param: String?) {
        try error(method, try JSONSerialization.jsonObject(with: Data(params.utf8)) as? [String: Any] ?? [:])
    }

    @Test(arguments: [
        ("report.build", #"{"period": "2099/00"}"#),
        ("report.build", #"{"period": "2099/00 Q1"}"#),
        ("report.build", #"{"period": "1900/01"}"#),
        ("report.build", #"{"period": "2024/25 Q4"}"#),
        ("figure.submit", #"{"code": "ComS_011", "period": "2099/00 Q1", "value": 1}"#),
        ("figure.correct", #"{"code": "ComS_011", "period": "2099/00 Q1", "value": 1, "reason": "r", "revision": 1}"#),
        ("figure.validate", #"{"code": "ComS_011", "period": "2099/00 Q1"}"#),
        ("figure.history", #"{"code": "ComS_011", "period": "2099/00 Q1"}"#),
        ("target.set", #"{"code": "ComS_011", "period": "2099/00", "value": 1, "reason": "r"}"#),
    ])
    func aPeriodOutsideThePlansYearsIsRefusedNamingThem(_ method: String, _ params: String) throws {
        let refused = try error(method, json: params)
        let period = try #require(try JSONSerialization.jsonObject(with: Data(params.utf8)) as? [String: Any])["period"] as? String
        #expect(refused.code == "invalid_params" && refused.param == "period", "\(method): \(refused)")
        #expect(refused.message == "\(period ?? "") is outside the plan's years 2025/26 to 2027/28", "\(method): \(refused)")
    }

    /// A period outside the plan's years still reads the figures stored there (history is
    /// always readable): only a period with nothing stored is refused.
    @Test func historyOutsideThePlanIsRefusedOnlyWhenNothingIsStoredThere() throws {
        let c = try client()
        let earlier = Period("2024/25 Q1")!
        let refused = try #require(c.error(FigureHistoryRequest(code: "ComS_012", period: earlier)))
        #expect(refused.code == .invalidParams && refused.data?["param"] == "period", "\(refused)")
        // A figure kept from years the plan ran before a re-import moved them on.
        let db = try PGConnection(conninfo: Self.daemon.database)
        _ = try db.query("""
            INSERT INTO figures (indicator_id, period, revision, value, submitted_by)
            SELECT id, $1, 1, 7, 'test' FROM indicators WHERE code = 'ComS_012'
            """, [earlier.description])
        #expect(try c.call(FigureHistoryRequest(code: "ComS_012", period: earlier)).revisions.map(\.value) == [7])
    }

    @Test(arguments: [
        (["firstYear": "1900/01"], "plan.firstYear"),
        (["lastYear": "9998/99"], "plan.lastYear"),
        (["lastYear": "2060/61"], "plan.lastYear"),
    ])
    func aPlanFileWithAbsurdYearsIsRefused(_ years: [String: String], _ path: String) throws {
        var plan = try #require(try JSONSerialization.jsonObject(with: Data(shippedPlanText.utf8)) as? [String: Any])
        var header = try #require(plan["plan"] as? [String: Any])
        for (key, year) in years { header[key] = year }
        plan["plan"] = header
        let content = String(decoding: try JSONSerialization.data(withJSONObject: plan), as: UTF8.self)
        let refused = try #require(try client().error(PlanImportRequest(content: content, dryRun: true)))
        #expect(refused.code == .invalidParams && refused.data?["path"] == path, "\(refused)")
        #expect(Self.daemon.process.isRunning)
    }

    /// Dates, names and amounts in a plan file that the database could not hold as written:
    /// the whole file is refused, naming the field, and the plan stays as it was.
    @Test func aPlanFileBeyondWhatTheDatabaseHoldsIsRefused() throws {
        func refusal(_ change: (inout [String: Any]) -> Void) throws -> String? {
            var plan = try #require(try JSONSerialization.jsonObject(with: Data(shippedPlanText.utf8)) as? [String: Any])
            change(&plan)
            let content = String(decoding: try JSONSerialization.data(withJSONObject: plan), as: UTF8.self)
            let refused = try #require(try client().error(PlanImportRequest(content: content)))
            #expect(refused.code == .invalidParams, "\(refused)")
            return refused.data?["path"]
        }
        func edit(_ plan: inout [String: Any], _ list: String, _ key: String, _ value: Any) {
            var items = plan[list] as? [[String: Any]] ?? []
            items[0][key] = value
            plan[list] = items
        }
        let shown = try client().call(PlanShowRequest())
        let task = try #require(shippedPlan.tasks.first?.code)
        #expect(try refusal { edit(&$0, "tasks", "targetDate", "0000-01-01") } == "tasks[0] (\(task)).targetDate")
        #expect(try refusal { edit(&$0, "posts", "name", String(repeating: "Manager ", count: 200)) } == "posts[0].name")
        #expect(try refusal { edit(&$0, "posts", "name", "Licensing\u{0}Manager") } == "posts[0].name")
        #expect(try refusal { edit(&$0, "strategies", "renewalDate", "0000-01-01") } == "strategies[0].renewalDate")
        #expect(try refusal { edit(&$0, "budget", "amounts", ["2025/26": 1e300]) } == "budget[0].amounts.2025/26")
        #expect(try client().call(PlanShowRequest()) == shown)
    }

    @Test(arguments: [
        ("task.list", #"{"dueBefore": "0000-01-01"}"#, "dueBefore"),
        ("task.list", #"{"dueAfter": "0000-12-31"}"#, "dueAfter"),
        ("task.list", #"{"dueWithin": 2147483647}"#, "dueWithin"),
        ("task.list", #"{"dueWithin": -1}"#, "dueWithin"),
        ("audit.list", #"{"since": "0000-01-01"}"#, "since"),
        ("audit.list", #"{"limit": 2147483648}"#, "limit"),
        ("post.grant", #"{"login": "nobody", "post": "Licensing Manager", "until": "0000-01-01"}"#, "until"),
        ("task.reschedule", #"{"code": "BCRPASB_27", "date": "0000-01-01", "reason": "r"}"#, "date"),
        ("figure.correct", #"{"code": "ComS_011", "period": "2025/26 Q1", "value": 1, "reason": "r", "revision": 4294967296}"#, "revision"),
        ("task.update", #"{"code": "BCRPASB_27", "progress": 2147483648, "note": "n"}"#, "progress"),
        // Replies may carry a stored infinity as "Infinity"; no request may send one in.
        ("figure.submit", #"{"code": "ComS_011", "period": "2025/26 Q1", "value": "Infinity"}"#, "value"),
        ("target.set", #"{"code": "ComS_100", "period": "2026/27", "value": 450, "tolerance": "NaN", "reason": "r"}"#, "tolerance"),
    ])
    func datesAndNumbersBeyondTheirRangeAreRefused(_ method: String, _ params: String, _ param: String) throws {
        let refused = try error(method, json: params)
        #expect(refused.code == "invalid_params" && refused.param == param, "\(method): \(refused)")
    }

    @Test func aNameWithNULOrOfNineHundredKilobytesIsRefused() throws {
        for name in ["Community\u{0}Warden", String(repeating: "W", count: 900_000)] {
            let refused = try error("post.add", ["name": name])
            #expect(refused.code == "invalid_params" && refused.param == "name", "\(refused.code ?? "-") \(refused.message.prefix(200))")
            #expect(refused.message.utf8.count < 200, "\(refused.message.prefix(300))")
        }
        let posts = try client().call(PostListRequest()).posts.map(\.name)
        #expect(!posts.contains { $0.hasPrefix("Community") || $0.hasPrefix("WWW") })
    }

    /// A name is one line: a line break or tab in it would break every listing that shows it.
    /// A note may run over several lines.
    @Test func aNameWithALineBreakIsRefusedANoteMayHaveOne() throws {
        for (name, scalar) in [("Warden\nrm -rf ~", "U+000A"), ("Tab\there", "U+0009"), ("Line\u{2028}separator", "U+2028"), ("Esc\u{1B}[2J", "U+001B")] {
            let refused = try error("post.add", ["name": name])
            #expect(refused.code == "invalid_params" && refused.param == "name" && refused.message.contains(scalar), "\(refused)")
        }
        let posts = try client().call(PostListRequest()).posts.map(\.name)
        #expect(!posts.contains { $0.hasPrefix("Warden") || $0.hasPrefix("Tab") })
        let note = "Stage one done.\nStage two starts in May."
        _ = try client().call(TaskUpdateRequest(code: "BCRPASB_29", status: .onTrack, note: note))
        #expect(try client().call(TaskHistoryRequest(code: "BCRPASB_29")).changes.contains { $0.note == note })
    }

    /// A NUL used to be cut off at the database, storing half the note without a word.
    @Test func aNoteWithNULIsRefusedNotTruncated() throws {
        let refused = try error("task.update", ["code": "BCRPASB_29", "status": "on_track", "note": "Phase one\u{0}and the rest"])
        #expect(refused.code == "invalid_params" && refused.param == "note", "\(refused)")
        let changes = try client().call(TaskHistoryRequest(code: "BCRPASB_29")).changes
        #expect(!changes.contains { $0.note.hasPrefix("Phase one") })
    }

    /// Clients learn the bounds from `system.describe`.
    @Test func describeListsEachParametersBounds() throws {
        let methods = try client().call(DescribeRequest()).methods
        func parameter(_ method: String, _ name: String) -> ParameterInfo? {
            methods.first { $0.name == method }?.params.first { $0.name == name }
        }
        #expect(parameter("post.add", "name")?.maxLength == InputBounds.nameLength)
        #expect(parameter("task.update", "note")?.maxLength == InputBounds.textLength)
        #expect(parameter("plan.import", "content")?.maxLength == nil)
        #expect(parameter("task.list", "dueWithin").map { [$0.minimum, $0.maximum] } == [0, 36_525])
        #expect(parameter("figure.correct", "revision")?.maximum == Int(Int32.max))
    }

    /// Every text, date and integer parameter of every method, each in turn beyond its
    /// bounds, next to valid values for the required others: always `invalid_params` naming it.
    @Test(arguments: builtinRequests.map { $0.method })
    func everyParameterIsBoundedBeforeItsHandlerRuns(_ method: String) throws {
        let type = try #require(builtinRequests.first { $0.method == method })
        let valid: [String: Any] = [
            "code": "ComS_011", "period": "2025/26 Q1", "value": 1, "reason": "r", "revision": 1, "note": "n", "login": currentLogin,
            "post": "Licensing Manager", "name": "n", "date": "2026-09-30", "id": 1, "content": "{}",
            "deadline": "2026-09-30", "meeting": "Cabinet", "round": "2025/26 Q1", "number": "CS-2025/26-Q1-1", "risk": "KSR1",
            "likelihood": 1, "impact": 1,
        ]
        for parameter in type.parameters {
            let hostile: [Any]
            switch parameter.type {
            case "string": hostile = ["a\u{0}b", String(repeating: "x", count: 900_000)]
            case "date": hostile = ["0000-01-01"]
            case "integer": hostile = [2_147_483_648, -2_147_483_649]
            default: continue
            }
            for value in hostile {
                var params: [String: Any] = [:]
                for other in type.parameters where other.required { params[other.name] = valid[other.name] }
                params[parameter.name] = value
                let refused = try error(method, params)
                #expect(refused.code == "invalid_params", "\(method).\(parameter.name): \(refused.code ?? "-") \(refused.message.prefix(200))")
                // A plan file is refused by the loader, which names the place in the file instead.
                if method != PlanImportRequest.method {
                    #expect(refused.param == parameter.name, "\(method).\(parameter.name): \(refused.message.prefix(200))")
                }
            }
        }
        #expect(Self.daemon.process.isRunning)
    }
}
