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
