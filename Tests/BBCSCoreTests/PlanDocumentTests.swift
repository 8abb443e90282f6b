import BBCSCore
import BBCSTestSupport
import Foundation
import Testing

@Suite("plan data file")
struct PlanDocumentTests {
    static let shippedData = Data(shippedPlanText.utf8)

    func shipped() throws -> [String: Any] { try JSONSerialization.jsonObject(with: Self.shippedData) as! [String: Any] }

    func load(_ object: [String: Any]) throws(PlanFileError) -> PlanDocument {
        try PlanDocument.load(from: try! JSONSerialization.data(withJSONObject: object))
    }

    func error(_ object: [String: Any]) -> PlanFileError? {
        do { _ = try load(object); return nil } catch { return error }
    }

    @Test func theShippedPlanLoads() throws {
        let plan = try PlanDocument.load(from: Self.shippedData)
        #expect(plan.plan.council == "Broxtowe Borough Council")
        #expect(plan.objectives.map(\.code) == ["CS1", "CS2", "CS3"])
        #expect(plan.indicators.count >= 60)
        #expect(plan.tasks.count >= 30)
        let codes = Set(plan.indicators.map(\.code))
        for code in ["ComS_001", "ComS_011", "ComS_012a", "ComS_012d", "ComS_013c", "ComS_014d", "ComS_015c", "ComS_024a",
                     "ComS_024b", "ComS_093a", "ComS_093b", "ComS_093d", "ComS_100", "ComS_101"] {
            #expect(codes.contains(code), "\(code)")
        }
        // Spot checks against the document.
        let allCrime = try #require(plan.indicators.first { $0.code == "ComS_001" })
        #expect(allCrime.actuals == ["2021/22": 6358, "2022/23": 7162, "2023/24": 7123])
        #expect(allCrime.targets == ["2024/25": 7000, "2025/26": 7000, "2026/27": 7000, "2027/28": 7000])
        let task = try #require(plan.tasks.first { $0.code == "BCRPASB_27" })
        #expect(task.targetDate == CalendarDate(year: 2026, month: 3, day: 31))
        #expect(task.responsiblePosts == ["Communities and Crime Manager"])
        // Every spelling of a post maps to one canonical name.
        #expect(plan.canonicalPostNames["Communities and Crime manager"] == "Communities and Crime Manager")
    }

    @Test func anUnknownKeyIsNamed() throws {
        var object = try shipped()
        var indicators = object["indicators"] as! [[String: Any]]
        indicators[2]["colour"] = "red"
        object["indicators"] = indicators
        #expect(error(object) == PlanFileError(path: "indicators[2].colour", problem: "is not a known field"))
    }

    @Test func aMissingFieldIsNamed() throws {
        var object = try shipped()
        var tasks = object["tasks"] as! [[String: Any]]
        tasks[5].removeValue(forKey: "action")
        object["tasks"] = tasks
        #expect(error(object)?.path == "tasks[5].action")
        #expect(error(object)?.problem == "is missing")
    }

    @Test func aWrongTypeIsNamed() throws {
        var object = try shipped()
        var indicators = object["indicators"] as! [[String: Any]]
        indicators[0]["actuals"] = ["2021/22": "lots"]
        object["indicators"] = indicators
        #expect(error(object)?.path.hasPrefix("indicators[0].actuals") == true)
    }

    @Test func aBadEnumIsNamed() throws {
        var object = try shipped()
        var indicators = object["indicators"] as! [[String: Any]]
        indicators[1]["unit"] = "pounds"
        object["indicators"] = indicators
        #expect(error(object)?.path == "indicators[1].unit")
    }

