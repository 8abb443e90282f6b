import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// Every read method, over the real socket, against the plan as the data file has it.
@Suite("read methods")
struct ReadMethodTests {
    /// One daemon for all read-only tests; they change nothing.
    static let daemon = try! TestDaemon()
    let client: Client

    init() throws { client = try Self.daemon.client() }

    @Test func helloReportsTheKernelIdentity() throws {
        let hello = try client.call(HelloRequest())
        #expect(hello.server == "bbcsd")
        #expect(hello.protocolVersion == protocolVersion)
        #expect(hello.identity.uid == getuid())
        #expect(hello.identity.gid == getgid())
        #expect(hello.identity.pid == getpid())
        let name = String(cString: getpwuid(getuid())!.pointee.pw_name)
        #expect(hello.identity.user == name)
    }

    @Test func describeListsEveryMethodWithItsParameters() throws {
        let methods = try client.call(DescribeRequest()).methods
        let names = Set(methods.map(\.name))
        for expected in ["system.hello", "system.describe", "plan.show", "plan.import", "objective.list", "indicator.list",
                         "indicator.show", "task.list", "task.show", "strategy.list", "risk.list", "post.list"] {
            #expect(names.contains(expected), "\(expected) missing")
        }
        let show = try #require(methods.first { $0.name == "indicator.show" })
        #expect(show.params == [ParameterInfo("code", "string", required: true, "indicator code, e.g. ComS_011 (aliases accepted)")])
    }

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

    @Test func objectivesMatchTheDataFile() throws {
        let objectives = try client.call(ObjectiveListRequest()).objectives
        #expect(objectives.map(\.code) == shippedPlan.objectives.map(\.code))
        for (got, want) in zip(objectives, shippedPlan.objectives) {
            #expect(got.title == want.title)
            #expect(got.serviceObjectives == want.serviceObjectives)
            #expect(got.indicatorCount == shippedPlan.indicators.filter { $0.objective == want.code }.count)
            #expect(got.taskCount == shippedPlan.tasks.filter { $0.objective == want.code }.count)
        }
    }

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

    @Test func taskListHasEveryTask() throws {
        let tasks = try client.call(TaskListRequest()).tasks
        #expect(tasks.map(\.code) == shippedPlan.tasks.map(\.code))
        for (got, want) in zip(tasks, shippedPlan.tasks) {
            #expect(got.targetDate == want.targetDate && got.targetText == want.targetText)
            #expect(got.responsiblePosts == want.responsiblePosts)
            #expect(got.status == .notStarted && got.progress == 0)
        }
    }

    @Test func taskListFilters() throws {
        let before = CalendarDate(year: 2026, month: 3, day: 31), after = CalendarDate(year: 2026, month: 4, day: 1)
        #expect(try client.call(TaskListRequest(dueBefore: before)).tasks.map(\.code)
                == shippedPlan.tasks.filter { $0.targetDate.map { $0 <= before } ?? false }.map(\.code))
        #expect(try client.call(TaskListRequest(dueAfter: after)).tasks.map(\.code)
                == shippedPlan.tasks.filter { $0.targetDate.map { $0 >= after } ?? false }.map(\.code))
        #expect(try client.call(TaskListRequest(post: "Communities and Crime Manager")).tasks.map(\.code)
                == shippedPlan.tasks.filter { $0.responsiblePosts.contains("Communities and Crime Manager") }.map(\.code))
        #expect(try client.call(TaskListRequest(status: .completed)).tasks.isEmpty)
        #expect(client.error(TaskListRequest(post: "Head of Nothing"))?.code == .notFound)
    }

    @Test func everyTaskShowsTheDocumentsDetail() throws {
        for want in shippedPlan.tasks {
            let got = try client.call(TaskShowRequest(code: want.code))
            #expect(got.task.code == want.code)
            #expect(got.task.action == want.action)
            #expect(got.task.objective == want.objective)
            #expect(got.outcome == want.outcome)
            #expect(got.partners == want.partners)
            #expect(got.task.responsiblePosts == want.responsiblePosts)
            #expect(got.task.targetDate == want.targetDate)
            #expect(got.budgetComment == want.budgetComment)
            #expect(got.task.isNew == want.isNew)
            #expect(got.risks == want.risks)
            #expect(Set(got.aliases) == Set(want.aliases))
        }
        #expect(try client.call(TaskShowRequest(code: "bcrpasb_27")).task.code == "BCRPASB_27")
        #expect(client.error(TaskShowRequest(code: "NOPE_1"))?.code == .notFound)
    }

    @Test func strategiesMatchTheDataFile() throws {
        #expect(try client.call(StrategyListRequest()).strategies == shippedPlan.strategies)
    }

    @Test func risksMatchTheDataFile() throws {
        let risks = try client.call(RiskListRequest())
        #expect(risks.keyStrategicRisks == shippedPlan.keyStrategicRisks)
        #expect(risks.strategicRisks.map(\.number) == shippedPlan.strategicRisks.map(\.number).sorted())
        for entry in risks.strategicRisks {
            let cited = shippedPlan.tasks.filter { $0.risks.contains { $0.strategicRisks.contains(entry.number) } }.map(\.code)
            #expect(Set(entry.tasks) == Set(cited))
        }
        let want = shippedPlan.tasks.flatMap { task in task.risks.map { RiskRegister.TaskRisk(task: task.code, threat: $0.threat, strategicRisks: $0.strategicRisks, mitigation: $0.mitigation) } }
        #expect(risks.taskRisks == want)
    }

    @Test func postsCarryEverySpelling() throws {
        let posts = try client.call(PostListRequest()).posts
        for want in shippedPlan.posts {
            let got = try #require(posts.first { $0.name == want.name }, "\(want.name) missing")
            #expect(Set(got.aliases) == Set(want.aliases))
            #expect(got.indicatorCount == shippedPlan.indicators.filter { $0.ownerPost == want.name }.count)
            #expect(got.taskCount == shippedPlan.tasks.filter { $0.responsiblePosts.contains(want.name) }.count)
        }
    }
}
