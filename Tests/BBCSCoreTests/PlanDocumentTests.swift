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

    @Test func notJSONIsRefused() {
        #expect(throws: PlanFileError.self) { try PlanDocument.load(from: Data("{ nope".utf8)) }
    }
}
