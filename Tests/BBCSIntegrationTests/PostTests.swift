import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// post.list against the data file.
@Suite("post reads")
struct PostReadTests {
    let client: Client

    init() throws { client = try ReadOnlyDaemon.shared.client() }

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

/// Posts and holdings, as the administrator running the tests, with the daemon's clock at
/// 10 July 2026. Accounts used ("daemon") exist on every Linux host.
@Suite("posts and holdings", .serialized)
struct PostTests {
    static let daemon = try! TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])

    func client() throws -> Client { try Self.daemon.client() }

    @Test func coverEndsByItself() throws {
        let c = try client()
        _ = try? c.call(UserAddRequest(login: "daemon"))
        let post = "Licensing Manager"
        let cover = try c.call(PostGrantRequest(login: "daemon", post: post, from: CalendarDate(iso: "2026-07-01"),
                                                until: CalendarDate(iso: "2026-07-31")))
        #expect(cover.current && cover.until == CalendarDate(iso: "2026-07-31"))
        let ended = try c.call(PostGrantRequest(login: "daemon", post: "Communities and Crime Manager", from: CalendarDate(iso: "2026-06-01"),
                                                until: CalendarDate(iso: "2026-06-30")))
        #expect(!ended.current)
        #expect(try c.call(PostHoldersRequest(post: post)).holders.map(\.login) == ["daemon"])
        #expect(try c.call(PostHoldersRequest(post: "Communities and Crime Manager")).holders.isEmpty)
        #expect(try c.call(PostHoldersRequest(post: "Communities and Crime Manager", all: true)).holders.map(\.login) == ["daemon"])

        let overlap = try #require(c.error(PostGrantRequest(login: "daemon", post: post, from: CalendarDate(iso: "2026-07-15"))))
        #expect(overlap.code == .conflict)
        let backwards = try #require(c.error(PostGrantRequest(login: "daemon", post: post, from: CalendarDate(iso: "2026-08-01"),
                                                              until: CalendarDate(iso: "2026-07-01"))))
        #expect(backwards.code == .invalidParams && backwards.data?["param"] == "until")
        #expect(c.error(PostGrantRequest(login: "daemon", post: "No Such Post"))?.code == .notFound)

        let revoked = try c.call(PostRevokeRequest(login: "daemon", post: post)).revoked
        #expect(revoked.count == 1 && revoked[0].revokedBy == currentLogin)
        #expect(try c.call(PostHoldersRequest(post: post)).holders.isEmpty)
        #expect(try c.call(PostHoldersRequest(post: post, all: true)).holders.first?.revokedBy == currentLogin)
        #expect(c.error(PostRevokeRequest(login: "daemon", post: post))?.code == .notFound)
    }

    @Test func postsAreCreatedOnce() throws {
        let c = try client()
        let post = try c.call(PostAddRequest(name: "Performance Officer"))
        #expect(post.name == "Performance Officer")
        #expect(c.error(PostAddRequest(name: "performance officer"))?.code == .conflict)
        #expect(c.error(PostAddRequest(name: "  "))?.code == .invalidParams)
        #expect(try c.call(PostListRequest()).posts.contains { $0.name == "Performance Officer" })
    }
}
