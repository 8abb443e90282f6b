import BBCSClient
import BBCSCore
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

    private func encode(_ document: PlanDocument) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}
