import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Synchronization
import Testing

/// Real Unix accounts for permission tests, created once with useradd (root only).
enum TestAccounts {
    static let available = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/useradd")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")

    /// One useradd at a time: suites run in parallel, and useradd refuses while another holds /etc/passwd.
    private static let creating = Mutex(())

    /// The account's uid and gid, creating a system account without a home or shell if needed.
    static func ensure(_ login: String) throws -> (uid: UInt32, gid: UInt32) {
        try creating.withLock { _ in
            var attempts = 0
            while getpwnam(login) == nil {
                let result = try runProgram("/usr/sbin/useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                                                                  "--user-group", login])
                attempts += 1
                if result.status != 0 && getpwnam(login) == nil {
                    // Exit status 10: the password file is locked by someone else for a moment.
                    guard attempts < 10 else { throw HarnessError(description: "useradd \(login) failed: \(result.err)") }
                    usleep(200_000)
                }
            }
        }
        let entry = getpwnam(login)!.pointee
        return (entry.pw_uid, entry.pw_gid)
    }

    /// The client at `ctl` run as `account`'s uid and gid, with no supplementary groups, on `socket`.
    static func run(_ account: (uid: UInt32, gid: UInt32), _ ctl: String, socket: String,
                    _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runProgram("/usr/bin/setpriv", ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--",
                                            ctl, "--socket", socket] + arguments)
    }
}

/// Every mutating method tried by seven real Unix identities over the real socket: each
/// cell is allowed or refused as the permission model says, a refusal changes nothing
/// and is audited.
@Suite("permission matrix", .serialized, .enabled(if: TestAccounts.available, "needs root to create test accounts and run setpriv"))
struct PermissionTests {
    enum Role: String, CaseIterable {
        case admin, owner1, owner2, expired, viewer, disabled, stranger
        var login: String { "bbcs-t-\(rawValue)" }
    }

    static let ownerPost1 = "Head of Communities and Community Safety"   // owns ComS_011
    static let ownerPost2 = "Licensing Manager"                          // owns ComS_093a

    let daemon: TestDaemon
    let ctl: String
    let accounts: [Role: (uid: UInt32, gid: UInt32)]
    let db: PGConnection

    /// Copies a program through a close-on-exec descriptor: a process another test spawns
    /// meanwhile must not inherit it open for writing, or running the copy fails with ETXTBSY.
    static func copyExecutable(_ source: String, to destination: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        let fd = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw HarnessError(description: "cannot create \(destination): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw HarnessError(description: "short write to \(destination)") }
    }

    init() throws {
        var accounts: [Role: (uid: UInt32, gid: UInt32)] = [:]
        for role in Role.allCases { accounts[role] = try TestAccounts.ensure(role.login) }
        self.accounts = accounts
        daemon = try TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])
        // The test accounts must reach the client binary whatever the checkout's permissions.
        ctl = daemon.directory.appendingPathComponent("bbcsctl").path
        try Self.copyExecutable(binDirectory.appendingPathComponent("bbcsctl").path, to: ctl)
        db = try PGConnection(conninfo: daemon.database)