    @Test func badReferencesAndValuesAreNamed() throws {
        var object = try shipped()
        var indicators = object["indicators"] as! [[String: Any]]
        let code = indicators[4]["code"] as! String
        indicators[4]["parent"] = "ComS_999"
        object["indicators"] = indicators
        #expect(error(object)?.path == "indicators[4] (\(code)).parent")

        object = try shipped()
        indicators = object["indicators"] as! [[String: Any]]
        indicators[4]["targets"] = ["2025-26": 4]
        object["indicators"] = indicators
        #expect(error(object)?.path == "indicators[4] (\(code)).targets.2025-26")

        object = try shipped()
        indicators = object["indicators"] as! [[String: Any]]
        indicators[4]["unit"] = "count"
        indicators[4]["actuals"] = ["2021/22": 2.5]
        object["indicators"] = indicators
        #expect(error(object)?.problem.contains("whole number") == true)

        object = try shipped()
        indicators = object["indicators"] as! [[String: Any]]
        indicators[4]["actuals"] = ["2021/22": -1]
        object["indicators"] = indicators
        #expect(error(object)?.problem.contains("from 0 up") == true)

        object = try shipped()
        var tasks = object["tasks"] as! [[String: Any]]
        tasks[0]["targetDate"] = "2026-02-30"
        object["tasks"] = tasks
        #expect(error(object)?.path == "tasks[0].targetDate")

        object = try shipped()
        tasks = object["tasks"] as! [[String: Any]]
        tasks[1]["code"] = tasks[0]["code"]
        object["tasks"] = tasks
        #expect(error(object)?.path == "tasks[1].code")

        object = try shipped()
        tasks = object["tasks"] as! [[String: Any]]
        tasks[2]["responsiblePosts"] = ["Nobody In Particular"]
        object["tasks"] = tasks
        #expect(error(object)?.path.hasSuffix(".responsiblePosts[0]") == true)

        object = try shipped()
        object["format"] = 2
        #expect(error(object)?.path == "format")
    }

    @Test func aParentLoopIsRefused() throws {
        var object = try shipped()
        var indicators = object["indicators"] as! [[String: Any]]
        let a = indicators[0]["code"] as! String, b = indicators[1]["code"] as! String
        indicators[0]["parent"] = b
        indicators[1]["parent"] = a
        object["indicators"] = indicators
        #expect(error(object)?.problem == "parents form a loop")
    }

    /// Years a typo would give (the first parsable year, the last, a plan of decades) are
    /// refused by name; the plan's own years and a twenty-year plan load.
    @Test(arguments: [
        ("1900/01", "2027/28", "plan.firstYear"), ("2025/26", "9998/99", "plan.lastYear"), ("1999/00", "2001/02", "plan.firstYear"),
        ("2025/26", "2045/46", "plan.lastYear"), ("2025/26", "2044/45", nil), ("2000/01", "2019/20", nil),
    ])
    func thePlansYearsAreBounded(_ first: String, _ last: String, _ path: String?) throws {
        var object = try shipped()
        var header = object["plan"] as! [String: Any]
        header["firstYear"] = first
        header["lastYear"] = last
        object["plan"] = header
        #expect(error(object)?.path == path, "\(first) to \(last): \(String(describing: error(object)))")
    }

    @Test func textWithANULAnywhereIsRefused() throws {
        var object = try shipped()
        var indicators = object["indicators"] as! [[String: Any]]
        indicators[3]["comments"] = "before\u{0}after"
        object["indicators"] = indicators
        #expect(error(object) == PlanFileError(path: "indicators[3].comments", problem: "contains a NUL character, which no text may hold"))
    }

    @Test func inputBoundsCountScalarsAndRefuseNUL() {
        #expect(InputBounds.problem(text: String(repeating: "é", count: 200), maxLength: 200) == nil)
        // One character of many combining marks is many scalars: what reaches an index is bounded.
        #expect(InputBounds.problem(text: "e" + String(repeating: "\u{301}", count: 200), maxLength: 200) != nil)
        #expect(InputBounds.problem(text: "a\u{0}", maxLength: nil) != nil)
        #expect(InputBounds.problem(date: CalendarDate(iso: "0000-01-01")!) == "must be a date from 1900-01-01 to 9999-12-31")
        #expect(InputBounds.problem(date: CalendarDate(iso: "9999-12-31")!) == nil)
    }

    @Test func notJSONIsRefused() {
        #expect(throws: PlanFileError.self) { try PlanDocument.load(from: Data("{ nope".utf8)) }
    }
}
