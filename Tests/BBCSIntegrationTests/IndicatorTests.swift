import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// indicator.list and indicator.show against the data file.
@Suite("indicators")
struct IndicatorTests {
    let client: Client

    init() throws { client = try ReadOnlyDaemon.shared.client() }

    @Test func indicatorListHasEveryIndicatorInDocumentOrder() throws {
        let all = try client.call(IndicatorListRequest()).indicators
        #expect(all.map(\.code) == shippedPlan.indicators.map(\.code))
        // The sub-indicators the plan is known for are all there.
        for code in ["ComS_012a", "ComS_012b", "ComS_012c", "ComS_012d", "ComS_013a", "ComS_013d", "ComS_014a", "ComS_014d",
                     "ComS_015a", "ComS_015b", "ComS_015c", "ComS_024a", "ComS_024b", "ComS_093a", "ComS_093b", "ComS_093d"] {
            #expect(all.contains { $0.code == code }, "\(code) missing")
        }
    }

    @Test(arguments: [
        IndicatorListRequest(objective: "CS1"),
        IndicatorListRequest(category: .kpi),
        IndicatorListRequest(serviceArea: "Licensing"),
        IndicatorListRequest(ownerPost: "Licensing Manager"),
        IndicatorListRequest(objective: "CS2", category: .mpi),
    ])
    func indicatorListFilters(_ request: IndicatorListRequest) throws {
        let got = try client.call(request).indicators.map(\.code)
        let want = shippedPlan.indicators.filter { i in
            (request.objective.map { i.objective == $0 } ?? true)
                && (request.category.map { i.category == $0 } ?? true)
                && (request.serviceArea.map { i.serviceArea == $0 } ?? true)
                && (request.ownerPost.map { i.ownerPost == $0 } ?? true)
        }.map(\.code)
        #expect(!want.isEmpty)
        #expect(got == want)
    }

    @Test func indicatorListOwnerFilterAcceptsAnAlias() throws {
        let post = try #require(shippedPlan.posts.first { post in
            !post.aliases.isEmpty && shippedPlan.indicators.contains { $0.ownerPost == post.name }
        })
        let byAlias = try client.call(IndicatorListRequest(ownerPost: post.aliases[0])).indicators.map(\.code)
        let byName = try client.call(IndicatorListRequest(ownerPost: post.name)).indicators.map(\.code)
        #expect(byAlias == byName)
    }

    @Test func indicatorListRefusesUnknownFilters() throws {
        #expect(client.error(IndicatorListRequest(objective: "CS9"))?.code == .notFound)
        #expect(client.error(IndicatorListRequest(serviceArea: "Nowhere"))?.code == .notFound)
        #expect(client.error(IndicatorListRequest(ownerPost: "Head of Nothing"))?.code == .notFound)
    }

    /// The loaded figures for every indicator equal the data file's.
    @Test func everyIndicatorShowsTheDocumentsFigures() throws {
        for want in shippedPlan.indicators {
            let got = try client.call(IndicatorShowRequest(code: want.code))
            let i = got.indicator
            #expect(i.code == want.code)
            #expect(i.title == want.title)
            #expect(i.category == want.category && i.unit == want.unit && i.polarity == want.polarity && i.frequency == want.frequency)
            #expect(i.objective == want.objective)
            #expect(i.serviceArea == want.serviceArea)
            #expect(i.ownerPost == want.ownerPost)
            #expect(got.ownerFromDocument == want.ownerFromDocument)
            #expect(i.parent == want.parent)
            #expect(i.isNew == want.isNew)
            #expect(i.tolerance == want.tolerance)
            #expect(got.comments == want.comments)
            #expect(Set(got.aliases) == Set(want.aliases))
            #expect(got.actuals == want.actuals.compactMapValues { $0 }, "\(want.code) actuals")
            #expect(got.targets == want.targets.compactMapValues { $0 }, "\(want.code) targets")
            #expect(got.children == shippedPlan.indicators.filter { $0.parent == want.code }.map(\.code))
            #expect(i.periods.allSatisfy { $0.figure == nil })
        }
    }

    @Test func indicatorShowTakesAliasesAndAnyCase() throws {
        let withAlias = try #require(shippedPlan.indicators.first { !$0.aliases.isEmpty })
        #expect(try client.call(IndicatorShowRequest(code: withAlias.aliases[0])).indicator.code == withAlias.code)
        #expect(try client.call(IndicatorShowRequest(code: "coms_011")).indicator.code == "ComS_011")
        let error = client.error(IndicatorShowRequest(code: "ComS_999"))
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("ComS_999") == true)
    }
}

/// A re-import that changes an indicator's frequency, or the plan's years, under figures
/// already stored: every read still answers (figures outside the new shape are left out),
/// and the daemon keeps running.
@Suite("indicators after the plan changes shape")
struct IndicatorReshapeTests {
    @Test func readsSurviveAChangedFrequencyAndShorterYears() throws {
        let daemon = try TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])
        let c = try daemon.client()
        _ = try c.call(FigureSubmitRequest(code: "ComS_011", period: Period("2026/27 Q1")!, value: 440))
        _ = try c.call(FigureSubmitRequest(code: "ComS_012", period: Period("2025/26 Q4")!, value: 90))
        var plan = try JSONSerialization.jsonObject(with: Data(shippedPlanText.utf8)) as? [String: Any] ?? [:]
        var indicators = plan["indicators"] as? [[String: Any]] ?? []
        for index in indicators.indices where indicators[index]["code"] as? String == "ComS_011" {
            indicators[index]["frequency"] = "annual"
        }
        plan["indicators"] = indicators
        if var header = plan["plan"] as? [String: Any] {
            header["firstYear"] = "2026/27"
            plan["plan"] = header
        }
        let text = String(decoding: try JSONSerialization.data(withJSONObject: plan), as: UTF8.self)
        let imported = try c.call(PlanImportRequest(content: text, source: "reshaped.json"))
        #expect(imported.changedRows > 0)
        #expect(try c.call(IndicatorShowRequest(code: "ComS_011")).indicator.frequency == .annual)
        for code in ["ComS_011", "ComS_012"] {
            let shown = Result { try c.call(IndicatorShowRequest(code: code)) }
            if case .failure(let error) = shown { #expect(!"\(error)".contains("internal"), "\(code): \(error)") }
        }
        _ = try c.call(IndicatorListRequest())
        // The quarter's figure stays history: validating it is refused, not a crash.
        let validate = try #require(c.error(FigureValidateRequest(code: "ComS_011", period: Period("2026/27 Q1")!)))
        #expect(validate.code == .invalidParams && validate.data?["param"] == "period", "\(validate)")
        let outside = try #require(c.error(FigureValidateRequest(code: "ComS_012", period: Period("2025/26 Q4")!)))
        #expect(outside.code == .invalidParams, "\(outside)")
        _ = try c.call(ReportRequest(period: Period("2026/27 Q1")!))
        #expect(daemon.process.isRunning)
        #expect(try c.call(HelloRequest()).server == "bbcsd")
    }
}