        let c = try daemon.client()
        for role in Role.allCases where role != .stranger {
            _ = try c.call(UserAddRequest(login: role.login, email: "\(role.login)@example.org"))
        }
        _ = try c.call(PostGrantRequest(login: Role.admin.login, post: Policy.adminPost))
        _ = try c.call(PostGrantRequest(login: Role.owner1.login, post: Self.ownerPost1))
        _ = try c.call(PostGrantRequest(login: Role.owner2.login, post: Self.ownerPost2))
        _ = try c.call(PostGrantRequest(login: Role.expired.login, post: Self.ownerPost1,
                                        from: CalendarDate(iso: "2026-04-01"), until: CalendarDate(iso: "2026-06-30")))
        _ = try c.call(PostGrantRequest(login: Role.disabled.login, post: Self.ownerPost1))
        _ = try c.call(UserDisableRequest(login: Role.disabled.login))
        _ = try c.call(UserAddRequest(login: "daemon"))
    }

    /// Runs bbcsctl as `role`'s uid and gid, with no supplementary groups.
    func run(_ role: Role, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try TestAccounts.run(accounts[role]!, ctl, socket: daemon.socketPath, ["--json"] + arguments)
    }

    /// A digest of every table a change could touch (the audit trail apart).
    func snapshot() throws -> String {
        let tables = ["users", "post_holders", "posts", "figures", "figure_validations", "indicator_values", "target_changes",
                      "indicators", "plans"]
        return try tables.map { table in
            try db.query("SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \(table) t").text(0, 0)
        }.joined(separator: ",")
    }

    func lastAudit() throws -> (id: Int, login: String, method: String, outcome: String) {
        let row = try db.query("SELECT id, login, method, outcome FROM audit ORDER BY id DESC LIMIT 1")
        return (try row.int(0, 0), try row.text(0, 1), try row.text(0, 2), try row.text(0, 3))
    }

    struct Cell {
        var method: String
        var allowed: Set<Role>
        var arguments: (Role) -> [String]
    }

    @Test func everyMutatingMethodForEveryIdentity() throws {
        let plan = daemon.directory.appendingPathComponent("revised-plan.json")
        let revised = try String(contentsOf: shippedPlanURL, encoding: .utf8)
            .replacingOccurrences(of: shippedPlan.plan.vision, with: shippedPlan.plan.vision + " (revised)")
        try revised.write(to: plan, atomically: true, encoding: .utf8)
        chmod(plan.path, 0o644)

        var revision = 1
        func quarter(_ role: Role, _ first: Role, _ second: Role) -> String {
            role == first ? "2025/26 Q1" : role == second ? "2025/26 Q2" : "2025/26 Q3"
        }
        let cells = [
            Cell(method: "figure.submit", allowed: [.admin, .owner1]) { ["figure", "submit", "ComS_011", quarter($0, .admin, .owner1), "400"] },
            Cell(method: "figure.submit", allowed: [.admin, .owner2]) { ["figure", "submit", "ComS_093a", quarter($0, .admin, .owner2), "10"] },
            Cell(method: "figure.correct", allowed: [.admin, .owner1]) { _ in
                ["figure", "correct", "ComS_011", "2025/26 Q1", "390", "--reason", "recount", "--revision", "\(revision)"]
            },
            Cell(method: "figure.validate", allowed: [.admin]) { _ in ["figure", "validate", "ComS_011", "2025/26 Q2"] },
            Cell(method: "target.set", allowed: [.admin]) { _ in ["target", "set", "ComS_011", "2027/28", "1700", "--reason", "review"] },
            Cell(method: "user.add", allowed: [.admin]) { _ in ["user", "add", "nobody"] },
            Cell(method: "user.disable", allowed: [.admin]) { _ in ["user", "disable", "daemon"] },
            Cell(method: "user.enable", allowed: [.admin]) { _ in ["user", "enable", "daemon"] },
            Cell(method: "post.add", allowed: [.admin]) { ["post", "add", "Matrix Post \($0.rawValue)"] },
            Cell(method: "post.grant", allowed: [.admin]) { _ in ["post", "grant", "daemon", "Parks and Open Spaces Manager"] },
            Cell(method: "post.revoke", allowed: [.admin]) { _ in ["post", "revoke", "daemon", "Parks and Open Spaces Manager"] },
            Cell(method: "plan.import", allowed: [.admin]) { _ in ["plan", "import", plan.path] },
        ]
        for cell in cells {
            for role in Role.allCases {
                let before = try snapshot()
                let auditBefore = try lastAudit().id
                let result = try run(role, cell.arguments(role))
                let audit = try lastAudit()
                let where_ = "\(cell.method) as \(role): \(result.err)"
                if cell.allowed.contains(role) {
                    #expect(result.status == 0, "\(where_)")
                    #expect(try snapshot() != before, "\(where_) changed nothing")
                    #expect(audit.id > auditBefore && audit.login == role.login && audit.method == cell.method && audit.outcome == "ok",
                            "\(where_) audit \(audit)")
                    if cell.method == "figure.correct" { revision += 1 }
                } else {
                    let expected = role == .stranger ? "unauthenticated" : "permission_denied"
                    // The refusal is stderr's last line (plan import first says what it reads).
                    let line = result.err.split(separator: "\n").last.map(String.init) ?? ""
                    let reply = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: [String: Any]]
                    #expect(result.status == 77, "\(where_)")
                    #expect(reply?["error"]?["code"] as? String == expected, "\(where_)")
                    #expect(try snapshot() == before, "\(where_) changed something")
                    #expect(audit.id == auditBefore + 1 && audit.login == role.login && audit.method == cell.method
                            && audit.outcome == (role == .stranger ? "unauthenticated" : "denied"), "\(where_) audit \(audit)")
                }
            }
        }
    }

    @Test func readsAreForRegisteredActiveUsers() throws {
        // The report is for every registered user, and nobody else.
        let report = try run(.viewer, ["report", "--period", "2025/26 Q2", "--format", "csv"])
        #expect(report.status == 0 && report.out.hasPrefix("plan,record,section,code"), "\(report.err)")
        #expect(try run(.stranger, ["report", "--period", "2025/26 Q2"]).status == 77)
        #expect(try run(.disabled, ["report", "--period", "2025/26 Q2"]).status == 77)
        #expect(try run(.viewer, ["indicators"]).status == 0)
        #expect(try run(.expired, ["figure", "history", "ComS_011"]).status == 0)
        let stranger = try run(.stranger, ["indicators"])
        #expect(stranger.status == 77 && stranger.err.contains("unauthenticated"))
        let disabled = try run(.disabled, ["tasks"])
        #expect(disabled.status == 77 && disabled.err.contains("permission_denied"))
        // The handshake answers anyone, with the identity the kernel gave.
        let hello = try run(.stranger, ["whoami"])
        #expect(hello.status == 0 && hello.out.contains(Role.stranger.login))
        // Cover that has ended confers nothing; current posts are listed.
        let expired = try JSONSerialization.jsonObject(with: Data(try run(.expired, ["whoami"]).out.utf8)) as? [String: Any]
        #expect(expired?["posts"] as? [String] == [])
        let owner = try JSONSerialization.jsonObject(with: Data(try run(.owner1, ["whoami"]).out.utf8)) as? [String: Any]
        #expect(owner?["posts"] as? [String] == [Self.ownerPost1])
        let audit = try daemon.client().call(AuditListRequest(user: Role.stranger.login, limit: 1)).entries
        #expect(audit.first?.outcome == .unauthenticated && audit.first?.method == "indicator.list")
    }

    /// Permission is checked again by the statement that writes: a revoke of the holding a
    /// figure relies on cannot commit between the daemon reading the owner's posts and storing
    /// the figure. The figure's write is held on a lock of the figures table while the revoke is
    /// asked for; either the revoke waits for the figure, or (as the one-statement write
    /// meets it, before it has locked the holding) the revoke commits first and the figure is
    /// refused and audited. Never both the revoke and then the figure.
    @Test func aRevokeCannotSlipBetweenThePermissionCheckAndTheWrite() throws {
        let blocker = try PGConnection(conninfo: daemon.database)
        try blocker.query("BEGIN")
        try blocker.query("LOCK TABLE figures IN ACCESS EXCLUSIVE MODE")
        func waitingOnLocks() throws -> Int {
            try db.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").int(0, 0)
        }
        func eventually(_ condition: () throws -> Bool) throws -> Bool {
            for _ in 0..<200 { if try condition() { return true }; usleep(50_000) }
            return false
        }
        let (ctl, socket, owner, daemon, db) = (self.ctl, daemon.socketPath, accounts[.owner1]!, daemon, db)
        let submit = Background {
            try runProgram("/usr/bin/setpriv", ["--reuid=\(owner.uid)", "--regid=\(owner.gid)", "--clear-groups", "--",
                                                ctl, "--socket", socket, "figure", "submit", "ComS_011", "2025/26 Q4", "400", "--note", "Q4"])
        }
        #expect(try eventually { try waitingOnLocks() == 1 }, "the submission never reached the figures table")
        let revoke = Background { try daemon.client().call(PostRevokeRequest(login: Role.owner1.login, post: Self.ownerPost1)) }
        // Without the write's own confirmation the revoke commits at once; with it, it waits.
        _ = try eventually { try waitingOnLocks() == 2 || db.query("SELECT 1 FROM audit WHERE method = 'post.revoke'").count > 0 }
        try blocker.query("COMMIT")
        let submitted = try submit.value()
        _ = try revoke.value()
        let order = try db.query("SELECT method FROM audit WHERE outcome = 'ok' AND method IN ('figure.submit', 'post.revoke') ORDER BY id")
        let methods = try order.map { try order.text($0, 0) }
        if submitted.status == 0 {
            #expect(methods == ["figure.submit", "post.revoke"], "the revoke committed before the figure it should have stopped")
        } else {
            #expect(submitted.status == 77 && submitted.err.contains("may be changed by holders of"), "\(submitted.err)")
            #expect(methods == ["post.revoke"])
            #expect(try db.query("SELECT count(*) FROM figures WHERE period = '2025/26 Q4' AND submitted_by = $1", [Role.owner1.login]).int(0, 0) == 0)
            #expect(try eventually { try db.query("""
                SELECT 1 FROM audit WHERE method = 'figure.submit' AND outcome = 'denied' AND login = $1 AND object = 'ComS_011'
                """, [Role.owner1.login]).count > 0 }, "the refusal is audited")
        }
    }

    /// E-mail addresses are for administrators, and for each user's own row.
    @Test func emailAddressesAreShownToAdministratorsAndToTheirOwner() throws {
        func emails(as role: Role) throws -> [String: String] {
            let listed = try run(role, ["user", "list"])
            let object = try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [String: Any]
            let users = try #require(object?["users"] as? [[String: Any]], "\(listed.err)")
            return Dictionary(uniqueKeysWithValues: users.compactMap { u in
                (u["login"] as? String).flatMap { login in (u["email"] as? String).map { (login, $0) } }
            })
        }
        #expect(try emails(as: .viewer) == [Role.viewer.login: "\(Role.viewer.login)@example.org"])
        #expect(try emails(as: .owner1) == [Role.owner1.login: "\(Role.owner1.login)@example.org"])
        let all = try emails(as: .admin)
        for role in Role.allCases where role != .stranger { #expect(all[role.login] == "\(role.login)@example.org") }
    }

    /// The issue's "done when": an owner submits and corrects a quarterly figure for an
    /// indicator their post owns, is refused for one it does not, and an administrator sees
    /// all of it in `bbcsctl audit`.
    @Test func anOwnerSubmitsCorrectsAndIsRefusedAndTheAdminSeesIt() throws {
        #expect(try run(.owner2, ["figure", "submit", "ComS_093b", "2025/26 Q4", "20"]).status == 0)
        #expect(try run(.owner2, ["figure", "correct", "ComS_093b", "2025/26 Q4", "21", "--reason", "late referral"]).status == 0)
        #expect(try run(.owner2, ["figure", "submit", "ComS_011", "2025/26 Q4", "400"]).status == 77)
        let audit = try run(.admin, ["audit", "--user", Role.owner2.login])
        #expect(audit.status == 0, "\(audit.err)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(audit.out.utf8)) as? [String: [[String: Any]]])["entries"]
        let summary = try #require(entries).prefix(3).map { "\($0["method"] as? String ?? "") \($0["object"] as? String ?? "") \($0["outcome"] as? String ?? "")" }
        #expect(summary == ["figure.submit ComS_011 denied", "figure.correct ComS_093b ok", "figure.submit ComS_093b ok"])
    }
}
