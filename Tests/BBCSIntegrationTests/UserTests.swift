import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// Users and administrators, as the administrator running the tests, with the daemon's clock
/// at 10 July 2026. Accounts used ("daemon", "bin", "nobody") exist on every Linux host.
@Suite("users", .serialized)
struct UserTests {
    static let daemon = try! TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])

    func client() throws -> Client { try Self.daemon.client() }

    @Test func usersAreUnixAccounts() throws {
        let c = try client()
        let added = try c.call(UserAddRequest(login: "daemon", email: "daemon@example.org"))
        #expect(added.login == "daemon" && !added.disabled && added.posts.isEmpty)
        #expect(added.email == "daemon@example.org")
        #expect(c.error(UserAddRequest(login: "daemon"))?.code == .conflict)
        let missing = try #require(c.error(UserAddRequest(login: "no-such-account-x")))
        #expect(missing.code == .invalidParams && missing.data?["param"] == "login")
        let users = try c.call(UserListRequest()).users
        #expect(users.map(\.login).contains("daemon"))
        #expect(users.first { $0.login == currentLogin }?.posts.map(\.post) == ["admin"])
        #expect(c.error(UserDisableRequest(login: "nobody-registered"))?.code == .notFound)
        // An address goes into a mail header: one plain address, nothing smuggled after it.
        for bad in ["bin@example.org\nBcc: all@example.org", "not an address", "a@b", "Bin <bin@example.org>"] {
            let refused = try #require(c.error(UserAddRequest(login: "bin", email: bad)), "\(bad)")
            #expect(refused.code == .invalidParams && refused.data?["param"] == "email")
        }
    }

    @Test func theLastAdministratorStays() throws {
        let c = try client()
        _ = try? c.call(UserAddRequest(login: "bin"))
        // An administrator whose cover has ended does not count.
        _ = try c.call(PostGrantRequest(login: "bin", post: "admin", from: CalendarDate(iso: "2026-01-01"), until: CalendarDate(iso: "2026-06-30")))
        let revoke = try #require(c.error(PostRevokeRequest(login: currentLogin, post: "admin")))
        #expect(revoke.code == .conflict && revoke.message.contains("no administrator"))
        #expect(c.error(UserDisableRequest(login: currentLogin))?.code == .conflict)
        #expect(try c.call(HelloRequest()).posts == ["admin"])

        // With a second administrator today, the second may be disabled and re-enabled.
        _ = try c.call(PostGrantRequest(login: "bin", post: "admin", from: CalendarDate(iso: "2026-07-01")))
        #expect(try c.call(UserDisableRequest(login: "bin")).disabled)
        #expect(try c.call(PostHoldersRequest(post: "admin")).holders.map(\.login) == [currentLogin])
        #expect(try c.call(UserEnableRequest(login: "bin")).disabled == false)
        #expect(Set(try c.call(PostHoldersRequest(post: "admin")).holders.map(\.login)) == [currentLogin, "bin"])
        _ = try c.call(PostRevokeRequest(login: "bin", post: "admin"))
        #expect(c.error(PostRevokeRequest(login: currentLogin, post: "admin"))?.code == .conflict)
    }

    /// Cover that ends later does not keep the plan administered: the last administrator
    /// without an end date can be neither revoked nor disabled.
    @Test func coverDoesNotReplaceTheLastOpenEndedAdministrator() throws {
        let daemon = try TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])
        let c = try daemon.client()
        _ = try c.call(UserAddRequest(login: "bin"))
        _ = try c.call(PostGrantRequest(login: "bin", post: "admin", from: CalendarDate(iso: "2026-07-01"), until: CalendarDate(iso: "2026-12-31")))
        let revoke = try #require(c.error(PostRevokeRequest(login: currentLogin, post: "admin")))
        #expect(revoke.code == .conflict && revoke.message.contains("no administrator without an end date"), "\(revoke)")
        #expect(c.error(UserDisableRequest(login: currentLogin))?.code == .conflict)
        #expect(Set(try c.call(PostHoldersRequest(post: "admin")).holders.map(\.login)) == [currentLogin, "bin"])
        // An open-ended second administrator lets the first go.
        _ = try c.call(UserAddRequest(login: "daemon"))
        _ = try c.call(PostGrantRequest(login: "daemon", post: "admin"))
        _ = try c.call(PostRevokeRequest(login: currentLogin, post: "admin"))
    }

    @Test func bootstrapAdministratorsComeFromTheConfiguration() throws {
        let directory = makeTemporaryDirectory("bbcs-bootstrap")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("bbcsd.toml")
        try #"admins = ["daemon", "no-such-account-x"]"#.write(to: config, atomically: true, encoding: .utf8)
        let daemon = try TestDaemon(plan: nil, extraArguments: ["--config", config.path])
        let holders = try daemon.client().call(PostHoldersRequest(post: "admin")).holders.map(\.login)
        #expect(Set(holders) == [currentLogin, "daemon"])
        #expect(daemon.process.log.contains("no-such-account-x"))
        let audit = try daemon.client().call(AuditListRequest(object: "daemon")).entries
        #expect(audit.first?.login == "bbcsd" && audit.first?.method == "user.bootstrap")
    }

    @Test func clientCommandsManageUsersAndPosts() throws {
        let add = try Self.daemon.ctl(["user", "add", "nobody", "--name", "Nobody At All"])
        #expect(add.status == 0, "\(add.err)")
        let grant = try Self.daemon.ctl(["post", "grant", "nobody", "Head of Finance Services", "--until", "2026-12-31"])
        #expect(grant.status == 0, "\(grant.err)")
        #expect(grant.out.contains("Head of Finance Services"))
        let holders = try Self.daemon.ctl(["post", "holders", "Head of Finance Services"])
        #expect(holders.out.contains("nobody") && holders.out.contains("2026-12-31"))
        let list = try Self.daemon.ctl(["user", "list"])
        #expect(list.out.contains("Nobody At All"))
        let disable = try Self.daemon.ctl(["user", "disable", "nobody"])
        #expect(disable.status == 0 && disable.out.contains("disabled"))
        let last = try Self.daemon.ctl(["user", "disable", currentLogin])
        #expect(last.status == 4 && last.err.contains("no administrator"))
    }
}
